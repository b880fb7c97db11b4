"""Checkout claims never hand over someone else's account (issue 11, items 1 and 2).

Stripe Checkout does not prove the buyer owns the email they type. A claim signs in only a member that
nothing but that checkout stands behind; anyone else gets 202 and a sign-in link at their own address.
A new customer with a member's email never becomes their customer of record until they sign in with a
link. Claims are for membership prices only; a member a claim creates before the webhooks is provisional.
"""

from __future__ import annotations

import itertools
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from service.campaigns.models import Campaign
from service.extensions import db
from service.members.models import Member
from service.paywall.models import OutboxMessage
from tests import factories
from tests.stripe_events import (
    MONTHLY_PRICE,
    PRICES_SETTING,
    Lifecycle,
    checkout_session,
    post,
    subscription,
)

VICTIM = "victim@example.org"
SITE = "https://news.example/account"


# --- set-up --------------------------------------------------------------------------------------------

@pytest.fixture
def app(app_config, fake_stripe):
    from service import create_app

    app = create_app({**app_config, "STRIPE_API_BASE": fake_stripe.url, "STRIPE_PRICES": PRICES_SETTING,
                      "ACCESS_MEMBER_CACHE_SECONDS": 0.0})
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


class Buyer:
    """One checkout (Lifecycle n, email typed at Checkout), with Stripe's side served by the fake."""

    def __init__(self, fake, clock, n: int, email: str, price: str = MONTHLY_PRICE) -> None:
        self.life = Lifecycle(n=n, email=email, start=clock.now() - timedelta(minutes=5))
        self.events = self.life.events()
        self.session_id = f"cs_L{n}"
        sub = subscription(self.life.subscription, self.life.customer, price, created=self.life.at(0))
        cs = checkout_session(self.session_id, self.life.customer, self.life.subscription, email=email,
                              metadata={"plan": "monthly"}, created=self.life.at(0))
        fake.reply("GET", rf"/v1/checkout/sessions/{self.session_id}", {**cs, "subscription": sub})
        fake.reply("GET", rf"/v1/subscriptions/{self.life.subscription}", sub)

    @property
    def customer(self) -> str:
        return self.life.customer

    def deliver(self, client, *names: str) -> None:
        for name in names:
            assert post(client, self.events[name]).status_code == 200

    def claim(self, client, **body):
        return client.post(f"/v1/checkout/sessions/{self.session_id}/claim", json=body or None)


@pytest.fixture
def portal(fake_stripe):
    """The customers the service opened billing portals for (the fake records each request)."""
    fake_stripe.reply("POST", r"/v1/billing_portal/sessions", {"id": "bps_1", "object": "billing_portal.session",
                                                               "url": "https://billing.stripe.com/p/session/x"})

    def opened() -> list[str]:
        return [r.params["customer"] for r in fake_stripe.requests_to("POST", "/v1/billing_portal/sessions")]
    return opened


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def last_link(to: str) -> str:
    msgs = db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.to_addr == to)
                              .order_by(OutboxMessage.id.desc())).all()
    assert msgs, f"no mail to {to}"
    return re.search(r"/v1/auth/magic-links/(\S+)", msgs[0].body).group(1)


