"""Gift memberships after payment: recorded once from the paid checkout's webhook, mailed on the delivery
day (webhook or `flask gifts deliver`), redeemed once for a membership that ends, counted at redemption,
re-sent or refunded by staff (fake Stripe), and the paywall's `gift_ended` prompt."""

from __future__ import annotations

import re
import threading
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from service.campaigns import count_storage
from service.campaigns.counting import MemberFacts, Window, counts
from service.gifts.models import Gift
from service.members.models import Member
from tests import factories
from tests.stripe_events import PRICES_SETTING, build_event, charge, fixture, post

T0 = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
LINK_RE = re.compile(r"http://127\.0\.0\.1:5000/gifts/([A-Za-z0-9_-]+)")


@pytest.fixture
def app_config(app_config, fake_stripe):
    return {**app_config, "STRIPE_PRICES": PRICES_SETTING, "STRIPE_API_BASE": fake_stripe.url}


@pytest.fixture
def campaign(session, clock):
    c = factories.campaign(session, clock.now())  # members-25k, the whole of 2025, net
    session.commit()
    return c


def gift_session(n: int = 1, *, to: str = "friend@example.org", months: int = 6, deliver_on: date | None = None,
                 buyer: str = "giver@example.org", locale: str = "en", message: str = "Enjoy!") -> dict:
    obj = fixture("checkout_session")
    obj.update(id=f"cs_gift_{n}", mode="payment", status="complete", payment_status="paid", subscription=None,
               customer=f"cus_buyer_{n}", payment_intent=f"pi_gift_{n}", amount_total=3000, currency="eur",
               created=int(T0.timestamp()), expires_at=int(T0.timestamp()) + 86400, livemode=False,
               customer_email=None, url=None, client_reference_id=None,
               metadata={"kind": "gift", "campaign": "members-25k", "gift_months": str(months),
                         "gift_recipient_email": to, "gift_deliver_on": (deliver_on or T0.date()).isoformat(),
                         "gift_recipient_name": "Taras", "gift_message": message, "locale": locale})
    obj["customer_details"] = {**obj["customer_details"], "email": buyer}
    return obj


def buy(client, n: int = 1, at: datetime = T0, event_id: str | None = None, **kw) -> None:
    ev = build_event("checkout.session.completed", gift_session(n, **kw), created=at, id=event_id)
    r = post(client, ev)
    assert r.status_code == 200, r.get_data(as_text=True)


def refund_event(client, n: int = 1, at: datetime = T0 + timedelta(hours=1)) -> None:
    ev = build_event("charge.refunded", charge(f"ch_gift_{n}", f"pi_gift_{n}", amount=3000, amount_refunded=3000,
                                               customer=f"cus_buyer_{n}", created=T0), created=at)
    assert post(client, ev).status_code == 200


def mails(session) -> list[tuple[str, str, str]]:
    """(to, kind, context JSON) of every mail written to the outbox, oldest first."""
    session.rollback()
    return [tuple(r) for r in session.execute(sa.text("SELECT to_addr, kind, context FROM mail_outbox ORDER BY id"))]


def codes(session, to: str = "friend@example.org") -> list[str]:
    return [m for addr, _, context in mails(session) if addr == to for m in LINK_RE.findall(context)]


def count(session, campaign) -> int:
    session.expire_all()
    return session.get(type(campaign), campaign.id).members_counted


def recount_matches(session, campaign, clock) -> None:
    before = count(session, campaign)
    assert count_storage.recount(session, campaign, clock.now()) - campaign.adjustments_total == before
    session.rollback()


# --- recorded once, mailed once ----------------------------------------------------------------------------

