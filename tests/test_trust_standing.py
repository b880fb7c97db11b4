"""Membership ends when Stripe says it ended: a canceled subscription grants nothing after it ended,
whatever its current_period_end; only a subscription still running and set to cancel keeps access to the
end of the paid period; a fully refunded (or lost in a dispute) payment ends the membership it paid for.

Pure rules first (members' `membership` and `derive`), then end to end: signed webhooks, then
POST /v1/access and GET /v1/members/me."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from service.members import status as member_status
from service.members.standing import Standing, Sub, membership
from service.members.status import InvoiceFacts, SubscriptionFacts
from service.paywall import tokens
from tests import factories
from tests.stripe_events import PRICES_SETTING, Lifecycle, build_event, post, subscription

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def standing(*subs, status="active", paid=NOW - 40 * DAY):
    return membership(subs, member_status=status, first_paid_at=paid, now=NOW, grace_days=7)


# --- the access rule (members/standing.py membership) --------------------------------------------

def test_immediate_cancellation_grants_nothing_though_the_period_runs_for_weeks():
    """customer.subscription.deleted after "cancel now": canceled, ended_at now, period end 3 weeks away."""
    assert standing(Sub("canceled", NOW + 21 * DAY), status="ended") == Standing("lapsed")
    assert standing(Sub("canceled", NOW + 21 * DAY), status="ended", paid=None) == Standing("none")


def test_an_ended_subscription_that_had_been_set_to_cancel_grants_nothing():
    """Set to cancel at the period end, then canceled at once: still no access to the old period end."""
    for ended in ("canceled", "incomplete_expired", "paused", "unpaid"):
        sub = Sub(ended, NOW + 21 * DAY, cancel_at_period_end=True)
        assert standing(sub, status="ended").kind == "lapsed", ended


@pytest.mark.parametrize("running", ["active", "trialing"])
def test_a_running_subscription_set_to_cancel_keeps_access_to_the_period_end(running):
    sub = Sub(running, NOW + 5 * DAY, cancel_at_period_end=True)
    assert standing(sub) == Standing("member", NOW + 5 * DAY)


def test_a_member_whose_membership_derive_says_ended_gets_nothing_from_a_live_subscription():
    """The only payment was refunded: Stripe keeps the subscription active (a refund does not cancel it)."""
    assert standing(Sub("active", NOW + 20 * DAY), status="ended") == Standing("lapsed")
    assert standing(Sub("past_due", NOW - DAY), status="ended") == Standing("lapsed")  # no grace either
    assert standing(status="ended") == Standing("lapsed")  # invoices only, no subscription yet


# --- the derived state (members/status.py derive) --------------------------------------------------

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def sub(subscription_id="sub_1", status="active", *, ended_at=None, created=T0):
    return SubscriptionFacts(subscription_id, status, "monthly", created, ended_at, ended_at, ended_at)


def paid(invoice_id, days, reversed_days=None, sub_id="sub_1"):
    reversed_at = T0 + timedelta(days=reversed_days) if reversed_days is not None else None
    return InvoiceFacts(invoice_id, T0 + timedelta(days=days), reversed_at, sub_id)


def test_a_full_refund_of_the_only_payment_ends_the_membership():
    state = member_status.derive([sub()], [paid("in_1", 0, reversed_days=10)])
    assert (state.status, state.ended_at) == ("ended", T0 + 10 * DAY)
    assert state.first_payment_reversed_at == T0 + 10 * DAY and not state.has_membership


def test_a_renewal_paid_after_a_refund_makes_the_membership_live_again():
    state = member_status.derive([sub()], [paid("in_1", 0, reversed_days=10), paid("in_2", 30)])
    assert (state.status, state.ended_at) == ("active", None)
    # The counting rule is unchanged: the sign-up payment was reversed, so this member is not counted.
    assert state.first_payment_reversed_at == T0 + 10 * DAY and not state.has_membership


def test_a_refunded_renewal_ends_the_membership_until_the_next_payment():
    state = member_status.derive([sub()], [paid("in_1", 0), paid("in_2", 30, reversed_days=31)])
    assert (state.status, state.ended_at, state.first_payment_reversed_at) == ("ended", T0 + 31 * DAY, None)
    state = member_status.derive([sub()], [paid("in_1", 0), paid("in_2", 30, reversed_days=31), paid("in_3", 60)])
    assert (state.status, state.ended_at) == ("active", None)


def test_refunding_a_duplicate_subscription_leaves_the_other_membership_alone():
    subs = [sub("sub_1"), sub("sub_2", created=T0 + DAY)]
    invoices = [paid("in_1", 0, sub_id="sub_1"), paid("in_2", 1, reversed_days=2, sub_id="sub_2")]
    assert member_status.derive(subs, invoices).status == "active"
    subs[1] = sub("sub_2", "ended", ended_at=T0 + 2 * DAY, created=T0 + DAY)  # refunded and canceled
    assert member_status.derive(subs, invoices).status == "active"


def test_a_refund_without_any_subscription_known_yet_still_ends_it():
    assert member_status.derive([], [paid("in_1", 0, reversed_days=3)]).status == "ended"
    assert member_status.derive([], [paid("in_1", 0)]).status == "active"


def test_derive_does_not_depend_on_the_order_of_the_facts():
    subs = [sub("sub_1"), sub("sub_2", "ended", ended_at=T0 + 5 * DAY, created=T0 + DAY)]
    invoices = [paid("in_1", 0, reversed_days=3), paid("in_2", 30), paid("in_3", 1, sub_id="sub_2"),
                paid("in_4", 60, reversed_days=61)]
    states = {member_status.derive(s, i) for s in itertools.permutations(subs)
              for i in itertools.permutations(invoices)}
    assert len(states) == 1
    (state,) = states
    assert (state.status, state.ended_at) == ("ended", T0 + 61 * DAY)


# --- end to end: signed webhooks, then /v1/access and /v1/members/me ----------------------------

@pytest.fixture
def app_config(app_config):
    return {**app_config, "STRIPE_PRICES": PRICES_SETTING, "PAYWALL_CACHE_SECONDS": 0.0}


@pytest.fixture
def life(session, clock):
    factories.campaign(session, clock.now())
    session.commit()
    return Lifecycle(start=clock.now() - 7 * DAY)  # joined a week ago; the paid period ends in 23 days


def joined(client, life, *extra):
    events = life.events()
    for name in ("customer", "created", "first_paid", "first_payment", *extra):
        assert post(client, events[name]).status_code == 200, name
    return events


def member_token(app, session):
    """A fresh member token (as a new sign-in by link would give), of the member's current version."""
    from service.members.models import Member

    session.expire_all()
    m = session.query(Member).one()
    return tokens.issue_member_token(app.extensions["paywall"].settings.secret, m.id, m.token_version,
                                     app.extensions["clock"].now())


