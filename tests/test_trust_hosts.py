"""Limits that protect people hold across workers and hosts.

Two app servers (gunicorn, two workers each, on their own 127.0.0.1 ports) share one database and one
real Redis (`redis-server`, no persistence), as two hosts behind a load balancer would; requests
alternate between them. The sign-in quota and the staff lock-out and sessions live in the database;
Flask-Limiter's per-address limits live in Redis. When Redis stops answering, requests are still
served (limits fall back to each process's memory) and the database-backed quota still holds.

Runs on SQLite (both servers on one database file) and on PostgreSQL (CI's second pass).
"""

from __future__ import annotations

import http.cookiejar
import json
import logging
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from service import create_app
from service.ops import ratelimits
from tests.conftest import TEST_CONFIG, fresh_database_url
from tests.redis_support import RedisServer
from tests.reliability.server import GunicornServer, end_other_sessions, server_settings
from tests.staff_support import CSRF_RE, PASSWORD

RETURN = "https://news.example/2025/06/story"
WRONG = "not the password at all"
TIMEOUT = 30  # seconds for one request: a hung Redis must not hang a request anywhere near this


# --- the start-up warning about per-process limits ------------------------------------------------

PRODUCTION = {"SERVICE_ENV": "production", "RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "memory://"}


@pytest.mark.parametrize(("cfg", "environ", "warns"), [
    (PRODUCTION, {"GUNICORN_WORKERS": "4"}, True),
    (PRODUCTION, {"WEB_CONCURRENCY": "3"}, True),
    (PRODUCTION, {"SERVER_SOFTWARE": "gunicorn/23.0.0"}, True),  # gunicorn.conf.py's default: 2 x cores + 1
    (PRODUCTION, {"GUNICORN_WORKERS": "1", "SERVER_SOFTWARE": "gunicorn/23.0.0"}, False),
    (PRODUCTION, {}, False),  # nothing says there is more than one process
    ({**PRODUCTION, "RATELIMIT_STORAGE_URI": "redis://redis.internal:6379/0"}, {"GUNICORN_WORKERS": "4"}, False),
    ({**PRODUCTION, "SERVICE_ENV": "development"}, {"GUNICORN_WORKERS": "4"}, False),
    ({**PRODUCTION, "RATELIMIT_ENABLED": False}, {"GUNICORN_WORKERS": "4"}, False),
])
def test_per_process_limits_are_warned_about_in_production_with_several_workers(cfg, environ, warns):
    warning = ratelimits.per_process_warning(cfg, environ)
    assert bool(warning) == warns
    if warns:
        assert "per process" in warning and "RATELIMIT_STORAGE_URI=redis://" in warning


def test_the_warning_is_logged_when_a_production_app_starts(monkeypatch, caplog, database_url):
    from tests.test_ops_security import production_config

    monkeypatch.setenv("WEB_CONCURRENCY", "4")
    monkeypatch.delenv("GUNICORN_WORKERS", raising=False)
    with caplog.at_level(logging.WARNING, logger="service.ops.ratelimits"):
        app = create_app(production_config(DATABASE_URL=database_url))
    warnings = [r.getMessage() for r in caplog.records if r.name == "service.ops.ratelimits"]
    assert len(warnings) == 1 and "4 worker processes" in warnings[0], warnings
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="service.ops.ratelimits"):
        create_app({**production_config(DATABASE_URL=database_url), "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:1/0"})
    assert not [r for r in caplog.records if r.name == "service.ops.ratelimits"]
    from service.extensions import db

    with app.app_context():
        db.engine.dispose()


# --- two hosts -------------------------------------------------------------------------------------

class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # noqa: ANN002, ANN003, ANN201
        return None