def test_paid_gift_is_recorded_once_and_mailed_to_recipient_and_buyer(client, session, campaign):
    buy(client, event_id="evt_gift_1")
    buy(client, event_id="evt_gift_1")  # Stripe redelivers the event
    buy(client, event_id="evt_gift_1_again")  # another event about the same session (e.g. reconciliation)
    (gift,) = session.scalars(select(Gift)).all()
    assert (gift.recipient_email, gift.months, gift.amount, gift.currency, gift.campaign, gift.buyer_email) == (
        "friend@example.org", 6, 3000, "eur", "members-25k", "giver@example.org")
    sent = mails(session)
    assert sorted((addr, kind) for addr, kind, _ in sent) == [("friend@example.org", "gift_received"),
                                                             ("giver@example.org", "gift_purchased")]
    (code,) = codes(session)
    buyer_mail = next(context for addr, _, context in sent if addr == "giver@example.org")
    assert code not in buyer_mail and "/gifts/" not in buyer_mail  # the code is the recipient's
    # Only a hash of the bearer code is stored.
    assert gift.code_hash and code not in gift.code_hash
    assert session.execute(sa.text("SELECT count(*) FROM gifts WHERE code_hash = :c"), {"c": code}).scalar() == 0
    # Nobody is a member yet: the buyer is not counted, nor is an unredeemed gift.
    assert session.scalar(select(sa.func.count(Member.id))) == 0
    assert count(session, campaign) == 0


def test_gift_for_a_later_day_is_mailed_by_the_periodic_job_once(client, session, campaign, runner, clock):
    buy(client, deliver_on=date(2025, 6, 10))
    assert [(a, k) for a, k, _ in mails(session)] == [("giver@example.org", "gift_purchased")]  # thanks only
    out = runner.invoke(args=["gifts", "deliver"])
    assert out.exit_code == 0 and "0 due, 0 delivered" in out.output
    clock.set(datetime(2025, 6, 10, 0, 5, tzinfo=UTC))
    out = runner.invoke(args=["gifts", "deliver"])
    assert out.exit_code == 0, out.output
    assert "gift 1 (for delivery on 2025-06-10): delivered" in out.output and "1 due, 1 delivered" in out.output
    again = runner.invoke(args=["gifts", "deliver"])
    assert "0 due, 0 delivered" in again.output
    assert len(codes(session)) == 1


def test_two_concurrent_delivery_runs_mail_each_gift_once(app, client, session, campaign, clock):
    from service.extensions import db
    from service.gifts import delivery

    for n in range(1, 7):
        buy(client, n, deliver_on=date(2025, 6, 5), to=f"friend{n}@example.org")
    clock.set(datetime(2025, 6, 5, 8, 0, tzinfo=UTC))
    settings = app.extensions["paywall"].settings
    barrier, results = threading.Barrier(2), []

    def run() -> None:
        with app.app_context():
            barrier.wait()
            results.append(delivery.deliver_due(db.session, settings, clock.now()))
            db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sum(r.delivered for r in results) == 6
    received = [addr for addr, kind, _ in mails(session) if kind == "gift_received"]
    assert sorted(received) == sorted(f"friend{n}@example.org" for n in range(1, 7))


# --- redeeming ----------------------------------------------------------------------------------------------

def test_redeem_makes_a_new_member_until_the_end_counts_once_and_works_once(client, session, campaign, clock):
    buy(client)
    (code,) = codes(session)
    clock.set(T0 + timedelta(days=1))
    r = client.post(f"/v1/gifts/{code}/redeem", json={})
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["sign_in"] == "token" and body["member_token"]
    assert body["gift"] == {"months": 6, "starts_at": "2025-06-02T12:00:00+00:00",
                            "ends_at": "2025-12-02T12:00:00+00:00"}
    assert body["member"]["gift_ends_at"] == "2025-12-02T12:00:00+00:00"
    assert r.headers["Cache-Control"] == "no-store"
    member = session.scalar(select(Member).where(Member.email == "friend@example.org"))
    assert member.gift_redeemed_at == clock.now() and member.email_verified_at == clock.now()
    assert count(session, campaign) == 1  # the recipient, at redemption
    recount_matches(session, campaign, clock)
    # The token reads members-only articles.
    access = client.post("/v1/access", json={"article": {"id": "a1", "visibility": "members"},
                                             "member_token": body["member_token"]}).get_json()
    assert (access["access"], access["reason"]) == ("granted", "member")
    # Single use.
    again = client.post(f"/v1/gifts/{code}/redeem", json={})
    assert again.status_code == 409 and again.get_json()["type"].endswith("gift-redeemed")
    assert count(session, campaign) == 1
    # A made-up code is a plain 404.
    assert client.post("/v1/gifts/not-a-real-code-0123456789/redeem", json={}).status_code == 404


