"""Data rights and mail, end to end: the erasure confirmation is a real mail kind (the member's language, HTML
and text, through SMTP after the commit, its link wiped once sent; none after the erasure itself); a late
Stripe event about an erased person is stored without its body (no trace of the address anywhere, its money
facts applied, a replay says the body was erased); the sign-in answer mail in the language the request names,
for members and strangers alike."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from service.mail import send
from service.mail.models import OutboxMessage
from service.members.models import Member
from service.payments.ledger import ERASED_BODY
from service.payments.models import StripePayment, WebhookEvent
from service.paywall.models import MagicLink
from service.privacy.models import ErasureRequest
from tests import factories
from tests.mail_support import parts, smtp_server
from tests.privacy_support import EMAIL, NORMALISED, OTHER, join, traces
from tests.stripe_events import PRICES_SETTING, build_event, charge, post

RETURN = "https://news.example/2025/06/story"


@pytest.fixture
def smtp():
    yield from smtp_server()


@pytest.fixture
def app_config(app_config, smtp):
    return {**app_config, "STRIPE_PRICES": PRICES_SETTING, "SMTP_URL": f"smtp://127.0.0.1:{smtp.port}",
            "MAIL_FROM": "News <members@news.example>", "MEMBER_ACCOUNT_URL": "https://news.example/account"}


@pytest.fixture
def me(app, client, session, clock):
    factories.campaign(session, clock.now())
    session.commit()
    person = join(app, client, session, n=1)  # checkout locale: uk
    join(app, client, session, n=2, email=OTHER, reader="rdr_someone_else")
    return person


def _inbox_for(smtp, address):
    return [msg for rcpt, msg in smtp.inbox.messages if rcpt == [address]]


# --- the erasure confirmation mail ------------------------------------------------------------------------

@pytest.mark.parametrize(("locale", "subject", "phrase"), [
    ("uk", "Підтвердіть видалення ваших даних", "протягом 60 хвилин"),
    ("en", "Confirm the erasure of your data", "within 60 minutes"),
])
def test_erasure_confirmation_is_mailed_in_the_members_language(client, session, smtp, me, locale, subject, phrase):
    session.execute(sa.update(Member).where(Member.id == me.member.id).values(locale=locale))
    session.commit()
    before = len(smtp.inbox.messages)
    r = client.post("/v1/members/me/erase", headers={"Authorization": f"Bearer {me.token}"})
    assert r.status_code == 202
    [msg] = _inbox_for(smtp, NORMALISED)[-1:]  # sent right after the commit, by the request itself
    assert len(smtp.inbox.messages) == before + 1
    assert msg["Subject"] == subject and msg["Content-Language"] == locale
    text, html = parts(msg)
    assert phrase in text and "https://news.example/account" in text
    token = re.search(r"/v1/members/erasure/([A-Za-z0-9_-]+)", text).group(1)
    assert f'<html lang="{locale}">' in html and re.search(rf'href="[^"]*/v1/members/erasure/{token}"', html)
    request_id = session.scalar(sa.select(ErasureRequest.id).where(ErasureRequest.member_id == me.member.id))
    row = session.scalar(sa.select(OutboxMessage).where(OutboxMessage.kind == "erasure_confirm"))
    assert (row.key, row.status, row.member_id) == (f"erasure_confirm:request:{request_id}", "sent", me.member.id)
    assert token not in row.body + row.html + row.context  # the one-time link is not kept once sent
    # The erasure is confirmed on the page; no mail follows it (the address is gone).
    done = client.post(f"/v1/members/erasure/{token}", data={})
    assert done.status_code == 200 and b"No confirmation mail follows" in done.data
    assert len(smtp.inbox.messages) == before + 1
    assert traces(session, NORMALISED) == []


def test_each_erasure_request_is_one_mail_and_an_expired_one_is_never_sent(app, client, session, clock, smtp, me):
    auth = {"Authorization": f"Bearer {me.token}"}
    smtp.inbox.answers = ["451 4.3.0 Try again later"]  # the first request's mail waits for a retry
    assert client.post("/v1/members/me/erase", headers=auth).status_code == 202
    assert client.post("/v1/members/me/erase", headers=auth).status_code == 202
    rows = session.scalars(sa.select(OutboxMessage).where(OutboxMessage.kind == "erasure_confirm")
                           .order_by(OutboxMessage.id)).all()
    assert [r.status for r in rows] == ["pending", "sent"] and rows[0].key != rows[1].key
    clock.advance(minutes=61)  # the first link expired before the retry
    summary = send.deliver(session, app.extensions["mail"], clock.now(), keys=[rows[0].key])
    assert summary.failed == 1 and summary.sent == 0
    session.expire_all()
    first = session.get(OutboxMessage, rows[0].id)
    assert first.status == "failed" and "expired" in first.last_error and "/v1/members/erasure/" not in (
        first.body + first.html + first.context)
    subjects = [m["Subject"] for m in _inbox_for(smtp, NORMALISED)]
    assert subjects.count("Підтвердіть видалення ваших даних") == 1  # the second request's only


def test_staff_preview_the_erasure_mail_in_both_languages(client, session, clock):
    from tests.staff_support import signed_in

    signed_in(client, session, clock, "viewer")
    page = client.get("/staff/mail/").get_data(as_text=True)
    for locale, words in (("en", "Confirm the erasure of your data"), ("uk", "Підтвердіть видалення ваших даних")):
        assert f"/staff/mail/preview/erasure_confirm/{locale}" in page
        preview = client.get(f"/staff/mail/preview/erasure_confirm/{locale}")
        assert preview.status_code == 200 and words in preview.get_data(as_text=True)


# --- late Stripe events about an erased person -------------------------------------------------------------

def _erase(runner):
    out = runner.invoke(args=["member", "erase", NORMALISED, "--by", "support@news.example", "--yes"])
    assert out.exit_code == 0, out.output


def test_a_late_refund_after_erasure_applies_without_keeping_the_address(client, session, clock, runner, me):
    _erase(runner)
    assert traces(session, NORMALISED) == []
    obj = charge("ch_L1_1", "pi_L1_1", amount=500, amount_refunded=500, customer=me.life.customer,
                 created=me.life.at(0))
    obj["billing_details"] = {**obj["billing_details"], "email": EMAIL, "name": "Reader One"}
    obj["receipt_email"] = EMAIL
    refund = build_event("charge.refunded", obj, created=clock.now(), id="evt_late_refund")
    assert post(client, refund).status_code == 200
    assert traces(session, NORMALISED) == []  # every text column of every table
    session.expire_all()
    row = session.scalar(sa.select(WebhookEvent).where(WebhookEvent.stripe_event_id == "evt_late_refund"))
    assert (row.type, row.status, row.payload) == ("charge.refunded", "applied", ERASED_BODY)
    paid = session.scalar(sa.select(StripePayment).where(StripePayment.payment_key == "pi_L1_1"))
    assert paid.reversal == "refunded" and paid.reversed_at is not None  # the money fact applied
    replay = runner.invoke(args=["webhooks", "replay", "evt_late_refund"])
    assert "evt_late_refund" in replay.output and "body was erased" in replay.output
    # Someone else's refund keeps its body.
    other = charge("ch_L2_1", "pi_L2_1", amount=500, amount_refunded=500, customer="cus_L2", created=me.life.at(0))
    other["billing_details"] = {**other["billing_details"], "email": OTHER}
    assert post(client, build_event("charge.refunded", other, created=clock.now(), id="evt_other_refund")
                ).status_code == 200
    kept = session.scalar(sa.select(WebhookEvent.payload).where(WebhookEvent.stripe_event_id == "evt_other_refund"))
    assert OTHER in kept


def test_an_erased_address_without_a_customer_is_not_kept_but_a_new_payment_is(client, session, clock, runner, me):
    _erase(runner)
    guest = charge("ch_guest_old", "pi_guest_old", amount=700, amount_refunded=700, created=me.life.at(1))
    guest["billing_details"] = {**guest["billing_details"], "email": EMAIL}
    assert post(client, build_event("charge.refunded", guest, created=clock.now(), id="evt_guest_old")
                ).status_code == 200
    # A payment made after the erasure with the same address is a new person's: its body is kept.
    later = clock.now() + timedelta(days=1)
    new = charge("ch_guest_new", "pi_guest_new", amount=700, amount_refunded=700, created=later)
    new["billing_details"] = {**new["billing_details"], "email": EMAIL}
    assert post(client, build_event("charge.refunded", new, created=later, id="evt_guest_new")).status_code == 200
    bodies = dict(session.execute(sa.select(WebhookEvent.stripe_event_id, WebhookEvent.payload)
                                  .where(WebhookEvent.stripe_event_id.in_(("evt_guest_old", "evt_guest_new")))).all())
    assert bodies["evt_guest_old"] == ERASED_BODY and EMAIL in bodies["evt_guest_new"]
    assert session.scalar(sa.select(StripePayment.reversal).where(StripePayment.payment_key == "pi_guest_old")) \
        == "refunded"


# --- the sign-in answer in the request's language ---------------------------------------------------------

def _ask(client, email, locale=None):
    body = {"email": email, "return_url": RETURN} | ({"locale": locale} if locale else {})
    return client.post("/v1/auth/magic-links", json=body)


def test_sign_in_answer_mail_in_the_requested_language_for_members_and_strangers(client, session, clock, smtp):
    factories.member(session, clock.now(), email="member@example.org", locale="en")
    session.commit()
    a = _ask(client, "member@example.org", "uk-UA")
    b = _ask(client, "stranger@example.org", "uk")
    assert a.status_code == b.status_code == 202 and a.get_data() == b.get_data()  # same answer
    assert session.scalar(sa.select(sa.func.count()).select_from(MagicLink)) == 2  # same work
    [link_mail] = _inbox_for(smtp, "member@example.org")
    [note] = _inbox_for(smtp, "stranger@example.org")
    assert link_mail["Subject"] == note["Subject"] == "Ваше посилання для входу"
    assert link_mail["Content-Language"] == note["Content-Language"] == "uk"
    assert "/v1/auth/magic-links/" in parts(link_mail)[0] and "/v1/auth/magic-links/" not in parts(note)[0]
    assert "ми не знайшли для неї членства" in parts(note)[0]


def test_sign_in_without_a_locale_uses_the_members_then_english(client, session, clock, smtp):
    factories.member(session, clock.now(), email="member@example.org", locale="uk")
    session.commit()
    assert _ask(client, "member@example.org").status_code == 202
    assert _ask(client, "stranger@example.org").status_code == 202
    assert _inbox_for(smtp, "member@example.org")[0]["Content-Language"] == "uk"
    assert _inbox_for(smtp, "stranger@example.org")[0]["Content-Language"] == "en"


@pytest.mark.parametrize("locale", ["<script>", "u", "uk-" + "x" * 40, 5])
def test_sign_in_with_a_malformed_locale_is_422(client, locale):
    r = client.post("/v1/auth/magic-links", json={"email": "a@example.org", "return_url": RETURN, "locale": locale})
    assert r.status_code == 422 and r.mimetype == "application/problem+json"
