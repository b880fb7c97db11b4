"""deploy/nginx.conf's micro-cache in front of the app under gunicorn: hits, cache-busters sharing an
entry, the service's max-age honoured, the last copy served while the service is down, nothing
per-request replayed from the cache. Skipped where nginx is not installed."""

from __future__ import annotations

import shutil
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from bench import nginx as bench_nginx
from bench.harness import Server
from tests.reliability.server import GunicornServer, end_other_sessions, free_port, server_settings

pytestmark = [
    pytest.mark.reliability,
    pytest.mark.skipif(not (shutil.which("nginx") or Path("/usr/sbin/nginx").exists()), reason="nginx not installed"),
]

PROGRESS = "/v1/campaigns/members-25k/progress"


def get(url: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as r:  # noqa: S310
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


@pytest.fixture
def stack(app, demo_campaign, database_url, tmp_path):
    from service.extensions import db

    db.session.remove()
    db.engine.dispose()
    settings = {**server_settings(database_url), "PROGRESS_MAX_AGE": "1", "PROGRESS_CACHE_SECONDS": "0"}
    service = GunicornServer(tmp_path, settings, workers=1, threads=2)
    work = tmp_path / "nginx"
    work.mkdir()
    ngx: Server | None = None
    try:
        service.start()
        cache_port, static_port = free_port(), free_port()
        ngx = bench_nginx.server(work=work, upstream_port=service.port, cache_port=cache_port,
                                 static_port=static_port, body=b"{}").start()
        yield service, f"http://127.0.0.1:{cache_port}"
    finally:
        if ngx is not None:
            ngx.stop()
        service.stop()
        db.session.remove()  # the test's own connections go first: only the server's may be left
        db.engine.dispose()
        end_other_sessions(database_url)


def test_micro_cache_honours_the_service_and_outlives_it(stack):
    service, front = stack
    status, headers, body = get(front + PROGRESS + "?locale=en")
    assert status == 200 and headers["X-Cache-Status"] in ("MISS", "EXPIRED")
    assert "X-Request-ID" not in headers, "a per-request id must not be replayed from the cache"
    assert headers["Cache-Control"].startswith("public, max-age=1")

    status, headers, again = get(front + PROGRESS + "?locale=en&utm_source=x&cb=123")
    assert status == 200 and headers["X-Cache-Status"] == "HIT" and again == body

    time.sleep(2.5)  # the service said max-age=1 (nginx counts whole seconds): no longer fresh
    status, headers, _ = get(front + PROGRESS + "?locale=en")
    assert status == 200 and headers["X-Cache-Status"] != "HIT"

    uk_status, uk_headers, uk_body = get(front + PROGRESS + "?locale=uk")
    assert uk_status == 200 and uk_body != body, "each locale has its own entry"

    service.stop()  # the service is down: the last copy keeps being served
    time.sleep(2.5)
    for _ in range(3):
        status, headers, stale = get(front + PROGRESS + "?locale=en")
        assert status == 200 and headers["X-Cache-Status"] in ("STALE", "UPDATING", "HIT")
        assert stale == body


def get_with(url: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=30) as r:  # noqa: S310
        return r.status, dict(r.headers), r.read()


def test_micro_cache_keys_on_accept_language_without_a_locale_parameter(stack):
    _, front = stack
    _, _, uk_param = get(front + PROGRESS + "?locale=uk")
    _, _, en_param = get(front + PROGRESS + "?locale=en")
    status, headers, uk = get_with(front + PROGRESS, {"Accept-Language": "uk-UA,uk;q=0.9"})
    assert status == 200 and "Accept-Language" in headers["Vary"]
    assert uk == uk_param, "the reader's language, not the first copy cached"
    status, headers, en = get_with(front + PROGRESS, {"Accept-Language": "en-GB"})
    assert status == 200 and en == en_param and en != uk
    status, headers, again = get_with(front + PROGRESS + "?cb=1", {"Accept-Language": "uk-UA,uk;q=0.9"})
    assert headers["X-Cache-Status"] == "HIT" and again == uk


def test_dynamic_endpoints_are_never_cached(stack):
    _, front = stack
    status, headers, _ = get(front + "/healthz")
    assert status == 200 and "X-Cache-Status" not in headers
    req = urllib.request.Request(front + "/v1/access", data=b'{"article": {"id": "a1"}}', method="POST",  # noqa: S310
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:  # noqa: S310
        assert r.status == 200 and "X-Cache-Status" not in r.headers