def test_gift_to_a_paying_member_adds_months_after_their_period_and_mails_a_link(client, session, campaign, clock):
    paid_until = T0 + timedelta(days=20)
    m = factories.member(session, clock.now(), email="friend@example.org", first_paid_at=T0 - timedelta(days=10))
    factories.subscription(session, clock.now(), m, current_period_end=paid_until)
    session.commit()
    assert count(session, campaign) == 1
    buy(client)
    (code,) = codes(session)
    r = client.post(f"/v1/gifts/{code}/redeem", json={"return_url": "https://news.example/account"})
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    # The address is an existing member's: no token for whoever holds the code, a sign-in link instead.
    assert (body["member_token"], body["member"], body["sign_in"]) == (None, None, "link_sent")
    assert body["gift"]["starts_at"] == paid_until.isoformat()  # after the paid period
    assert body["gift"]["ends_at"] == "2025-12-21T12:00:00+00:00"
    assert ("friend@example.org", "sign_in") in [(a, k) for a, k, _ in mails(session)]
    assert count(session, campaign) == 1  # once per person
    recount_matches(session, campaign, clock)


def test_a_second_gift_extends_the_first(client, session, campaign, clock):
    buy(client, 1, months=3)
    client.post(f"/v1/gifts/{codes(session)[0]}/redeem", json={})
    buy(client, 2, months=6)
    r = client.post(f"/v1/gifts/{codes(session)[1]}/redeem", json={})
    assert r.get_json()["gift"] == {"months": 6, "starts_at": "2025-09-01T12:00:00+00:00",
                                    "ends_at": "2026-03-01T12:00:00+00:00"}
    assert count(session, campaign) == 1


# --- refunds ------------------------------------------------------------------------------------------------

def test_refund_webhook_before_or_after_the_purchase_stops_redemption(client, session, campaign):
    refund_event(client, 1)  # the refund arrives first
    buy(client, 1)
    buy(client, 2, to="other@example.org")
    refund_event(client, 2)
    gifts = {g.id: g for g in session.scalars(select(Gift))}
    assert all(g.refunded_at is not None for g in gifts.values())
    assert codes(session) == []  # a gift refunded before it was mailed is never mailed
    (code,) = codes(session, "other@example.org")
    r = client.post(f"/v1/gifts/{code}/redeem", json={})
    assert r.status_code == 410 and r.get_json()["type"].endswith("gift-refunded")
    assert count(session, campaign) == 0


def test_refund_of_a_redeemed_gift_takes_the_membership_and_the_count_back(client, session, campaign, clock):
    buy(client)
    token = client.post(f"/v1/gifts/{codes(session)[0]}/redeem", json={}).get_json()["member_token"]
    assert count(session, campaign) == 1
    refund_event(client)
    assert count(session, campaign) == 0
    recount_matches(session, campaign, clock)
    access = client.post("/v1/access", json={"article": {"id": "a1", "visibility": "members"},
                                             "member_token": token}).get_json()
    assert access["reason"] == "metered"  # an ordinary reader again (they never paid)


