"""Erasure of a member's personal data: confirmed by a mailed single-use link, or by support staff; no
trace of the address left in any text column; the count unchanged; later webhooks apply their money facts
without bringing the address back."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from service.campaigns.models import Campaign, CampaignDaily
from service.members.models import Member
from service.payments.models import MembershipInvoice
from service.staff.models import AuditEntry
from tests import factories
from tests.privacy_support import NORMALISED, OTHER, READER, join, traces
from tests.stripe_events import PRICES_SETTING, build_event, checkout_session, customer, post


@pytest.fixture
def app_config(app_config):
    return {**app_config, "STRIPE_PRICES": PRICES_SETTING}


@pytest.fixture
def me(app, client, session, clock):
    factories.campaign(session, clock.now())
    session.commit()
    person = join(app, client, session, n=1)
    join(app, client, session, n=2, email=OTHER, reader="rdr_someone_else")
    return person


def _count(session):
    session.expire_all()
    c = session.scalar(sa.select(Campaign))
    daily = session.execute(sa.select(CampaignDaily.day, CampaignDaily.plan, CampaignDaily.locale,
                                      CampaignDaily.source, CampaignDaily.joined, CampaignDaily.ended)
                            .order_by(CampaignDaily.id)).all()
    return c.count, daily


def _confirmation_token(session) -> str:
    mail = sa.Table("mail_outbox", sa.MetaData(), autoload_with=session.connection())
    texts = [c for c in ("body", "context") if c in mail.c]  # the outbox renders the body when it sends
    row = session.execute(sa.select(*[mail.c[c] for c in texts]).where(mail.c.to_addr == NORMALISED)
                          .order_by(mail.c.id.desc())).first()
    return re.search(r"/v1/members/erasure/([A-Za-z0-9_-]+)", " ".join(row)).group(1)


def test_confirmed_erasure_leaves_no_trace_and_keeps_the_count(client, session, me):
    before = _count(session)
    assert before[0] == 2 and traces(session, NORMALISED)
    auth = {"Authorization": f"Bearer {me.token}"}
    r = client.post("/v1/members/me/erase", headers=auth)
    assert r.status_code == 202
    token = _confirmation_token(session)
    page = client.get(f"/v1/members/erasure/{token}")  # opening the link erases nothing (mail scanners)
    assert page.status_code == 200 and b"<form method=\"post\"" in page.data
    assert session.scalar(sa.select(sa.func.count()).select_from(Member).where(Member.email == NORMALISED)) == 1
    done = client.post(f"/v1/members/erasure/{token}", data={})
    assert done.status_code == 200 and b"erased" in done.data
    assert traces(session, NORMALISED) == []  # every text column of every table
    assert traces(session, READER) == []  # the reader id tied their reading to them
    assert traces(session, OTHER)  # someone else's data stays
    assert _count(session) == before
    assert client.get("/v1/members/me", headers=auth).status_code == 401  # tokens revoked
    assert client.post(f"/v1/members/erasure/{token}").status_code == 410  # single use
    assert client.get(f"/v1/members/erasure/{token}").status_code == 410
    entry = session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "member.erase"))
    assert entry.actor == f"member:{me.member.id}" and entry.details["member_id"] == me.member.id


def test_erasure_link_expires(client, session, clock, me):
    client.post("/v1/members/me/erase", headers={"Authorization": f"Bearer {me.token}"})
    token = _confirmation_token(session)
    clock.advance(minutes=61)
    assert client.post(f"/v1/members/erasure/{token}").status_code == 410
    assert traces(session, NORMALISED)


def test_later_webhooks_apply_money_facts_without_the_address(app, client, session, runner, me):
    before = _count(session)
    out = runner.invoke(args=["member", "erase", NORMALISED, "--by", "support@news.example", "--yes"])
    assert out.exit_code == 0, out.output
    assert traces(session, NORMALISED) == []
    erased_id = me.member.id
    events = me.life.events()
    # Old events delivered late (created before the erasure): the renewal's payment applies to the erased member.
    for name in ("renewal_paid", "renewed"):
        assert post(client, events[name]).status_code == 200
    late_customer = build_event("customer.updated", customer(me.life.customer, me.life.email, created=me.life.at(0)),
                                created=me.life.at(1), id="evt_late_customer")
    assert post(client, late_customer).status_code == 200
    # An old checkout of another Stripe customer with the erased address: the address is not learned either.
    other = build_event("checkout.session.completed",
                        checkout_session("cs_old", "cus_OLD", "sub_OLD", email=me.life.email,
                                         metadata={"plan": "monthly", "campaign": "members-25k"},
                                         created=me.life.at(0)), created=me.life.at(0, seconds=9), id="evt_old_cs")
    assert post(client, other).status_code == 200
    # A replay of an erased event finds no body.
    replay = runner.invoke(args=["webhooks", "replay", "evt_L1_first_paid"])
    assert "evt_L1_first_paid" in replay.output
    assert traces(session, NORMALISED) == []
    session.expire_all()
    paid = session.scalars(sa.select(MembershipInvoice.invoice_id).where(
        MembershipInvoice.customer_id == me.life.customer)).all()
    assert sorted(paid) == ["in_L1_1", "in_L1_2"]
    assert session.scalar(sa.select(Member.email).where(Member.id == erased_id)).endswith("@erased.invalid")
    assert _count(session) == before
    entry = session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "member.erase"))
    assert entry.actor == "support@news.example"


def test_a_new_checkout_after_erasure_is_a_new_person(client, session, runner, clock, me):
    assert runner.invoke(args=["member", "erase", NORMALISED, "--yes"]).exit_code == 0
    later = clock.now() + timedelta(days=1)
    ev = build_event("customer.created", customer("cus_NEW", me.life.email, created=later), created=later,
                     id="evt_new_customer")
    ev2 = build_event("checkout.session.completed",
                      checkout_session("cs_new", "cus_NEW", "sub_NEW", email=me.life.email,
                                       metadata={"plan": "monthly", "campaign": "members-25k"}, created=later),
                      created=later, id="evt_new_cs")
    assert post(client, ev).status_code == 200 and post(client, ev2).status_code == 200
    session.expire_all()
    new = session.scalar(sa.select(Member).where(Member.email == NORMALISED))
    assert new is not None and new.id != me.member.id


def test_erasure_deletes_the_stripe_customer_when_configured(app, session, runner, fake_stripe, me):
    app.extensions["privacy"] = type(app.extensions["privacy"])(
        erase_stripe_customer=True, erasure_link_ttl=app.extensions["privacy"].erasure_link_ttl,
        retention=app.extensions["privacy"].retention)
    import stripe

    app.extensions["stripe"] = stripe.StripeClient("sk_test_123", base_addresses={"api": fake_stripe.url})
    fake_stripe.error("DELETE", r"/v1/customers/cus_L1", status=500, message="down", type_="api_error")
    out = runner.invoke(args=["member", "erase", NORMALISED, "--yes"])
    assert out.exit_code == 1 and "nothing was erased" in out.output
    assert traces(session, NORMALISED)
    fake_stripe.reply("DELETE", r"/v1/customers/cus_L1", {"id": "cus_L1", "object": "customer", "deleted": True})
    out = runner.invoke(args=["member", "erase", NORMALISED, "--yes"])
    assert out.exit_code == 0, out.output
    assert fake_stripe.requests_to("DELETE", "/v1/customers/cus_L1")
    assert traces(session, NORMALISED) == []