def mails_to(to: str) -> int:
    """Sign-in mail to this address (a welcome mail is not a link)."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)
                             .where(OutboxMessage.to_addr == to, OutboxMessage.kind.like("sign_in%")))


def sign_in(client, email: str) -> str:
    """Ask for a link, use it: the member token it hands out."""
    assert client.post("/v1/auth/magic-links", json={"email": email, "return_url": SITE}).status_code == 202
    return use_link(client, last_link(email))


def use_link(client, link: str) -> str:
    r = client.get(f"/v1/auth/magic-links/{link}")
    assert r.status_code == 302
    return parse_qs(urlsplit(r.headers["Location"]).fragment)["member_token"][0]


def member(email: str) -> Member:
    db.session.expire_all()
    return db.session.scalar(sa.select(Member).where(Member.email == email))


# --- the victim, before the attacker's checkout ------------------------------------------------------------

def pre_existing(client, fake, clock) -> set[str]:
    """A member from before (staff import, or joined before this service recorded who created whom)."""
    m = factories.member(db.session, clock.now(), email=VICTIM, first_paid_at=clock.now() - timedelta(days=40))
    factories.subscription(db.session, clock.now(), m, status="active",
                           current_period_end=clock.now() + timedelta(days=20))
    m.stripe_customer_id = "cus_victim"
    db.session.commit()
    return {"cus_victim"}


def paid_elsewhere(client, fake, clock) -> set[str]:
    """Joined with their own checkout (another Stripe customer), never signed in with a link."""
    own = Buyer(fake, clock, 7, VICTIM)
    own.deliver(client, "checkout", "customer", "created", "first_paid")
    return {own.customer}


def signed_in(client, fake, clock) -> set[str]:
    """Joined with their own checkout and signed in with a mailed link."""
    customers = paid_elsewhere(client, fake, clock)
    sign_in(client, VICTIM)
    return customers


VICTIMS = {"pre-existing": pre_existing, "paid-elsewhere": paid_elsewhere, "signed-in": signed_in}

# The attacker's checkout (Lifecycle 1, the victim's email typed) and claims, in every order that matters:
# webhooks before the claim, the claim before any webhook, and a subscription known before its email.
ORDERS = {
    "webhook-before-claim": ("checkout", "customer", "created", "first_paid", "claim"),
    "claim-before-webhook": ("claim", "checkout", "customer", "created", "first_paid", "claim"),
    "subscription-before-email": ("created", "claim", "customer", "first_paid", "checkout", "claim"),
    "claim-between": ("checkout", "claim", "created", "claim", "customer", "first_paid", "claim"),
}


def assert_never_theirs(client, tokens: list[str], victim: Member, victim_customers: set[str], opened) -> None:
    """No token reads the victim's /members/me, opens their billing portal or gets access as them."""
    for token in tokens:
        me = client.get("/v1/members/me", headers=bearer(token))
        assert me.status_code == 401 or me.get_json()["id"] != victim.id
        client.post("/v1/billing-portal/sessions", json={}, headers=bearer(token))
        access = client.post("/v1/access", json={"article": {"id": "a1"}, "member_token": token}).get_json()
        assert access["member"] is None or access["member"]["id"] != victim.id
    assert not set(opened()) & victim_customers


@pytest.mark.parametrize(("victim_kind", "order"), list(itertools.product(VICTIMS, ORDERS)))
def test_a_checkout_with_someone_elses_email_never_yields_their_account(client, fake_stripe, clock, portal,
                                                                         victim_kind, order):
    victim_customers = VICTIMS[victim_kind](client, fake_stripe, clock)
    victim = member(VICTIM)
    record_before = victim.stripe_customer_id
    attacker = Buyer(fake_stripe, clock, 1, VICTIM)
    tokens, answers = [], []
    for step in ORDERS[order]:
        if step == "claim":
            r = attacker.claim(client)
            answers.append(r.status_code)
            assert r.status_code in (200, 202), r.get_json()
            if r.status_code == 200:
                tokens.append(r.get_json()["member_token"])
            else:
                assert r.get_json()["status"] == "verify_email" and "member" not in r.get_json()
        else:
            attacker.deliver(client, step)
        assert_never_theirs(client, tokens, victim, victim_customers, portal)
    assert 202 in answers
    # the attacker's customer counts for the same person but is never the customer of record
    assert member(VICTIM).stripe_customer_id == record_before
    # the one who reads the mail (the victim) can sign in; the attacker's customer is not theirs to open yet
    assert mails_to(VICTIM) >= 1


@pytest.mark.parametrize("order", list(ORDERS))
def test_a_new_readers_claim_signs_them_in_whatever_the_order(client, fake_stripe, clock, portal, order):
    reader = Buyer(fake_stripe, clock, 1, "new.reader@example.org")
    tokens = []
    for step in ORDERS[order]:
        if step == "claim":
            r = reader.claim(client)
            assert r.status_code == 200, r.get_json()
            tokens.append(r.get_json()["member_token"])
        else:
            reader.deliver(client, step)
    me = client.get("/v1/members/me", headers=bearer(tokens[-1])).get_json()
    assert (me["email"], me["access"]) == ("new.reader@example.org", "member")
    access = client.post("/v1/access", json={"article": {"id": "a1"}, "member_token": tokens[-1]}).get_json()
    assert access["reason"] == "member" and access["entitlement"]
    assert client.post("/v1/billing-portal/sessions", json={}, headers=bearer(tokens[-1])).status_code == 201
    assert portal() == [reader.customer]
    assert mails_to("new.reader@example.org") == 0


def test_the_mailed_link_signs_the_member_in_and_repeated_claims_mail_once(client, fake_stripe, clock):
    pre_existing(client, fake_stripe, clock)
    attacker = Buyer(fake_stripe, clock, 1, "  Victim@Example.org ")
    for _ in range(3):
        r = attacker.claim(client, return_url="https://news.example/welcome")
        assert r.status_code == 202 and r.headers["Cache-Control"] == "no-store"
    assert mails_to(VICTIM) == 1  # one checkout, one mail: no flood, the sign-in quota is not spent
    r = client.get(f"/v1/auth/magic-links/{last_link(VICTIM)}")
    assert r.headers["Location"].startswith("https://news.example/welcome#member_token=")
    assert attacker.claim(client, return_url="https://evil.example/").status_code == 422


