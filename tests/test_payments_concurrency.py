"""Eight deliveries at once (the same event several times included) against the app served by werkzeug
on 127.0.0.1: one member per person, each event applied once, the count exact. SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from service.campaigns.models import Campaign
from service.members.models import Member, Subscription
from service.payments.models import WebhookEvent
from tests import factories
from tests.stripe_events import PRICES_SETTING, Lifecycle, signed
from tests.support import ThreadedServer


@pytest.fixture
def app_config(app_config):
    return {**app_config, "STRIPE_PRICES": PRICES_SETTING, "RATELIMIT_ENABLED": False}


@pytest.fixture
def served(app, session, clock):
    factories.campaign(session, clock.now())
    session.commit()
    session.remove()
    with ThreadedServer(app) as server:
        yield server.url


def deliver(url: str, event: dict) -> int:
    body, headers = signed(event)
    req = urllib.request.Request(f"{url}/v1/webhooks/stripe", data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:  # noqa: S310 - 127.0.0.1 only
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code


def storm(url: str, events: list[dict], workers: int = 8) -> list[int]:
    barrier = threading.Barrier(min(workers, len(events)))

    def one(ev: dict) -> int:
        try:
            barrier.wait(timeout=10)
        except threading.BrokenBarrierError:
            pass
        return deliver(url, ev)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(one, events))


def test_same_event_eight_times_at_once_is_applied_once(served, session):
    events = Lifecycle().events()
    statuses = storm(served, [events["first_paid"]] * 8)
    assert statuses == [200] * 8
    session.expire_all()
    row = session.scalar(select(WebhookEvent))
    assert (row.status, row.attempts) == ("applied", 1)
    assert session.scalar(select(func.count(Member.id))) == 1
    assert session.scalar(select(Campaign)).count == 1


def test_a_storm_of_lifecycles_with_duplicates_and_shared_emails(served, session):
    """Eight threads deliver four memberships' events (two people share an email, different customers),
    each event twice, in an interleaved order: one member per person and the exact count."""
    people = [Lifecycle(n=1, email="a@example.org"), Lifecycle(n=2, email="b@example.org"),
              Lifecycle(n=3, email="shared@example.org"), Lifecycle(n=4, email="shared@example.org")]
    chosen = ("checkout", "customer", "created", "first_paid", "first_payment", "renewed", "renewal_paid")
    batch = []
    for name in chosen:
        for p in people:
            batch.append(p.events()[name])
    batch = batch + list(reversed(batch))
    extra = [people[1].events()["canceled"], people[0].events()["refunded"]]
    statuses = storm(served, batch + extra + extra)
    assert set(statuses) == {200}, statuses
    session.expire_all()
    assert session.scalar(select(func.count(WebhookEvent.id))) == len(chosen) * 4 + 2
    assert set(session.scalars(select(WebhookEvent.attempts))) == {1}
    emails = sorted(session.scalars(select(Member.email)))
    assert emails == ["a@example.org", "b@example.org", "shared@example.org"]
    assert session.scalar(select(func.count(Subscription.id))) == 4
    # a: refunded first payment; b: canceled; shared: counted once.
    assert session.scalar(select(Campaign)).count == 1
