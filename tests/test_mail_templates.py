"""Member mail in the reader's language: every kind in en and uk through a real SMTP exchange (aiosmtpd),
as multipart/alternative with a plain-text and an autoescaped HTML part; locale resolution; the staff page
with counts and previews."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest
import sqlalchemy as sa

from service.mail import member_mail, outbox, render, send
from service.mail.models import OutboxMessage
from tests import factories
from tests.mail_support import parts, smtp_server
from tests.staff_support import signed_in

# What each kind must say in each language (subject, a phrase of the body), and a link it must carry.
EXPECTED = {
    ("welcome", "en"): ("Welcome, and thank you for becoming a member", "Thank you for joining",
                        "https://news.example/account"),
    ("welcome", "uk"): ("Вітаємо та дякуємо, що стали членом спільноти", "Дякуємо, що приєдналися",
                        "https://news.example/account"),
    ("payment_failed", "en"): ("Your membership payment did not go through", "You keep full access until June 8, 2025",
                               "https://news.example/account"),
    ("payment_failed", "uk"): ("Не вдалося списати оплату за членство", "до 8 червня 2025",
                               "https://news.example/account"),
    ("ended", "en"): ("Your membership has ended", "ended on June 1, 2025",
                      "https://news.example/join?source=mail-ended"),
    ("ended", "uk"): ("Ваше членство завершилося", "завершилося 1 червня 2025",
                      "https://news.example/join?source=mail-ended"),
    ("gift_received", "en"): ("Olena gave you a membership", "6 months of membership",
                              "https://membership.example/gifts/CODE"),
    ("gift_received", "uk"): ("Olena дарує вам членство", "членство на 6 місяців",
                              "https://membership.example/gifts/CODE"),
    ("gift_purchased", "en"): ("Thank you for your gift membership", "12 months of membership", "taras@example.org"),
    ("gift_purchased", "uk"): ("Дякуємо за подароване членство", "членство на 12 місяців", "taras@example.org"),
    ("sign_in", "en"): ("Your sign-in link", "expires in 15 minutes", "/v1/auth/magic-links/"),
    ("sign_in", "uk"): ("Ваше посилання для входу", "діє 15 хвилин", "/v1/auth/magic-links/"),
    ("notice", "en"): ("Confirm", "Follow <this> link", "https://membership.example/confirm/X"),
    ("notice", "uk"): ("Підтвердіть", "Follow <this> link", "https://membership.example/confirm/X"),
    ("sign_in_unknown", "en"): ("Your sign-in link", "we found no membership", "https://news.example/join?source=sign-in"),
    ("erasure_confirm", "en"): ("Confirm the erasure of your data", "open this link within 60 minutes",
                                "/v1/members/erasure/"),
    ("erasure_confirm", "uk"): ("Підтвердіть видалення ваших даних", "протягом 60 хвилин", "/v1/members/erasure/"),
    ("sign_in_unknown", "uk"): ("Ваше посилання для входу", "ми не знайшли для неї членства",
                                "https://news.example/join?source=sign-in"),
}


@pytest.fixture
def smtp():
    yield from smtp_server()


@pytest.fixture
def app_config(app_config, smtp):
    return {**app_config, "SMTP_URL": f"smtp://127.0.0.1:{smtp.port}", "MAIL_FROM": "News <members@news.example>",
            "PAYWALL_JOIN_URL": "https://news.example/join", "MEMBER_ACCOUNT_URL": "https://news.example/account"}


def cause(session, clock, app, kind, locale):
    """Enqueue a mail of `kind` the way its fact does, for a member whose checkout locale is `locale`."""
    now = clock.now()
    m = factories.member(session, now, email=f"{kind}.{locale}@example.org", locale=f"{locale}-UA"
                         if locale == "uk" else locale, first_paid_at=None, status="pending")
    if kind == "welcome":
        m.first_paid_at, m.status = now, "active"
        member_mail.state_changed(session, m, {"first_paid_at": (None, now)}, at=now, now=now)
    elif kind == "payment_failed":
        member_mail.payment_failed(session, m, invoice_id=f"in_{locale}", subscription_status="past_due",
                                   failed_at=now, now=now)
    elif kind == "ended":
        m.status, m.ended_at, m.first_paid_at = "ended", now, now
        member_mail.state_changed(session, m, {"status": ("active", "ended")}, at=now, now=now)
    elif kind == "gift_received":
        member_mail.gift_received(session, gift_id=1 if locale == "en" else 2, to=m.email, locale=m.locale, months=6,
                                  redeem_url="https://membership.example/gifts/CODE", now=now, giver_name="Olena",
                                  message="<b>Enjoy</b> & read")
    elif kind == "gift_purchased":
        member_mail.gift_purchased(session, gift_id=1 if locale == "en" else 2, to=m.email, locale=m.locale,
                                   months=12, recipient_email="taras@example.org", recipient_name="", now=now)
    elif kind == "sign_in":
        from service.paywall import signin

        signin.request_magic_link(session, app.extensions["paywall"].settings, email=m.email,
                                  return_url="https://news.example/", now=now)
    elif kind == "notice":  # words the caller wrote (the paywall's older mail call)
        from service.paywall import mail

        mail.send(session, to=m.email, subject="Підтвердіть" if locale == "uk" else "Confirm",
                  body="Follow <this> link: https://membership.example/confirm/X", now=now, locale=locale)
    elif kind == "erasure_confirm":  # the member asked for the erasure of their data (service/privacy)
        from service.privacy import erasure

        erasure.request_erasure(session, app.extensions["privacy"], m, now,
                                app.extensions["paywall"].settings.public_base_url)
    else:  # sign_in_unknown: an address with no membership, in the locale the caller knows
        member_mail.sign_in(session, link_id=100 + len(locale), to=f"nobody.{locale}@example.org", locale=locale,
                            link=None, minutes=15, expires_at=now + timedelta(minutes=15), now=now)
    session.commit()


@pytest.mark.parametrize("locale", ["en", "uk"])
@pytest.mark.parametrize("kind", outbox.KINDS)
def test_each_mail_in_each_language_through_smtp(app, session, clock, smtp, kind, locale):
    cause(session, clock, app, kind, locale)
    summary = send.deliver(session, app.extensions["mail"], clock.now())
    assert summary.sent == 1, summary
    [(rcpt, msg)] = smtp.inbox.messages
    subject, phrase, link = EXPECTED[(kind, locale)]
    assert msg["Subject"] == subject and msg["Content-Language"] == locale
    assert msg["From"] == "News <members@news.example>" and msg["Auto-Submitted"] == "auto-generated"
    text, html = parts(msg)
    assert phrase in text and link in text
    assert f'<html lang="{locale}">' in html
    assert re.search(rf'href="[^"]*{re.escape(link)}', html) or kind in ("gift_purchased", "notice")
    assert phrase in " ".join(unescape(re.sub(r"<[^>]+>", "", html)).split())  # the same words in the HTML part
    assert "<this>" not in html  # (autoescaped)
    if kind == "gift_received":  # the giver's words: escaped in HTML, as written in the text part
        assert "&lt;b&gt;Enjoy&lt;/b&gt; &amp; read" in html and "<b>Enjoy</b>" not in html
        assert "<b>Enjoy</b> & read" in text
    row = session.scalars(sa.select(OutboxMessage)).one()
    assert row.status == "sent" and row.to_addr == rcpt[0]


def test_the_reader_locale_picks_the_language():
    assert [render.resolve_locale(x) for x in ("uk", "uk-UA", "uk_UA", "UK", "ua", "en-GB", "de", "", None)] == \
        ["uk", "uk", "uk", "uk", "uk", "en", "en", "en", "en"]


def test_ukrainian_plurals(app):
    settings = app.extensions["mail"]
    months = {n: render.render("gift_purchased", {**render.SAMPLES["gift_purchased"], "months": n}, settings, "uk").text
              for n in (1, 3, 12)}
    assert "на 1 місяць." in months[1] and "на 3 місяці." in months[3] and "на 12 місяців." in months[12]


def test_staff_see_counts_and_preview_every_mail_in_every_language(app, client, session, clock, smtp):
    signed_in(client, session, clock, "viewer")
    for i, status in enumerate(["sent", "sent", "pending", "failed"]):
        outbox.enqueue(session, key=f"k{i}", kind="welcome", to=f"r{i}@example.org", now=clock.now())
        session.flush()
        session.execute(sa.update(OutboxMessage).where(OutboxMessage.key == f"k{i}").values(status=status))
    session.commit()
    page = client.get("/staff/mail/")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert 'data-count="sent">2<' in body and 'data-count="pending">1<' in body and 'data-count="failed">1<' in body
    for kind in outbox.KINDS:
        for locale in render.LOCALES:
            assert f"/staff/mail/preview/{kind}/{locale}" in body
            preview = client.get(f"/staff/mail/preview/{kind}/{locale}")
            assert preview.status_code == 200, (kind, locale)
            html = preview.get_data(as_text=True)
            assert 'sandbox=""' in html and "srcdoc=" in html and "<pre" in html
    assert "Вітаємо та дякуємо" in client.get("/staff/mail/preview/welcome/uk").get_data(as_text=True)
    assert client.get("/staff/mail/preview/welcome/de").status_code == 404
    assert client.get("/staff/mail/preview/nope/en").status_code == 404


def test_the_mail_page_needs_a_staff_session(client):
    r = client.get("/staff/mail/")
    assert r.status_code == 302 and "/staff/login" in r.headers["Location"]