def test_a_new_customer_becomes_the_customer_of_record_only_after_a_link_sign_in(client, fake_stripe, clock,
                                                                                   portal):
    """A member with no customer yet (staff import) joins by checkout: the portal waits for a sign-in."""
    factories.member(db.session, clock.now(), email="imported@example.org")
    db.session.commit()
    buyer = Buyer(fake_stripe, clock, 1, "imported@example.org")
    buyer.deliver(client, "checkout", "customer", "created", "first_paid")
    assert member("imported@example.org").stripe_customer_id is None
    assert buyer.claim(client).status_code == 202
    token = use_link(client, last_link("imported@example.org"))
    m = member("imported@example.org")
    assert m.stripe_customer_id == buyer.customer and m.email_verified_at == clock.now()
    assert client.post("/v1/billing-portal/sessions", json={}, headers=bearer(token)).status_code == 201
    assert portal() == [buyer.customer]


def test_on_sign_in_the_customer_of_the_live_subscription_is_adopted(client, fake_stripe, clock, portal):
    """Rejoining as a new customer: after a sign-in, the portal opens the customer that holds the membership."""
    old = Buyer(fake_stripe, clock, 1, "back@example.org")
    old.deliver(client, "customer", "created", "first_paid", "canceled")
    new = Buyer(fake_stripe, clock, 2, "back@example.org")
    new.deliver(client, "customer", "created", "first_paid")
    assert member("back@example.org").stripe_customer_id == old.customer
    token = sign_in(client, "back@example.org")
    assert member("back@example.org").stripe_customer_id == new.customer
    client.post("/v1/billing-portal/sessions", json={}, headers=bearer(token))
    assert portal() == [new.customer]


def test_claim_tokens_are_revoked_when_another_customer_joins_the_member(client, fake_stripe, clock):
    first = Buyer(fake_stripe, clock, 1, "shared@example.org")
    token = first.claim(client).get_json()["member_token"]
    assert client.get("/v1/members/me", headers=bearer(token)).status_code == 200
    Buyer(fake_stripe, clock, 2, "shared@example.org").deliver(client, "customer", "created")
    assert client.get("/v1/members/me", headers=bearer(token)).status_code == 401
    assert first.claim(client).status_code == 202  # two customers stand behind the member now


def test_the_first_link_sign_in_revokes_claim_tokens_and_ends_claims(client, fake_stripe, clock):
    buyer = Buyer(fake_stripe, clock, 1, "reader@example.org")
    claim_token = buyer.claim(client).get_json()["member_token"]
    link_token = sign_in(client, "reader@example.org")
    assert client.get("/v1/members/me", headers=bearer(claim_token)).status_code == 401
    assert client.get("/v1/members/me", headers=bearer(link_token)).status_code == 200
    assert buyer.claim(client).status_code == 202
    sign_in(client, "reader@example.org")  # later sign-ins keep the tokens they handed out
    assert client.get("/v1/members/me", headers=bearer(link_token)).status_code == 200


# --- provisional members and membership plans -----------------------------------------------------------

def test_a_claim_before_the_webhooks_is_provisional_for_an_hour_and_never_counted(client, fake_stripe, clock):
    campaign = factories.campaign(db.session, clock.now())
    db.session.commit()
    buyer = Buyer(fake_stripe, clock, 1, "fresh@example.org")
    body = buyer.claim(client).get_json()
    token = body["member_token"]
    assert body["member"]["access"] == "provisional"
    assert body["member"]["access_until"] == (clock.now() + timedelta(hours=1)).isoformat()
    access = client.post("/v1/access", json={"article": {"id": "a1"}, "member_token": token}).get_json()
    assert access["reason"] == "provisional"
    assert access["entitlement"]["expires_at"] <= (clock.now() + timedelta(hours=1)).isoformat()
    db.session.expire_all()
    assert db.session.get(Campaign, campaign.id).count == 0
    clock.advance(minutes=59, seconds=30)  # the entitlement never outlives the provisional hour
    access = client.post("/v1/access", json={"article": {"id": "a1"}, "member_token": token}).get_json()
    assert access["reason"] == "provisional"
    assert access["entitlement"]["expires_at"] == (clock.now() + timedelta(seconds=30)).isoformat()
    clock.advance(minutes=1)  # no membership arrived: it lapses by itself
    access = client.post("/v1/access", json={"article": {"id": "a1"}, "member_token": token}).get_json()
    assert access["reason"] == "metered" and access["entitlement"] is None
    assert client.get("/v1/members/me", headers=bearer(token)).get_json()["access"] == "none"


