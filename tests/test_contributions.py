"""One-time contributions: the payment-mode Checkout, recording from either event exactly once, refunds in any
order, people counted (not payments), never members, and the progress JSON's `contributions` and
`{contributors}`."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from service.campaigns import count_storage, services
from service.campaigns.models import Campaign
from service.members.models import Member
from service.payments import contributions
from service.payments.models import CheckoutStart, Contribution
from tests import factories
from tests.staff_support import fast_hashing, signed_in  # noqa: F401 - fast_hashing: cheap staff passwords
from tests.stripe_events import PRICES_SETTING, Lifecycle, fixture, post
from tests.stripe_events import Contribution as Gave


@pytest.fixture
def app_config(app_config, fake_stripe):
    return {**app_config, "STRIPE_PRICES": PRICES_SETTING, "STRIPE_API_BASE": fake_stripe.url,
            "PLAN_MINIMUMS": "usd=500,eur=500,uah=20000,jpy=500"}


@pytest.fixture
def campaign(session, clock):
    c = factories.campaign(session, clock.now())  # window: the whole of 2025
    session.commit()
    return c


@pytest.fixture
def stripe_session(fake_stripe):
    def created(req):
        obj = fixture("checkout_session")
        obj.update(id="cs_test_c1", mode=req.params["mode"], url="https://checkout.stripe.com/c/pay/cs_test_c1",
                   metadata=req.params.get("metadata", {}))
        return 200, obj

    fake_stripe.route("POST", r"/v1/checkout/sessions", created)
    return fake_stripe


def progress(client):
    r = client.get("/v1/campaigns/members-25k/progress")
    assert r.status_code == 200
    return r.get_json()


def counters(session):
    session.expire_all()
    c = session.scalar(select(Campaign).where(Campaign.slug == "members-25k"))
    return c.count, c.contributors_counted


def deliver(client, *events):
    for ev in events:
        r = post(client, ev)
        assert r.status_code == 200, r.get_json()


BODY = {"campaign": "members-25k", "kind": "contribution", "amount": 2500, "currency": "eur", "locale": "de",
        "email": "giver@example.org", "success_url": "https://news.example/thanks",
        "cancel_url": "https://news.example/join"}


def test_contribution_starts_a_payment_mode_checkout(client, session, campaign, stripe_session):
    r = client.post("/v1/checkout/sessions", json=BODY)
    assert r.status_code == 201, r.get_json()
    (req,) = stripe_session.requests_to("POST", "/v1/checkout/sessions")
    metadata = {"campaign": "members-25k", "kind": "contribution", "amount": "2500", "locale": "de"}
    assert req.params["mode"] == "payment"
    assert req.params["line_items"] == [{"price_data": {
        "currency": "eur", "unit_amount": "2500", "product_data": {"name": "One-time contribution: Drive"}},
        "quantity": "1"}]
    assert req.params["metadata"] == metadata
    assert req.params["payment_intent_data"] == {"metadata": metadata}  # refunds and intents carry it too
    assert req.params["submit_type"] == "donate" and req.params["customer_creation"] == "always"
    assert "subscription_data" not in req.params
    assert session.scalars(select(CheckoutStart)).all() == []  # the membership funnel counts memberships


@pytest.mark.parametrize("body,field", [
    ({"amount": None}, "amount"),  # required
    ({"amount": 499, "currency": "usd"}, "amount"),  # below the minimum
    ({"currency": "chf"}, "currency"),  # no minimum: not offered
    ({"amount": "25"}, "amount"),  # minor units as an integer
])
def test_contribution_amount_and_currency_are_checked(client, campaign, stripe_session, body, field):
    r = client.post("/v1/checkout/sessions", json={k: v for k, v in {**BODY, **body}.items() if v is not None})
    assert r.status_code == 422, r.get_json()
    errors = r.get_json()["errors"]
    assert field in errors.get("json", errors)
    assert stripe_session.requests_to("POST", "/v1/checkout/sessions") == []


def test_recorded_once_from_either_event_and_never_a_member(client, session, campaign):
    ev = Gave(n=1, email="Giver1@Example.org ").events()
    deliver(client, ev["succeeded"], ev["completed"], ev["succeeded"], ev["completed"])
    rows = session.scalars(select(Contribution)).all()
    assert [(c.payment_intent, c.person, c.amount, c.currency, c.campaign, c.checkout_session)
            for c in rows] == [("pi_C1", "email:giver1@example.org", 1000, "usd", "members-25k", "cs_C1")]
    assert rows[0].paid_at == datetime(2025, 3, 1, 9, 0, 4, tzinfo=UTC)  # the earliest event's time
    assert counters(session) == (0, 1)  # a contributor, not a member
    assert session.scalar(select(func.count(Member.id))) == 0
    body = progress(client)
    assert body["count"] == 0 and body["contributions"] == {"count": 1}


def test_people_are_counted_not_payments(client, session, campaign):
    first, second = Gave(n=1, email="a@example.org"), Gave(n=2, email="A@example.org", currency="eur")
    third = Gave(n=3, email=None, customer="cus_anon")  # no email: the Stripe customer is the person
    for g in (first, second, third):
        deliver(client, g.events()["completed"])
    assert counters(session) == (0, 2)
    deliver(client, first.events()["refunded"])  # a's other contribution still counts
    assert counters(session) == (0, 2)
    deliver(client, second.events()["refunded"])
    assert counters(session) == (0, 1)


def test_refund_before_or_after_the_payment_reverses_it(client, session, campaign):
    early, late = Gave(n=1), Gave(n=2, email="giver2@example.org")
    deliver(client, early.events()["refunded"], early.events()["completed"])  # refund delivered first
    assert counters(session) == (0, 0)
    deliver(client, late.events()["completed"])
    assert counters(session) == (0, 1)
    deliver(client, late.events()["refunded"], late.events()["refunded"])
    assert counters(session) == (0, 0)
    assert {c.payment_intent: c.reversed_at is not None for c in session.scalars(select(Contribution))} == {
        "pi_C1": True, "pi_C2": True}


def test_every_order_and_duplicate_ends_in_the_same_count(client, session, campaign):
    """Property: the events of three contributions (two by one person, one refunded), in any order, with
    duplicates: one more person counted each round."""
    orders = itertools.islice(itertools.permutations(range(7)), 0, 5040, 631)
    for n, order in enumerate(orders):
        a, b = f"giver{n}a@example.org", f"giver{n}b@example.org"
        gifts = [Gave(n=10 * n + 1, email=a), Gave(n=10 * n + 2, email=b), Gave(n=10 * n + 3, email=a)]
        evs = [gifts[0].events()["completed"], gifts[1].events()["succeeded"], gifts[1].events()["refunded"],
               gifts[2].events()["succeeded"], gifts[2].events()["completed"], gifts[1].events()["completed"],
               gifts[0].events()["completed"]]  # the last one a duplicate delivery
        deliver(client, *(evs[i] for i in order))
        assert counters(session) == (0, n + 1)
    c = session.scalar(select(Campaign))
    assert contributions.recount(session, c, datetime.now(UTC)) == n + 1  # the counter equals a recount


def test_only_contributions_inside_the_window_count(client, session, clock):
    factories.campaign(session, clock.now(), starts=date(2025, 3, 2), ends=date(2025, 12, 31))
    session.commit()
    deliver(client, Gave(n=1).events()["completed"])  # 1 March: before the window
    deliver(client, Gave(n=2, email="b@example.org", start=datetime(2025, 4, 1, tzinfo=UTC)).events()["completed"])
    assert counters(session) == (0, 1)
    c = session.scalar(select(Campaign))
    assert contributions.recount(session, c, clock.now()) == 1


def test_a_contributor_who_is_a_member_counts_once_as_a_member(client, session, campaign):
    events = Lifecycle(n=1, email="both@example.org").events()
    deliver(client, *(events[k] for k in ("checkout", "customer", "created", "first_paid")))
    deliver(client, Gave(n=9, email="both@example.org").events()["completed"])
    assert counters(session) == (1, 1)  # one member; the gift is reported beside the count, not in it
    assert session.scalar(select(func.count(Member.id))) == 1


def test_a_new_campaign_counts_earlier_contributions(client, session, clock):
    deliver(client, Gave(n=1).events()["completed"])  # no campaign yet
    factories.campaign(session, clock.now())
    session.commit()
    assert counters(session) == (0, 1)
    c = session.scalar(select(Campaign))
    count_storage.recount(session, c, clock.now())
    session.commit()
    assert counters(session) == (0, 1)


def test_contributors_placeholder_in_banner_copy(client, session, campaign, clock):
    services.set_copy(session, campaign, locale="en", stage="launch", now=clock.now(),
                      headline="{count} members, {contributors, plural, one {# reader gave once} "
                               "other {# readers gave once}}", body="b", cta_label="Join")
    session.commit()
    deliver(client, Gave(n=1).events()["completed"])
    clock.advance(seconds=60)  # past the progress cache
    assert progress(client)["banner"]["headline"] == "0 members, 1 reader gave once"
    with pytest.raises(Exception, match="contributor"):  # a misspelt placeholder is refused at save
        services.set_copy(session, campaign, locale="en", stage="launch", now=clock.now(),
                          headline="{contributor} gave", body="b", cta_label="Join")


# --- reconciliation -----------------------------------------------------------------------------------------

def sessions_list(fake_stripe, sessions, page_size=2):
    def handler(req):
        after = req.params.get("starting_after")
        start = next((i + 1 for i, s in enumerate(sessions) if s["id"] == after), 0)
        return 200, {"object": "list", "url": "/v1/checkout/sessions", "data": sessions[start:start + page_size],
                     "has_more": start + page_size < len(sessions)}

    fake_stripe.route("GET", r"/v1/checkout/sessions", handler)
    fake_stripe.reply("GET", r"/v1/subscriptions", {"object": "list", "url": "/v1/subscriptions", "data": [],
                                                    "has_more": False})


def test_reconcile_records_contributions_a_missed_webhook_left_out(runner, client, session, campaign, fake_stripe):
    seen, missed = Gave(n=1), Gave(n=2, email="missed@example.org", amount=700, currency="eur")
    deliver(client, seen.events()["completed"])
    unpaid = Gave(n=3, email="unpaid@example.org").events()["completed"]["data"]["object"]
    unpaid["payment_status"] = "unpaid"
    subscription_mode = fixture("checkout_session")
    subscription_mode.update(id="cs_sub", mode="subscription", status="complete", payment_status="paid")
    paid = [g.events()["completed"]["data"]["object"] for g in (seen, missed)]
    sessions_list(fake_stripe, [*paid, unpaid, subscription_mode])
    result = runner.invoke(args=["stripe", "reconcile", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "would record contribution cs_C2 (pi_C2, 700 eur)" in result.output
    assert counters(session) == (0, 1)  # a dry run writes nothing
    result = runner.invoke(args=["stripe", "reconcile", "--since", "2025-01-01"])
    assert result.exit_code == 0, result.output
    assert "recorded contribution cs_C2 (pi_C2, 700 eur)" in result.output
    assert "examined 3 payment-mode Checkout Session(s), recorded 1" in result.output  # not the subscription one
    (req, *_) = fake_stripe.requests_to("GET", "/v1/checkout/sessions")[-2:]
    assert req.params["status"] == "complete" and req.params["created"] == {"gte": "1735689600"}
    assert counters(session) == (0, 2)
    row = session.scalar(select(Contribution).where(Contribution.payment_intent == "pi_C2"))
    assert (row.person, row.amount, row.currency) == ("email:missed@example.org", 700, "eur")
    assert "recorded 0" in runner.invoke(args=["stripe", "reconcile"]).output  # nothing left to record
    assert session.scalar(select(func.count(Member.id))) == 0


# --- staff: dashboard and stats API -------------------------------------------------------------------------

def test_staff_see_members_and_contributions_per_currency_never_summed(client, session, campaign, clock):
    member = Lifecycle(n=1, email="m@example.org").events()  # a member: invoice of 500 eur
    deliver(client, *(member[k] for k in ("customer", "created", "first_paid")))
    deliver(client, *(g.events()["completed"] for g in (
        Gave(n=1, email="a@example.org", amount=1000, currency="usd"),
        Gave(n=2, email="b@example.org", amount=2500, currency="usd"),
        Gave(n=3, email="c@example.org", amount=20000, currency="uah"),
        Gave(n=4, email="d@example.org", amount=700, currency="eur"))))
    deliver(client, Gave(n=4, email="d@example.org", amount=700, currency="eur").events()["refunded"])
    signed_in(client, session, clock, "viewer")
    body = client.get("/v1/staff/campaigns/members-25k/stats").get_json()
    assert body["count"] == 1
    assert body["revenue"] == [{"currency": "eur", "payments": 1, "amount": 500, "refunded": 0, "net": 500,
                                "shown": "€5.00"}]
    assert body["contributions"]["count"] == 3  # d's contribution was refunded
    assert [(r["currency"], r["payments"], r["amount"], r["refunded"], r["net"])
            for r in body["contributions"]["by_currency"]] == [
        ("usd", 2, 3500, 0, 3500), ("eur", 1, 700, 700, 0), ("uah", 1, 20000, 0, 20000)]
    page = client.get("/staff/campaigns/members-25k").get_data(as_text=True)
    assert 'data-testid="contributors">3<' in page
    assert "$35.00" in page and "UAH200.00" in page and "€5.00" in page