def access(client, token):
    r = client.post("/v1/access", json={"article": {"id": "a1"}, "member_token": token})
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def me(client, token):
    r = client.get("/v1/members/me", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def test_immediate_cancellation_ends_access_at_once_end_to_end(app, client, session, clock, life):
    joined(client, life)
    before = member_token(app, session)
    assert access(client, before)["reason"] == "member"
    now = clock.now()
    period_end = life.at(30)  # 23 days away
    deleted = build_event("customer.subscription.deleted",
                          subscription(life.subscription, life.customer, status="canceled", created=life.at(0),
                                       period_start=life.at(0), period_end=period_end, canceled_at=now,
                                       ended_at=now), created=now)
    assert post(client, deleted).status_code == 200
    token = member_token(app, session)  # signed in again after the cancellation
    body = access(client, token)
    assert (body["access"], body["reason"], body["entitlement"]) == ("denied", "membership_lapsed", None)
    mine = me(client, token)
    assert (mine["access"], mine["status"]) == ("lapsed", "canceled")
    assert access(client, before)["reason"] != "member"  # the token issued before it no longer grants


def test_set_to_cancel_reads_to_the_period_end_then_stripe_ends_it(app, client, session, clock, life):
    joined(client, life)
    now = clock.now()
    obj = subscription(life.subscription, life.customer, status="active", created=life.at(0),
                       period_start=life.at(0), period_end=life.at(30), cancel_at_period_end=True)
    assert post(client, build_event("customer.subscription.updated", obj, created=now)).status_code == 200
    token = member_token(app, session)
    assert access(client, token)["reason"] == "member"
    assert me(client, token)["access_until"].startswith(life.at(30).date().isoformat())
    clock.set(life.at(30))
    ended = subscription(life.subscription, life.customer, status="canceled", created=life.at(0),
                         period_start=life.at(0), period_end=life.at(30), cancel_at_period_end=True,
                         canceled_at=now, ended_at=life.at(30))
    assert post(client, build_event("customer.subscription.deleted", ended, created=life.at(30))).status_code == 200
    token = member_token(app, session)
    assert access(client, token)["reason"] == "membership_lapsed"


@pytest.mark.parametrize("reversal", ["refunded", "dispute_lost"])
def test_a_full_refund_of_the_only_payment_ends_access_end_to_end(app, client, session, clock, life, reversal):
    events = joined(client, life)
    assert access(client, member_token(app, session))["reason"] == "member"
    assert post(client, events[reversal]).status_code == 200
    token = member_token(app, session)  # even after signing in again
    body = access(client, token)
    assert (body["access"], body["reason"], body["entitlement"]) == ("denied", "membership_lapsed", None)
    assert me(client, token)["access"] == "lapsed"
    # Stripe charges the next period (a refund does not cancel the subscription): a member again.
    clock.set(life.at(31))
    assert post(client, events["renewal_paid"]).status_code == 200
    assert access(client, member_token(app, session))["reason"] == "member"