class Browser:
    """One client (its cookies sent to every host, as through a load balancer); never follows redirects."""

    def __init__(self, address: str) -> None:
        self.address = address  # the client address the servers see (PROXY_HOPS=1)
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), NoRedirect)

    def call(self, method: str, url: str, *, json_body: dict | None = None, form: dict | None = None,
             cookie: str | None = None) -> tuple[int, dict[str, str], str]:
        headers = {"X-Forwarded-For": self.address}
        data = None
        if json_body is not None:
            data, headers["Content-Type"] = json.dumps(json_body).encode(), "application/json"
        elif form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        request = urllib.request.Request(url, data=data, method=method, headers=headers)
        opener = self.opener
        if cookie is not None:  # a copied cookie, sent as is (not through the jar)
            request.add_header("Cookie", cookie)
            opener = urllib.request.build_opener(NoRedirect)
        try:
            with opener.open(request, timeout=TIMEOUT) as r:
                return r.status, dict(r.headers), r.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, dict(exc.headers), exc.read().decode()

    def ask_link(self, host: str, email: str) -> int:
        return self.call("POST", host + "/v1/auth/magic-links", json_body={"email": email, "return_url": RETURN})[0]

    def csrf(self, host: str, path: str = "/staff/login") -> str:
        status, _, page = self.call("GET", host + path)
        match = CSRF_RE.search(page)
        assert status == 200 and match, f"no CSRF token on {path} ({status})"
        return match.group(1)

    def sign_in(self, host: str, email: str, password: str) -> int:
        token = self.csrf(host)
        return self.call("POST", host + "/staff/login",
                         form={"email": email, "password": password, "csrf_token": token})[0]

    def session_cookie(self) -> str:
        return "; ".join(f"{c.name}={c.value}" for c in self.jar if c.name == "session")


def seed_staff(database_url: str, emails: list[str]) -> None:
    """Staff accounts hashed with cheap argon2 parameters (verification reads them from the hash)."""
    from service.extensions import db
    from service.staff import accounts

    app = create_app({**TEST_CONFIG, "DATABASE_URL": database_url})
    production_hasher = accounts._hasher
    accounts._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    try:
        with app.app_context():
            for email in emails:
                accounts.create_staff(db.session, email=email, role="editor", password=PASSWORD,
                                      now=app.extensions["clock"].now())
            db.session.commit()
            db.engine.dispose()
    finally:
        accounts._hasher = production_hasher


def start_hosts(workdir: Path, database_url: str, redis_url: str) -> list[GunicornServer]:
    settings = {**server_settings(database_url), "RATELIMIT_ENABLED": "true", "RATELIMIT_STORAGE_URI": redis_url,
                "PROXY_HOPS": "1", "SITE_ALLOWED_ORIGINS": "https://news.example",
                "MAGIC_LINK_RATE_PER_EMAIL": "5/hour", "MAGIC_LINK_RATE_PER_IP": "6/hour"}
    servers: list[GunicornServer] = []
    try:
        for name in ("a", "b"):
            (workdir / name).mkdir()
            servers.append(GunicornServer(workdir / name, settings, workers=2, threads=2).start())
    except BaseException:
        for server in servers:
            server.stop()
        raise
    return servers


@pytest.fixture(scope="module")
def shared_db(template_db, tmp_path_factory) -> Iterator[str]:
    url = fresh_database_url(template_db, tmp_path_factory.mktemp("hosts-db"))
    seed_staff(url, ["locked@newsroom.example", "editor@newsroom.example", "degraded@newsroom.example"])
    yield url
    end_other_sessions(url)


@pytest.fixture(scope="module")
def hosts(shared_db, tmp_path_factory) -> Iterator[list[str]]:
    workdir = tmp_path_factory.mktemp("hosts")
    redis = RedisServer(workdir).start()
    try:
        servers = start_hosts(workdir, shared_db, redis.url)
        try:
            yield [s.url for s in servers]
        finally:
            for server in servers:
                server.stop()
    finally:
        redis.stop()
        end_other_sessions(shared_db)


