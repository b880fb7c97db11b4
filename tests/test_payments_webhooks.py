"""Stripe webhooks: signatures, the ledger (exactly once), failures and retries, handled events."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from service.campaigns.models import Campaign
from service.members.models import Member, MemberStatusChange, Subscription
from service.payments.models import WebhookEvent
from tests import factories
from tests.stripe_events import (
    PRICES_SETTING,
    SECRET,
    Lifecycle,
    build_event,
    dumps,
    post,
    sign,
    signed,
    subscription,
)


@pytest.fixture
def app_config(app_config):
    return {**app_config, "STRIPE_PRICES": PRICES_SETTING, "STRIPE_WEBHOOK_SECRET": f"{SECRET},whsec_old_secret"}


@pytest.fixture
def campaign(session, clock):
    c = factories.campaign(session, clock.now())
    session.commit()
    return c


def count(session, slug="members-25k"):
    session.expire_all()
    return session.scalar(select(Campaign).where(Campaign.slug == slug)).count


def member(session, email="reader1@example.org"):
    """The member with this email, or the only member (its email may not be known yet)."""
    session.expire_all()
    found = session.scalar(select(Member).where(Member.email == email))
    if found is None and session.scalar(select(func.count(Member.id))) == 1:
        found = session.scalar(select(Member))
    return found


def ledger(session, event_id):
    session.expire_all()
    return session.scalar(select(WebhookEvent).where(WebhookEvent.stripe_event_id == event_id))


# --- signatures -------------------------------------------------------------------------------------

def _sub_event():
    return Lifecycle().events()["created"]


def test_valid_signature_is_applied(client, session, campaign):
    ev = _sub_event()
    r = post(client, ev)
    assert r.status_code == 200, r.get_json()
    assert r.get_json() == {"received": True, "event": ev["id"], "outcome": "applied"}
    row = ledger(session, ev["id"])
    assert (row.status, row.attempts, row.type, row.object_id) == ("applied", 1, ev["type"], "sub_L1")
    assert row.api_version == ev["api_version"] and row.created == datetime.fromtimestamp(ev["created"], UTC)


@pytest.mark.parametrize("case", ["missing", "wrong_secret", "tampered", "expired", "garbage_header",
                                  "not_json", "not_an_event"])
def test_signature_failures_are_400_and_apply_nothing(client, session, case):
    ev = _sub_event()
    payload = dumps(ev)
    headers = {"Stripe-Signature": sign(payload), "Content-Type": "application/json"}
    body = payload.encode()
    if case == "missing":
        headers.pop("Stripe-Signature")
    elif case == "wrong_secret":
        headers["Stripe-Signature"] = sign(payload, "whsec_someone_else")
    elif case == "tampered":
        body = payload.replace('"active"', '"canceled"').encode()
    elif case == "expired":
        headers["Stripe-Signature"] = sign(payload, SECRET, int(time.time()) - 301)
    elif case == "garbage_header":
        headers["Stripe-Signature"] = "nonsense"
    elif case == "not_json":
        body = b"hello"
        headers["Stripe-Signature"] = sign("hello")
    elif case == "not_an_event":  # signed, but no id to store it under (tests/test_trust_webhooks.py)
        body = json.dumps({"object": "customer", "email": "x@example.org"}).encode()
        headers["Stripe-Signature"] = sign(body.decode())
    r = client.post("/v1/webhooks/stripe", data=body, headers=headers)
    assert r.status_code == 400
    assert r.mimetype == "application/problem+json"
    assert r.get_json()["status"] == 400
    assert session.scalar(select(func.count(WebhookEvent.id))) == 0
    assert session.scalar(select(func.count(Member.id))) == 0


def test_rotated_secret_is_accepted(client, session):
    ev = _sub_event()
    r = post(client, ev, secret="whsec_old_secret")
    assert r.status_code == 200
    assert ledger(session, ev["id"]).status == "applied"


def test_recent_timestamp_inside_tolerance_is_accepted(client):
    body, headers = signed(_sub_event(), SECRET, int(time.time()) - 200)
    assert client.post("/v1/webhooks/stripe", data=body, headers=headers).status_code == 200


def test_body_over_1_mib_is_413_problem(client, session):
    ev = _sub_event()
    ev["data"]["object"]["metadata"] = {"pad": "x" * (1024 * 1024)}
    r = post(client, ev)
    assert r.status_code == 413
    assert r.mimetype == "application/problem+json"
    assert session.scalar(select(func.count(WebhookEvent.id))) == 0


# --- ledger -----------------------------------------------------------------------------------------

def test_duplicate_delivery_answers_200_and_changes_nothing(client, session, campaign):
    events = Lifecycle().events()
    for name in ("created", "first_paid"):
        assert post(client, events[name]).status_code == 200
    assert count(session) == 1
    before = (member(session).updated_at, ledger(session, "evt_L1_first_paid").attempts)
    r = post(client, events["first_paid"])
    assert r.status_code == 200 and r.get_json()["outcome"] == "duplicate"
    assert count(session) == 1
    assert (member(session).updated_at, ledger(session, "evt_L1_first_paid").attempts) == before
    assert session.scalar(select(func.count(WebhookEvent.id))) == 2


def test_unhandled_type_is_stored_as_ignored(client, session):
    ev = build_event("plan.created", {"id": "plan_1", "object": "plan"}, created=1_750_000_000)
    r = post(client, ev)
    assert r.status_code == 200 and r.get_json()["outcome"] == "ignored"
    assert ledger(session, ev["id"]).status == "ignored"


def test_handler_crash_is_recorded_then_retry_applies(client, session, campaign, monkeypatch):
    from service.payments import handlers

    real = handlers.HANDLERS["invoice.paid"]
    calls = {"n": 0}

    def flaky(ctx, obj):
        calls["n"] += 1
        real(ctx, obj)  # its effects must be rolled back
        if calls["n"] == 1:
            raise RuntimeError("boom")
        return "applied"

    monkeypatch.setitem(handlers.HANDLERS, "invoice.paid", flaky)
    events = Lifecycle().events()
    post(client, events["created"])
    r = post(client, events["first_paid"])
    assert r.status_code == 500 and r.mimetype == "application/problem+json"
    row = ledger(session, "evt_L1_first_paid")
    assert (row.status, row.attempts) == ("failed", 1) and "boom" in row.last_error
    assert member(session).first_paid_at is None and count(session) == 0
    r = post(client, events["first_paid"])  # Stripe's retry
    assert r.status_code == 200 and r.get_json()["outcome"] == "applied"
    row = ledger(session, "evt_L1_first_paid")
    assert (row.status, row.attempts, row.last_error) == ("applied", 2, "")
    assert member(session).first_paid_at is not None and count(session) == 1


def test_replay_failed_events_from_cli(client, session, campaign, monkeypatch, runner):
    from service.payments import handlers

    def broken(ctx, obj):
        raise RuntimeError("database hiccup")

    events = Lifecycle().events()
    monkeypatch.setitem(handlers.HANDLERS, "invoice.paid", broken)
    post(client, events["created"])
    assert post(client, events["first_paid"]).status_code == 500
    result = runner.invoke(args=["webhooks", "replay", "--failed"])
    assert result.exit_code == 1 and "evt_L1_first_paid invoice.paid: failed" in result.output
    assert ledger(session, "evt_L1_first_paid").attempts == 2
    monkeypatch.undo()
    result = runner.invoke(args=["webhooks", "replay", "--failed"])
    assert result.exit_code == 0, result.output
    assert "evt_L1_first_paid invoice.paid: applied" in result.output
    assert "Replayed 1 event(s): 1 applied" in result.output
    assert count(session) == 1
    result = runner.invoke(args=["webhooks", "replay", "evt_L1_created", "evt_nope"])
    assert "evt_L1_created customer.subscription.created: applied" in result.output
    assert "evt_nope -: missing" in result.output and result.exit_code == 1
    assert count(session) == 1


# --- events -----------------------------------------------------------------------------------------

def test_join_sets_member_attribution_and_counts(client, session, campaign):
    events = Lifecycle().events()
    for name in ("checkout", "created", "first_paid"):
        assert post(client, events[name]).status_code == 200
    m = member(session)
    assert (m.status, m.plan, m.locale, m.source) == ("active", "monthly", "uk", "article:a1")
    assert m.first_paid_at == datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
    assert m.ended_at is None and count(session) == 1
    sub = session.scalar(select(Subscription))
    assert (sub.stripe_id, sub.customer_id, sub.campaign, sub.status) == ("sub_L1", "cus_L1", "members-25k", "active")
    assert sub.current_period_end == datetime(2025, 3, 31, 9, 0, tzinfo=UTC)
    history = session.scalars(select(MemberStatusChange)).all()
    assert [(h.from_status, h.to_status) for h in history] == [("pending", "active")]


def test_subscription_before_email_then_email_arrives(client, session, campaign):
    events = Lifecycle().events()
    post(client, events["created"])
    m = session.scalar(select(Member))
    assert m.email.endswith("@stripe-customer.invalid") and m.status == "active"
    post(client, events["customer"])
    assert member(session) is not None and session.scalar(select(func.count(Member.id))) == 1


def test_two_customers_one_person_is_one_member(client, session, campaign):
    a = Lifecycle(n=1, email="Same@Example.org").events()
    b = Lifecycle(n=2, email="same@example.org").events()
    for ev in (a["created"], b["created"], a["first_paid"], b["first_paid"], a["customer"], b["customer"]):
        assert post(client, ev).status_code == 200
    assert session.scalar(select(func.count(Member.id))) == 1
    assert count(session) == 1
    m = member(session, "same@example.org")
    assert {s.stripe_id for s in session.scalars(select(Subscription))} == {"sub_L1", "sub_L2"}
    assert all(s.member_id == m.id for s in session.scalars(select(Subscription)))


def test_cancel_ends_membership_and_bumps_token_version(client, session, campaign):
    events = Lifecycle().events()
    for name in ("created", "first_paid"):
        post(client, events[name])
    version = member(session).token_version
    post(client, events["canceled"])
    m = member(session)
    assert (m.status, m.ended_at) == ("ended", datetime(2025, 5, 2, 9, 0, tzinfo=UTC))
    assert m.token_version == version + 1
    assert count(session) == 0


def test_payment_failed_is_past_due_and_still_counts(client, session, campaign):
    events = Lifecycle().events()
    for name in ("created", "first_paid", "payment_failed"):
        post(client, events[name])
    assert member(session).status == "past_due" and count(session) == 1
    assert session.scalar(select(Subscription)).status == "past_due"


@pytest.mark.parametrize("mode", ["net", "gross"])
@pytest.mark.parametrize("reversal", ["refunded", "dispute_lost"])
@pytest.mark.parametrize("link_first", [True, False])
def test_reversal_of_first_payment_stops_counting(client, session, clock, mode, reversal, link_first):
    factories.campaign(session, clock.now(), count_mode=mode)
    session.commit()
    events = Lifecycle().events()
    order = ["created", "first_paid", "first_payment", reversal] if link_first else \
        [reversal, "created", "first_paid", "first_payment"]
    for name in order:
        assert post(client, events[name]).status_code == 200
    m = member(session)
    assert m.first_payment_reversed_at is not None
    assert count(session) == 0


def test_partial_refund_or_won_dispute_changes_nothing(client, session, campaign):
    from tests.stripe_events import charge, dispute

    events = Lifecycle().events()
    for name in ("created", "first_paid", "first_payment"):
        post(client, events[name])
    post(client, build_event("charge.refunded", charge("ch_x", "pi_L1_1", amount=500, amount_refunded=100,
                                                       created=1_740_000_000), created=1_741_000_000))
    post(client, build_event("charge.dispute.closed", dispute("dp_x", "ch_x", "pi_L1_1", status="won",
                                                              created=1_740_000_000), created=1_741_000_000))
    assert member(session).first_payment_reversed_at is None and count(session) == 1


def test_other_products_are_ignored(client, session, campaign):
    ev = build_event("customer.subscription.created",
                     subscription("sub_other", "cus_other", "price_newsletter_print", created=1_740_000_000),
                     created=1_740_000_000)
    r = post(client, ev)
    assert r.get_json()["outcome"] == "ignored"
    from tests.stripe_events import invoice

    inv = build_event("invoice.paid", invoice("in_other", "cus_other", "sub_other", "price_newsletter_print",
                                              created=1_740_000_000, email="x@example.org"), created=1_740_000_000)
    assert post(client, inv).get_json()["outcome"] == "ignored"
    assert ledger(session, ev["id"]).status == "ignored"
    assert session.scalar(select(func.count(Member.id))) == 0 and count(session) == 0


def test_test_mode_events_ignored_with_live_key(app_config, client, session, campaign):
    client.application.extensions["payments_settings"] = __import__(
        "service.payments.settings", fromlist=["x"]).settings_from({**app_config, "STRIPE_API_KEY": "sk_live_123"})
    test_mode = Lifecycle().events()["created"]
    r = post(client, test_mode)
    assert r.status_code == 200 and r.get_json()["outcome"] == "ignored"
    assert ledger(session, test_mode["id"]).status == "ignored"
    live = Lifecycle(n=2, livemode=True).events()["created"]
    assert post(client, live).get_json()["outcome"] == "applied"
    assert session.scalar(select(func.count(Member.id))) == 1


def test_customer_email_change_moves_member_email(client, session, campaign):
    events = Lifecycle().events()
    for name in ("customer", "created", "first_paid"):
        post(client, events[name])
    from tests.stripe_events import customer

    post(client, build_event("customer.updated", customer("cus_L1", "new@example.org"),
                             created=Lifecycle().at(3)))
    assert session.scalar(select(Member.email)) == "new@example.org"
    assert member(session, "new@example.org").first_paid_at is not None
    assert count(session) == 1


def test_member_gets_a_stripe_customer_id_for_the_billing_portal(client, session, campaign):
    events = Lifecycle().events()
    for name in ("created", "customer"):
        post(client, events[name])
    assert member(session).stripe_customer_id == "cus_L1"


def test_member_created_by_the_paywall_claim_is_reused(client, session, campaign, clock):
    """The paywall may create the member from the Checkout Session before any webhook: same person."""
    session.add(Member(email="reader1@example.org", stripe_customer_id="cus_L1", status="active",
                       created_at=clock.now(), updated_at=clock.now()))
    session.commit()
    events = Lifecycle().events()
    post(client, events["created"])  # no email yet: the customer id finds the claimed member
    assert session.scalar(select(func.count(Member.id))) == 1
    for name in ("first_paid", "customer"):
        post(client, events[name])
    assert session.scalar(select(func.count(Member.id))) == 1
    m = member(session)
    assert (m.stripe_customer_id, m.status) == ("cus_L1", "active") and count(session) == 1


def test_expired_signature_says_so(client):
    body, headers = signed(_sub_event(), SECRET, int(time.time()) - 301)
    r = client.post("/v1/webhooks/stripe", data=body, headers=headers)
    assert r.status_code == 400 and "tolerance" in r.get_json()["detail"]


def test_older_update_never_overwrites_newer_state(client, session, campaign):
    life = Lifecycle()
    events = life.events()
    post(client, events["canceled"])
    post(client, events["renewed"])  # older: arrives late
    sub = session.scalar(select(Subscription))
    session.refresh(sub)
    assert (sub.status, sub.last_event_id) == ("canceled", "evt_L1_canceled")


def test_on_equal_times_canceled_wins(client, session, campaign):
    for n, first in ((1, "active"), (2, "canceled")):
        life = Lifecycle(n=n)
        t = life.at(40)
        updates = {
            "active": build_event("customer.subscription.updated", subscription(
                life.subscription, life.customer, status="active", created=life.at(0)), created=t),
            "canceled": build_event("customer.subscription.deleted", subscription(
                life.subscription, life.customer, status="canceled", created=life.at(0), canceled_at=t,
                ended_at=t), created=t),
        }
        second = "canceled" if first == "active" else "active"
        post(client, updates[first])
        post(client, updates[second])
        session.expire_all()
        status = session.scalar(select(Subscription.status).where(Subscription.stripe_id == life.subscription))
        assert status == "canceled", first


def test_paid_invoice_makes_an_incomplete_subscription_active(client, session, campaign):
    """Checkout's subscription is created incomplete; its paid first invoice may arrive before the update."""
    life = Lifecycle()
    incomplete = build_event("customer.subscription.created", subscription(
        life.subscription, life.customer, status="incomplete", created=life.at(0)), created=life.at(0))
    post(client, incomplete)
    assert member(session).status == "pending"
    post(client, life.events()["first_paid"])
    assert member(session).status == "active" and count(session) == 1
    assert session.scalar(select(Subscription.status)) == "active"


def test_paid_retry_after_a_failure_is_active_again(client, session, campaign):
    from tests.stripe_events import invoice

    life = Lifecycle()
    events = life.events()
    for name in ("created", "first_paid", "payment_failed"):
        post(client, events[name])
    assert member(session).status == "past_due"
    retry = build_event("invoice.paid", invoice("in_L1_3", life.customer, life.subscription, created=life.at(61),
                                                email=life.email), created=life.at(61))
    post(client, retry)
    assert member(session).status == "active"


def test_payloads_and_emails_are_not_logged_at_info(client, session, campaign, caplog):
    import logging

    caplog.set_level(logging.INFO)
    events = Lifecycle(email="secret.reader@example.org").events()
    for name in ("checkout", "customer", "created", "first_paid"):
        assert post(client, events[name]).status_code == 200
    info = "\n".join(r.getMessage() for r in caplog.records if r.levelno >= logging.INFO)
    assert "evt_L1_first_paid" in info  # the event id and type are logged
    assert "secret.reader" not in info and "customer_details" not in info and "whsec_" not in info
