"""`flask --app service stripe reconcile`: lists every subscription (all pages, status=all) from the fake
Stripe API and repairs what webhooks missed; --dry-run writes nothing but the run record."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from service.campaigns.models import Campaign
from service.members.models import Member, Subscription
from service.payments.models import ReconciliationRun
from tests import factories
from tests.stripe_events import PRICES_SETTING, Lifecycle, customer, post, subscription


@pytest.fixture
def app_config(app_config, fake_stripe):
    return {**app_config, "STRIPE_PRICES": PRICES_SETTING, "STRIPE_API_BASE": fake_stripe.url}


@pytest.fixture
def joined(client, session, clock):
    """Two members who joined through webhooks; Stripe later canceled the first (webhook missed)."""
    factories.campaign(session, clock.now())
    session.commit()
    for n in (1, 2):
        events = Lifecycle(n=n, email=f"p{n}@example.org").events()
        for name in ("customer", "created", "first_paid"):
            assert post(client, events[name]).status_code == 200
    return session


def count(session):
    session.expire_all()
    return session.scalar(select(Campaign)).count


def stripe_list(fake_stripe, subs, page_size=2):
    def handler(req):
        after = req.params.get("starting_after")
        start = next((i + 1 for i, s in enumerate(subs) if s["id"] == after), 0)
        page = subs[start:start + page_size]
        return 200, {"object": "list", "url": "/v1/subscriptions", "data": page,
                     "has_more": start + page_size < len(subs)}

    fake_stripe.route("GET", r"/v1/subscriptions", handler)
    fake_stripe.reply("GET", r"/v1/checkout/sessions",  # no one-time payments (tests/test_contributions.py)
                      {"object": "list", "url": "/v1/checkout/sessions", "data": [], "has_more": False})


def stripe_state():
    t0 = Lifecycle().start
    canceled_at = datetime(2025, 5, 10, tzinfo=UTC)
    s1 = subscription("sub_L1", {**customer("cus_L1", "p1@example.org")}, status="canceled", created=t0,
                      canceled_at=canceled_at, ended_at=canceled_at)
    s2 = subscription("sub_L2", "cus_L2", status="active", created=t0)
    other = subscription("sub_print", "cus_x", "price_print_edition", created=t0)
    s3 = subscription("sub_missed", customer("cus_new", "new@example.org"), status="active", created=t0)
    return [s1, s2, other, s3]


def test_reconcile_fixes_a_missed_cancel_and_a_missed_subscription(runner, joined, fake_stripe, session):
    stripe_list(fake_stripe, stripe_state())
    assert count(session) == 2
    result = runner.invoke(args=["stripe", "reconcile", "--since", "2025-01-01"])
    assert result.exit_code == 0, result.output
    assert "changed sub_L1 (member 1): stripe_status active -> canceled;" in result.output
    assert "member.status active -> ended" in result.output
    assert "changed sub_missed (member 3): stripe_status None -> active;" in result.output
    assert "sub_print" not in result.output
    assert "examined 4 subscription(s), changed 2" in result.output
    requests = fake_stripe.requests_to("GET", "/v1/subscriptions")
    assert len(requests) == 2  # two pages
    assert requests[0].params["status"] == "all" and requests[0].params["limit"] == "100"
    assert requests[0].params["created"] == {"gte": str(int(datetime(2025, 1, 1, tzinfo=UTC).timestamp()))}
    assert requests[0].params["expand"] == ["data.customer"]
    assert requests[1].params["starting_after"] == "sub_L2"
    session.expire_all()
    m1 = session.scalar(select(Member).where(Member.email == "p1@example.org"))
    assert m1.status == "ended" and m1.ended_at == datetime(2025, 5, 10, tzinfo=UTC)
    assert count(session) == 1
    assert session.scalar(select(Member).where(Member.email == "new@example.org")).status == "active"
    run = session.scalar(select(ReconciliationRun))
    assert (run.dry_run, run.examined, run.changed) == (False, 4, 2) and run.finished_at is not None
    summary = json.loads(run.summary)
    assert {c["subscription"] for c in summary["changes"]} == {"sub_L1", "sub_missed"}
    # A second run finds nothing to change.
    result = runner.invoke(args=["stripe", "reconcile"])
    assert "examined 4 subscription(s), changed 0" in result.output


def test_dry_run_changes_nothing(runner, joined, fake_stripe, session):
    stripe_list(fake_stripe, stripe_state())
    before = session.execute(select(Subscription.stripe_id, Subscription.status, Subscription.last_event_at)
                             .order_by(Subscription.stripe_id)).all()
    result = runner.invoke(args=["stripe", "reconcile", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "would change sub_L1" in result.output
    assert "would change 2 (dry run: nothing written)" in result.output
    session.expire_all()
    after = session.execute(select(Subscription.stripe_id, Subscription.status, Subscription.last_event_at)
                            .order_by(Subscription.stripe_id)).all()
    assert after == before and count(session) == 2
    assert session.scalar(select(func.count(Member.id))) == 2
    run = session.scalar(select(ReconciliationRun))
    assert (run.dry_run, run.changed) == (True, 2)


def test_reconcile_never_overwrites_newer_webhook_state(runner, joined, fake_stripe, session, client, clock):
    """A webhook created after the reconciliation's observation wins over it, whatever the arrival order."""
    stripe_list(fake_stripe, [subscription("sub_L2", "cus_L2", status="active", created=Lifecycle().start)])
    later = Lifecycle(n=2, email="p2@example.org")
    canceled = later.events()["canceled"]
    canceled["created"] = int(clock.now().timestamp()) + 60  # after the reconciliation ran
    assert runner.invoke(args=["stripe", "reconcile"]).exit_code == 0
    post(client, canceled)
    session.expire_all()
    assert session.scalar(select(Subscription.status).where(Subscription.stripe_id == "sub_L2")) == "canceled"
    assert runner.invoke(args=["stripe", "reconcile"]).exit_code == 0  # observed "active" now: older than that
    session.expire_all()
    assert session.scalar(select(Subscription.status).where(Subscription.stripe_id == "sub_L2")) == "canceled"


def test_stripe_error_during_reconcile_exits_1_with_request_id(runner, joined, fake_stripe, session):
    fake_stripe.error("GET", r"/v1/subscriptions", status=500, type_="api_error", request_id="req_rec_1")
    result = runner.invoke(args=["stripe", "reconcile"])
    assert result.exit_code == 1 and "req_rec_1" in result.output
    assert "Traceback" not in result.output