def test_staff_refund_and_resend_through_the_cli(client, session, campaign, runner, fake_stripe):
    fake_stripe.reply("POST", r"/v1/refunds", {**fixture("charge"), "id": "re_gift_1", "object": "refund"})
    buy(client, 1)
    buy(client, 2, to="other@example.org")
    old = codes(session, "other@example.org")[0]
    out = runner.invoke(args=["gifts", "resend", "2", "--by", "ops"])
    assert out.exit_code == 0, out.output
    new = codes(session, "other@example.org")[-1]
    assert new != old
    assert client.post(f"/v1/gifts/{old}/redeem", json={}).status_code == 404  # the old link stopped working
    out = runner.invoke(args=["gifts", "refund", "1", "--by", "ops"])
    assert out.exit_code == 0, out.output
    (req,) = fake_stripe.requests_to("POST", "/v1/refunds")
    assert req.params["payment_intent"] == "pi_gift_1"
    assert req.headers.get("Idempotency-Key") == "gift-refund-1"
    code = codes(session)[0]
    assert client.post(f"/v1/gifts/{code}/redeem", json={}).status_code == 410
    assert runner.invoke(args=["gifts", "refund", "1"]).exit_code == 1  # already refunded: a clear message
    # A redeemed gift is not staff's to refund or re-send.
    assert client.post(f"/v1/gifts/{new}/redeem", json={}).status_code == 200
    out = runner.invoke(args=["gifts", "refund", "2"])
    assert out.exit_code == 1 and "redeemed" in out.output
    assert runner.invoke(args=["gifts", "resend", "2"]).exit_code == 1
    listed = runner.invoke(args=["gifts", "list"]).output
    assert "sold 2, redeemed 1, pending 0, refunded 1" in listed