def test_the_membership_webhook_ends_the_provisional_state(client, fake_stripe, clock):
    buyer = Buyer(fake_stripe, clock, 1, "fresh@example.org")
    token = buyer.claim(client).get_json()["member_token"]
    buyer.deliver(client, "checkout")  # the checkout's own webhook records an incomplete subscription
    assert client.get("/v1/members/me", headers=bearer(token)).get_json()["access"] == "provisional"
    buyer.deliver(client, "created", "first_paid")
    clock.advance(hours=2)
    assert client.get("/v1/members/me", headers=bearer(token)).get_json()["access"] == "member"


def test_a_claim_for_a_price_that_is_not_a_membership_is_409(client, fake_stripe, clock):
    other = Buyer(fake_stripe, clock, 1, "donor@example.org", price="price_donation")
    r = other.claim(client)
    assert r.status_code == 409 and r.mimetype == "application/problem+json"
    assert r.get_json()["type"].endswith("/checkout-not-membership")
    assert member("donor@example.org") is None


def test_a_stored_checkout_whose_subscription_stripe_prices_elsewhere_is_409(client, fake_stripe, clock):
    """The stored webhook says plan=monthly in metadata; the subscription, asked of Stripe, says otherwise."""
    other = Buyer(fake_stripe, clock, 1, "meta@example.org", price="price_donation")
    other.deliver(client, "checkout")
    r = other.claim(client)
    assert r.status_code == 409
    assert [q.path for q in fake_stripe.requests] == ["/v1/subscriptions/sub_L1"]  # the session was stored


def test_a_checkout_without_subscription_is_409(client, fake_stripe, clock):
    buyer = Buyer(fake_stripe, clock, 1, "nosub@example.org")
    cs = checkout_session("cs_L1", "cus_L1", None, email="nosub@example.org", created=clock.now())
    fake_stripe.reply("GET", r"/v1/checkout/sessions/cs_L1", cs)
    assert buyer.claim(client).status_code == 409


def test_provisional_standing_rule():
    """Provisional only for a never-paid member with nothing past `incomplete`, and only until its end."""
    from datetime import UTC, datetime

    from service.members.standing import Standing, Sub, membership

    now, until = datetime(2025, 6, 1, tzinfo=UTC), datetime(2025, 6, 1, 1, tzinfo=UTC)

    def standing(subs, paid=None, at=now):
        return membership(subs, member_status="pending", first_paid_at=paid, now=at, grace_days=7,
                          provisional_until=until)

    assert standing([]) == standing([Sub("incomplete", None)]) == Standing("provisional", until)
    assert standing([], at=until) == Standing("none")
    assert standing([Sub("canceled", None)]) == Standing("none")
    assert standing([Sub("incomplete", None)], paid=now) == Standing("lapsed")
    assert standing([Sub("active", until)]) == Standing("member", until)


# --- the migration ---------------------------------------------------------------------------------------

def test_migration_0006_keeps_members_and_backfills_verified_addresses(tmp_path, app_config):
    """Members survive; an address with a used sign-in link is verified; nobody is 'created by' a checkout."""
    from flask_migrate import downgrade, upgrade

    from service import create_app

    url = f"sqlite:///{tmp_path / 'm.sqlite3'}"
    app = create_app({**app_config, "DATABASE_URL": url})
    with app.app_context():
        upgrade(revision="0005")
        with db.engine.begin() as conn:
            for i, email in enumerate(("a@example.org", "b@example.org"), 1):
                conn.execute(sa.text(
                    "INSERT INTO members (id, email, stripe_customer_id, status, plan, locale, source, token_version,"
                    " created_at, updated_at) VALUES (:i, :e, :c, 'active', '', '', '', 1, '2025-01-01 00:00:00',"
                    " '2025-01-01 00:00:00')"), {"i": i, "e": email, "c": f"cus_{i}"})
            conn.execute(sa.text(
                "INSERT INTO magic_links (token_hash, email, return_url, created_at, expires_at, used_at) VALUES "
                "('h1', 'a@example.org', 'https://news.example/', '2025-01-02 00:00:00', '2025-01-02 00:15:00',"
                " '2025-01-02 00:01:00')"))
        upgrade(revision="0006")
        with db.engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT email, stripe_customer_id, email_verified_at, created_by_customer,"
                                        " provisional_until FROM members ORDER BY id")).all()
        assert [(r[0], r[1], r[3], r[4]) for r in rows] == [("a@example.org", "cus_1", None, None),
                                                           ("b@example.org", "cus_2", None, None)]
        assert str(rows[0][2]).startswith("2025-01-02 00:01:00") and rows[1][2] is None
        downgrade(revision="0005")
        with db.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM members")).scalar() == 2
        db.session.remove()
        db.engine.dispose()