@pytest.mark.slow
def test_the_sign_in_quota_holds_across_hosts(hosts):
    readers = (Browser(f"192.0.2.{i}") for i in range(1, 100))  # a new client address each time: only the
    for host in hosts:  # quota can refuse. Refused input spends nothing, on either host:
        status, _, _ = next(readers).call("POST", host + "/v1/auth/magic-links", json_body={
            "email": "quota@example.org", "return_url": "https://evil.example/"})
        assert status == 422
    codes = [next(readers).ask_link(hosts[i % 2], "quota@example.org") for i in range(8)]
    assert codes == [202] * 5 + [429] * 3  # 5 an hour in all, not 5 per process or per host
    status, headers, body = next(readers).call("POST", hosts[1] + "/v1/auth/magic-links",
                                               json_body={"email": "quota@example.org", "return_url": RETURN})
    assert status == 429 and headers["Content-Type"] == "application/problem+json"
    assert 0 < int(headers["Retry-After"]) <= 3600 and json.loads(body)["status"] == 429


@pytest.mark.slow
def test_a_flask_limiter_limit_per_client_address_is_shared_through_redis(hosts):
    reader = Browser("198.51.100.20")
    codes = [reader.ask_link(hosts[i % 2], f"per-ip-{i}@example.org") for i in range(7)]
    assert codes == [202] * 6 + [429]  # MAGIC_LINK_RATE_PER_IP=6/hour over both hosts and all workers
    assert Browser("198.51.100.21").ask_link(hosts[0], "per-ip-other@example.org") == 202


@pytest.mark.slow
def test_the_staff_lock_out_holds_across_hosts(hosts):
    browser = Browser("198.51.100.30")
    assert [browser.sign_in(hosts[i % 2], "locked@newsroom.example", WRONG) for i in range(5)] == [401] * 5
    # Locked on both hosts, even with the right password.
    assert [browser.sign_in(host, "locked@newsroom.example", PASSWORD) for host in hosts] == [401, 401]


@pytest.mark.slow
def test_signing_out_on_one_host_ends_the_session_on_the_other(hosts):
    a, b = hosts
    browser = Browser("198.51.100.40")
    assert browser.sign_in(a, "editor@newsroom.example", PASSWORD) == 302
    copied = browser.session_cookie()
    assert browser.call("GET", b + "/staff/", cookie=copied)[0] == 200  # the session works on both hosts
    token = browser.csrf(a, "/staff/")
    assert browser.call("POST", a + "/staff/logout", form={"csrf_token": token})[0] == 302
    status, headers, _ = browser.call("GET", b + "/staff/", cookie=copied)
    assert status == 302 and "/staff/login" in headers["Location"]


@pytest.mark.slow
def test_when_redis_stops_answering_requests_are_served_and_the_quota_still_holds(shared_db, tmp_path):
    redis = RedisServer(tmp_path).start()
    servers = start_hosts(tmp_path, shared_db, redis.url)
    a, b = (s.url for s in servers)
    email, n = "degraded@example.org", iter(range(100))

    def ask(host: str) -> int:  # a new client address each time: only the quota can refuse
        return Browser(f"203.0.113.{next(n)}").ask_link(host, email)

    try:
        assert [ask(a), ask(b)] == [202, 202]
        redis.pause()  # stops answering: connections hang until REDIS_TIMEOUT
        assert [ask(a), ask(b)] == [202, 202]
        redis.kill()  # gone: connections are refused
        assert [ask(b), ask(a), ask(b), ask(a)] == [202, 429, 429, 429]  # 5 in all, over both hosts
        staff = Browser("203.0.113.200")
        assert [staff.sign_in(host, "degraded@newsroom.example", WRONG) for host in (a, b)] == [401, 401]
        for host in (a, b):
            assert staff.call("GET", host + "/healthz")[0] == 200
    finally:
        for server in servers:
            server.stop()
        redis.kill()
        end_other_sessions(shared_db)
