"""The per-address sign-in quota (MAGIC_LINK_RATE_PER_EMAIL) is kept in the database: a sliding window
on the app's clock, exact under concurrent requests, and spent only by links that are stored."""

from __future__ import annotations

import contextvars
import threading

import pytest
import sqlalchemy as sa

from service import create_app
from service.config import ConfigError
from service.paywall import signin
from service.paywall.models import MagicLink
from service.paywall.quota import QuotaExceeded

RETURN = "https://news.example/2025/06/story"
EMAIL = "reader@example.org"


@pytest.fixture
def app_config(app_config):
    # The per-client-address limit (Flask-Limiter) is not what these tests are about.
    return {**app_config, "MAGIC_LINK_RATE_PER_IP": "1000/hour"}


def ask(client, email=EMAIL, return_url=RETURN):
    return client.post("/v1/auth/magic-links", json={"email": email, "return_url": return_url})


def links(session, email=EMAIL) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(MagicLink).where(MagicLink.email == email))


def test_five_links_an_hour_then_a_429_that_says_when_the_next_one_is_free(client, session, clock):
    for _ in range(5):
        assert ask(client).status_code == 202
        clock.advance(minutes=10)
    r = ask(client, email="Reader@Example.ORG")  # the same address, written differently
    assert r.status_code == 429 and r.mimetype == "application/problem+json"
    assert r.get_json()["status"] == 429 and r.get_json()["title"] == "Too Many Requests"
    assert r.headers["Retry-After"] == "600"  # the first link (50 minutes old) leaves the hour in 10 minutes
    assert ask(client, email="someone.else@example.org").status_code == 202
    clock.advance(minutes=9, seconds=59)
    assert ask(client).status_code == 429
    clock.advance(seconds=1)
    assert ask(client).status_code == 202
    assert links(session) == 6


def test_refused_input_spends_nobodys_quota(client, session):
    for _ in range(5):
        assert ask(client, return_url="https://evil.example/phish").status_code == 422  # a foreign origin
        assert client.post("/v1/auth/magic-links", json={"email": EMAIL, "return_url": 5}).status_code == 422
        assert client.post("/v1/auth/magic-links", json={"email": EMAIL}).status_code == 422
    assert [ask(client).status_code for _ in range(6)] == [202] * 5 + [429]


def test_a_link_whose_mail_waits_for_a_retry_spends_quota(app_config, clock):
    """The link's mail is in the outbox with the link (service/mail): a mail server that does not answer
    delays it (retried with back-off), so the link counts against the quota like any other."""
    from service.extensions import db
    from service.mail.models import OutboxMessage
    from tests.test_paywall_signin import free_port

    app = create_app({**app_config, "SMTP_URL": f"smtp://127.0.0.1:{free_port()}", "SMTP_TIMEOUT": 2})
    with app.app_context():
        client = app.test_client()
        assert [contextvars.Context().run(ask, client).status_code for _ in range(6)] == [202] * 5 + [429]
        statuses = db.session.scalars(sa.select(OutboxMessage.status)).all()
        assert statuses == ["pending"] * 5
        db.session.remove()


def test_concurrent_requests_for_one_address_get_exactly_the_quota(app, session, clock):
    from service.extensions import db

    settings, now = app.extensions["paywall"].settings, clock.now()
    threads_n = 8
    barrier = threading.Barrier(threads_n)
    outcomes: list[str] = []
    errors: list[BaseException] = []

    def request_one() -> None:
        try:
            with app.app_context():
                barrier.wait(timeout=30)
                try:
                    signin.request_magic_link(db.session, settings, email=EMAIL, return_url=RETURN, now=now)
                    db.session.commit()
                    outcomes.append("sent")
                except QuotaExceeded:
                    db.session.rollback()
                    outcomes.append("refused")
                finally:
                    db.session.remove()
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=request_one) for _ in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads), "a request hung"
    assert not errors, errors
    assert sorted(outcomes) == ["refused"] * 3 + ["sent"] * 5
    assert links(session) == 5


class TestSeveralLimits:
    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "MAGIC_LINK_RATE_PER_EMAIL": "2/minute;3/hour"}

    def test_each_limit_holds(self, client, clock):
        assert [ask(client).status_code for _ in range(3)] == [202, 202, 429]
        clock.advance(seconds=60)
        r = ask(client)
        assert r.status_code == 202
        clock.advance(seconds=60)
        r = ask(client)
        assert r.status_code == 429 and r.headers["Retry-After"] == str(3600 - 120)


class TestNoQuota:
    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "MAGIC_LINK_RATE_PER_EMAIL": ""}

    def test_an_empty_setting_means_no_quota(self, client):
        assert all(ask(client).status_code == 202 for _ in range(7))


@pytest.mark.parametrize("setting", ["often", "5/week", "0/hour", "5/hour;1/month"])
def test_a_setting_that_cannot_be_kept_refuses_to_start(app_config, setting):
    with pytest.raises(ConfigError, match="MAGIC_LINK_RATE_PER_EMAIL"):
        create_app({**app_config, "MAGIC_LINK_RATE_PER_EMAIL": setting})


def test_purged_links_are_older_than_any_window(app, session, clock):
    """Links are purged a day after they expire; the longest window allowed is a day, so a purge never
    forgets a link the quota still counts."""
    from service.paywall.quota import MAX_WINDOW

    assert ask(app.test_client()).status_code == 202
    clock.advance(seconds=MAX_WINDOW.total_seconds() - 1)
    assert signin.purge_used_links(session, clock.now()) == 0