def test_staff_page_lists_gifts_and_refunds_through_stripe(client, session, campaign, clock, fake_stripe):
    from tests.staff_support import csrf, signed_in

    fake_stripe.reply("POST", r"/v1/refunds", {"id": "re_gift_1", "object": "refund"})
    buy(client, 1)
    signed_in(client, session, clock, "admin")
    page = client.get("/staff/gifts/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "friend@example.org" in html and "Sold" in html
    token = csrf(client, "/staff/gifts/")
    r = client.post("/staff/gifts/1/refund", data={"csrf_token": token})
    assert r.status_code == 302
    session.expire_all()
    assert session.get(Gift, 1).refund_id == "re_gift_1"
    assert client.post("/staff/gifts/1/refund", data={}).status_code == 400  # no CSRF token


def test_the_campaign_dashboard_shows_gifts_beside_members_and_contributions(client, session, campaign, clock):
    from tests.staff_support import signed_in

    buy(client, 1)
    buy(client, 2, to="other@example.org")
    assert client.post(f"/v1/gifts/{codes(session)[0]}/redeem", json={}).status_code == 200
    signed_in(client, session, clock, "viewer")
    html = client.get("/staff/campaigns/members-25k").get_data(as_text=True)
    assert 'data-testid="gifts">2 sold<' in html
    assert "1 redeemed (counted as members)" in html and "1 waiting" in html and "0 refunded" in html
    assert 'data-testid="contributors">0<' in html and "Members counted" in html


# --- the end of a gift ----------------------------------------------------------------------------------------

def test_when_the_gift_ends_the_member_lapses_with_the_gift_ended_prompt(client, session, campaign, runner, clock):
    buy(client, months=3)
    assert client.post(f"/v1/gifts/{codes(session)[0]}/redeem", json={}).status_code == 200
    assert count(session, campaign) == 1
    clock.set(datetime(2025, 9, 2, 12, 0, tzinfo=UTC))
    out = runner.invoke(args=["gifts", "deliver"])
    assert "1 gift memberships ended" in out.output
    token = runner.invoke(args=["member", "token", "friend@example.org"]).output.strip()  # signed in again
    assert count(session, campaign) == 0  # net: the membership ended
    recount_matches(session, campaign, clock)
    body = client.post("/v1/access", json={"article": {"id": "a1", "visibility": "members"}, "member_token": token,
                                           "locale": "uk"}).get_json()
    assert (body["access"], body["reason"]) == ("denied", "membership_lapsed")
    assert body["prompt"]["flavour"] == "gift_ended"
    assert body["prompt"]["headline"] == "Ваше подароване членство завершилося"
    assert "reason=gift_ended" in body["prompt"]["checkout_url"]


# --- the counting rule ------------------------------------------------------------------------------------------

W = Window(datetime(2025, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC))


@pytest.mark.parametrize(("facts", "expected"), [
    (MemberFacts(None, gift_redeemed_at=T0), True),  # a redeemed gift counts its recipient
    (MemberFacts(None, gift_redeemed_at=datetime(2024, 12, 1, tzinfo=UTC)), False),  # redeemed before the window
    (MemberFacts(datetime(2024, 12, 1, tzinfo=UTC), gift_redeemed_at=T0), False),  # joined earlier by paying
    (MemberFacts(None, gift_redeemed_at=T0, gift_ended_at=T0 + timedelta(days=90)), False),  # net: gift over
    (MemberFacts(T0, ended_at=T0 + timedelta(days=5), gift_redeemed_at=T0 + timedelta(days=6)), True),  # gift revives
    (MemberFacts(T0, reversed_at=T0, gift_redeemed_at=T0 + timedelta(days=6)), True),  # paid came back, gift stands
    (MemberFacts(None), False),  # a buyer, or an unredeemed gift's recipient: no joining fact
])
def test_counting_rule_for_gifts(facts, expected):
    assert counts(facts, W) is expected


# --- counter == recount, with gifts mixed in ------------------------------------------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

S = datetime(2025, 3, 1, tzinfo=UTC)
_opt = lambda *days: st.sampled_from([None, *(S + timedelta(days=d) for d in days)])  # noqa: E731
gift_states = st.tuples(_opt(-90, 10, 400), _opt(40, 500), _opt(11), _opt(-30, 20, 420), _opt(95, 600),
                        st.sampled_from(["monthly", "gift"]))
gift_steps = st.lists(st.tuples(st.integers(0, 3), gift_states | st.just("delete")), min_size=1, max_size=20)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=gift_steps)
def test_counter_equals_recount_with_gift_facts(app, session, clock, steps):
    """Any sequence of paid and gift facts (redeemed, ended, refunded away), in both modes and two time zones:
    the counter kept on write equals a recount from the members table."""
    from sqlalchemy import delete

    from service.campaigns.models import Campaign, CampaignDaily

    session.execute(delete(CampaignDaily))
    session.execute(delete(Member))
    session.execute(delete(Campaign))
    session.commit()
    session.expunge_all()  # (ids are reused: no object of an earlier example may stay in the identity map)
    net = factories.campaign(session, clock.now(), slug="n")
    gross = factories.campaign(session, clock.now(), slug="g", count_mode="gross", timezone="America/New_York")
    people: dict[int, Member] = {}
    for who, state in steps:
        m = people.get(who)
        if state == "delete":
            if m is not None:
                session.delete(m)
                people.pop(who)
        else:
            paid, ended, rev, gift_at, gift_end, plan = state
            if m is None:
                m = people[who] = factories.member(session, clock.now(), email=f"p{who}@example.org")
            m.first_paid_at, m.ended_at, m.first_payment_reversed_at = paid, ended, rev
            m.gift_redeemed_at, m.gift_ended_at, m.plan = gift_at, gift_end if gift_at else None, plan
        session.commit()

    def snapshot() -> dict:
        session.expire_all()
        return {c.slug: (session.get(Campaign, c.id).members_counted, sorted(
            (r.day, r.plan, r.joined, r.ended) for r in session.query(CampaignDaily).filter_by(campaign_id=c.id)
            if r.joined or r.ended)) for c in (net, gross)}

    kept = snapshot()
    for c in (net, gross):
        count_storage.recount(session, session.get(Campaign, c.id), clock.now())
    session.commit()
    assert kept == snapshot()
