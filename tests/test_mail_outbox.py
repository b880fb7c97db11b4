"""The mail outbox: one mail per fact (redelivery, replay, concurrent deliveries), sent after commit through
a real SMTP server (aiosmtpd), leases so that concurrent senders send each mail once, retries with back-off
for temporary failures, a final `failed` with the server's answer, the periodic job, production's rule."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from service import create_app
from service.config import ConfigError
from service.extensions import db
from service.mail import member_mail, outbox, send
from service.mail.models import OutboxMessage
from tests import factories
from tests.mail_support import parts, smtp_server
from tests.stripe_events import PRICES_SETTING, Lifecycle, build_event, invoice, post


@pytest.fixture
def smtp():
    yield from smtp_server()


@pytest.fixture
def app_config(app_config, smtp):
    return {**app_config, "SMTP_URL": f"smtp://127.0.0.1:{smtp.port}", "SMTP_TIMEOUT": 5,
            "STRIPE_PRICES": PRICES_SETTING, "MAIL_FROM": "News Membership <members@news.example>",
            "PAYWALL_JOIN_URL": "https://news.example/join", "MEMBER_ACCOUNT_URL": "https://news.example/account"}


@pytest.fixture
def settings(app):
    return app.extensions["mail"]


def mails(session, kind=None):
    session.expire_all()
    q = sa.select(OutboxMessage).order_by(OutboxMessage.id)
    if kind:
        q = q.where(OutboxMessage.kind == kind)
    return session.scalars(q).all()


def enqueue_some(session, clock, n, prefix="k"):
    for i in range(n):
        outbox.enqueue(session, key=f"{prefix}:{i}", kind="welcome", to=f"reader{i}@example.org", now=clock.now(),
                       locale="en", context={"plan": "monthly"})
    session.commit()
    outbox.pending_keys(session)  # (not sent after this commit: the test sends)


# --- once per fact ---------------------------------------------------------------------------------------

def test_welcome_once_in_the_checkout_locale_despite_redelivery_and_replay(client, session, runner, smtp):
    events = Lifecycle().events()  # checkout metadata: locale uk
    for name in ("checkout", "created", "first_paid", "first_payment"):
        assert post(client, events[name]).status_code == 200
    assert post(client, events["first_paid"]).get_json()["outcome"] == "duplicate"  # redelivered
    assert runner.invoke(args=["webhooks", "replay", "evt_L1_first_paid", "evt_L1_created"]).exit_code == 0
    welcome = mails(session, "welcome")
    assert [(m.key, m.locale, m.status) for m in welcome] == [(f"welcome:member:{welcome[0].member_id}", "uk",
                                                                "sent")]
    assert len(smtp.inbox.messages) == 1  # sent after the webhook's commit, once
    rcpt, msg = smtp.inbox.messages[0]
    assert rcpt == ["reader1@example.org"] and msg["Subject"] == welcome[0].subject
    text, html = parts(msg)
    assert "Дякуємо, що приєдналися" in text and "Дякуємо, що приєдналися" in html
    assert "https://news.example/account" in text


def test_payment_failed_once_per_invoice_with_the_account_page_and_the_end_of_grace(client, session, smtp):
    life = Lifecycle()
    events = life.events()
    for name in ("checkout", "created", "first_paid", "renewed", "renewal_paid", "payment_failed"):
        assert post(client, events[name]).status_code == 200
    # Stripe retries the same invoice two days later and fails again: a new event about the same invoice.
    again = build_event("invoice.payment_failed", invoice("in_L1_3", life.customer, life.subscription, paid=False,
                                                          created=life.at(62), email=life.email),
                        created=life.at(62), id="evt_L1_payment_failed_again")
    assert post(client, again).status_code == 200
    [failed] = mails(session, "payment_failed")
    assert failed.key == "payment_failed:invoice:in_L1_3" and failed.status == "sent"
    _, msg = smtp.inbox.messages[-1]
    text, html = parts(msg)
    # the failure (60 days after the start, 30 April) + GRACE_DAYS (7) = 7 May, in Ukrainian
    assert "7 травня 2025" in text and "7 травня 2025" in html
    assert "https://news.example/account" in text and 'href="https://news.example/account"' in html
    assert "billing.stripe.com" not in text + html  # never a raw portal session


def test_a_late_failure_of_an_invoice_paid_since_sends_nothing(client, session):
    events = Lifecycle().events()
    for name in ("checkout", "created", "first_paid", "renewed", "renewal_paid"):
        post(client, events[name])
    late = build_event("invoice.payment_failed", invoice("in_L1_2", "cus_L1", "sub_L1", paid=False,
                                                         created=Lifecycle().at(29), email="reader1@example.org"),
                       created=Lifecycle().at(29), id="evt_L1_late_failure")
    post(client, late)
    assert mails(session, "payment_failed") == []


def test_membership_ended_once_with_the_way_back(client, session, smtp):
    events = Lifecycle().events()
    for name in ("checkout", "created", "first_paid", "first_payment", "canceled", "canceled"):
        assert post(client, events[name]).status_code == 200
    [ended] = mails(session, "ended")
    assert ended.key.startswith(f"ended:member:{ended.member_id}:") and ended.status == "sent"
    _, msg = smtp.inbox.messages[-1]
    text, html = parts(msg)
    assert "https://news.example/join?source=mail-ended" in text
    assert 'href="https://news.example/join?source=mail-ended"' in html


def test_concurrent_enqueues_of_one_fact_write_one_mail(app, session, clock):
    """8 threads, each with its own session (and connection), enqueue the same fact at once."""
    member = factories.member(session, clock.now(), email="one@example.org", locale="en")
    session.commit()
    member_id = member.id
    barrier = threading.Barrier(8)
    written, errors = [], []

    def one() -> None:
        try:
            with app.app_context():
                m = db.session.get(type(member), member_id)
                barrier.wait(timeout=30)
                written.append(outbox.enqueue(db.session, key=f"welcome:member:{member_id}", kind="welcome",
                                              to=m.email, now=clock.now(), member_id=member_id))
                db.session.commit()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=one) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert sorted(written) == [False] * 7 + [True]
    assert len(mails(session)) == 1


# --- sending: leases, retries, failures ----------------------------------------------------------------------

def test_eight_concurrent_senders_send_each_mail_once(app, session, clock, settings, smtp):
    enqueue_some(session, clock, 24)
    barrier = threading.Barrier(8)
    summaries, errors = [], []

    def sender() -> None:
        try:
            with app.app_context():  # its own session and connection
                barrier.wait(timeout=30)
                summaries.append(send.deliver(db.session, settings, clock.now()))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=sender) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    assert sum(s.sent for s in summaries) == 24
    assert len(smtp.inbox.messages) == 24 and set(smtp.inbox.by_id().values()) == {1}
    assert {m.status for m in mails(session)} == {"sent"}


def test_a_temporary_failure_is_retried_with_back_off(session, clock, settings, smtp):
    smtp.inbox.answers = ["451 4.3.0 Try again later"]
    enqueue_some(session, clock, 1)
    assert send.deliver(session, settings, clock.now()).retrying == 1
    [m] = mails(session)
    assert (m.status, m.attempts, m.last_error) == ("pending", 1, "451 4.3.0 Try again later")
    assert m.next_attempt_at == clock.now() + timedelta(minutes=1)
    assert send.deliver(session, settings, clock.now()).sent == 0  # not due yet
    clock.advance(minutes=1)
    assert send.deliver(session, settings, clock.now()).sent == 1
    [m] = mails(session)
    assert (m.status, m.attempts, m.last_error, m.sent_at) == ("sent", 2, "", clock.now())
    assert smtp.inbox.attempts == 2 and len(smtp.inbox.messages) == 1


def test_a_permanent_failure_is_recorded_with_the_servers_answer(session, clock, settings, smtp):
    smtp.inbox.answers = ["550 5.1.1 No such mailbox"]
    enqueue_some(session, clock, 1)
    assert send.deliver(session, settings, clock.now()).failed == 1
    [m] = mails(session)
    assert (m.status, m.attempts, m.last_error) == ("failed", 1, "550 5.1.1 No such mailbox")
    clock.advance(days=1)
    assert send.deliver(session, settings, clock.now()).sent == 0 and smtp.inbox.attempts == 1  # never again


def test_an_unreachable_server_is_retried_then_failed_after_the_last_attempt(app_config, clock):
    from tests.mail_support import free_port

    app = create_app({**app_config, "SMTP_URL": f"smtp://127.0.0.1:{free_port()}"})
    with app.app_context():
        settings = app.extensions["mail"]
        enqueue_some(db.session, clock, 1)
        waits = []
        for _ in range(settings.max_attempts):
            send.deliver(db.session, settings, clock.now())
            [m] = mails(db.session)
            waits.append(m.next_attempt_at - clock.now())
            clock.set(m.next_attempt_at)
        assert waits[:3] == [timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4)]
        assert (m.status, m.attempts) == ("failed", settings.max_attempts)
        assert "ConnectionRefusedError" in m.last_error
        db.session.remove()


def test_a_crashed_senders_mail_is_taken_again_when_its_lease_expires(session, clock, settings, smtp):
    enqueue_some(session, clock, 1)
    [m] = mails(session)
    assert send.claim(session, m.id, clock.now(), settings)  # a sender took it, then died
    assert send.claim(session, m.id, clock.now(), settings) is None  # nobody else may, meanwhile
    assert send.deliver(session, settings, clock.now()).sent == 0
    clock.advance(seconds=settings.lease.total_seconds())
    assert send.deliver(session, settings, clock.now()).sent == 1 and len(smtp.inbox.messages) == 1


def test_send_pending_command_reports_progress_and_a_summary(runner, session, clock, smtp):
    smtp.inbox.answers = ["451 4.3.0 Later", "550 5.7.1 Refused"]
    enqueue_some(session, clock, 5)
    result = runner.invoke(args=["mail", "send-pending"])
    assert result.exit_code == 0, result.output
    assert "mail: 5 done" in result.output
    assert "Sent 3, retrying later 1, failed 1, taken by another sender 0." in result.output
    assert "Outbox: 3 sent, 1 pending, 1 failed." in result.output


def test_without_smtp_mail_is_rendered_and_kept(app_config, clock):
    app = create_app({**app_config, "SMTP_URL": "", "MAIL_DISABLED": False})
    with app.app_context():
        enqueue_some(db.session, clock, 2)
        out = app.test_cli_runner().invoke(args=["mail", "send-pending"]).output
        assert "Mail is not sent (SMTP_URL is not set): 2 rendered and kept in the outbox." in out
        assert [(m.status, bool(m.subject and m.body and m.html)) for m in mails(db.session)] == [("pending", True)] * 2
        db.session.remove()


# --- production -------------------------------------------------------------------------------------------

def test_production_refuses_to_start_without_smtp_unless_mail_is_disabled_on_purpose(tmp_path):
    from tests.test_config import prod_env

    base = {**prod_env(SMTP_URL=None), "DATABASE_URL": f"sqlite:///{tmp_path}/p.sqlite3"}
    with pytest.raises(ConfigError, match="SMTP_URL is not set.*MAIL_DISABLED=true"):
        create_app(base)
    app = create_app({**base, "MAIL_DISABLED": True})
    assert app.extensions["mail"].sending is False


def test_a_malformed_smtp_url_is_refused_at_start(app_config):
    with pytest.raises(ConfigError, match="SMTP_URL must look like"):
        create_app({**app_config, "SMTP_URL": "http://mail.example"})


# --- the upgrade keeps the old outbox ----------------------------------------------------------------------

def test_migration_0014_keeps_mail_from_the_old_outbox(tmp_path):
    """(On a SQLite file of its own: the shared test database stays at head.)"""
    from flask_migrate import upgrade

    from tests.conftest import TEST_CONFIG

    app = create_app({**TEST_CONFIG, "DATABASE_URL": f"sqlite:///{tmp_path}/old.sqlite3"})
    with app.app_context():
        upgrade(revision="0013")
        db.session.execute(sa.text("INSERT INTO mail_outbox (to_addr, subject, body, created_at) VALUES "
                                   "('old@example.org', 'Your sign-in link', 'Hello', '2025-01-02 03:04:05')"))
        db.session.commit()
        upgrade()
        [m] = mails(db.session)
        assert (m.key, m.kind, m.status, m.to_addr, m.body) == ("legacy:1", "legacy", "failed", "old@example.org",
                                                                "Hello")
        assert m.next_attempt_at == m.created_at and "never sent" in m.last_error
        db.session.remove()
        db.engine.dispose()


def test_no_mail_to_an_address_not_known_yet(session, clock):
    from service.members.identity import placeholder_email

    member = factories.member(session, clock.now(), email=placeholder_email("cus_x"), first_paid_at=None)
    member_mail.state_changed(session, member, {"first_paid_at": (None, clock.now())}, at=clock.now(),
                              now=clock.now())
    assert mails(session) == []
