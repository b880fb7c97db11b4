"""The progress banner under abuse and outage.

- Unknown campaigns cost nothing: a request for a slug that does not exist (progress JSON, widget
  fragment and iframe page, the paywall's banner lookup) leaves no lock, cache entry or fast-path
  record behind, and costs at most the one query that finds it missing.
- The last count survives an outage in every worker: a worker that never served the campaign (or was
  just restarted by gunicorn's max_requests) answers from the snapshot another worker saved, marked
  stale, instead of a 503.
"""

from __future__ import annotations

import gc
import io
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from service.campaigns import services, snapshot
from service.campaigns.cache import ProgressCache
from service.errors import NotFound
from tests.conftest import TEST_CONFIG
from tests.support import Statements

PROGRESS = "/v1/campaigns/members-25k/progress"
DEAD_DB = "postgresql+psycopg://postgres@127.0.0.1:1/x"


def wsgi_get(app, path: str, query: str = "") -> str:
    """GET through the whole WSGI stack (fast path, Flask, every hook), without a test client."""
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": query, "SERVER_NAME": "localhost",
               "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.url_scheme": "http",
               "wsgi.input": io.BytesIO(), "wsgi.errors": sys.stderr, "REMOTE_ADDR": "127.0.0.1"}
    status: list[str] = []
    for _ in app.wsgi_app(environ, lambda s, h, e=None: status.append(s)):
        pass
    return status[0]


# --- unknown campaigns cost nothing -------------------------------------------------------------------

def test_keys_whose_load_fails_leave_nothing_in_the_cache():
    class Down(Exception):
        pass

    cache = ProgressCache(ttl=60.0, stale_on=(Down,))
    cache.get(("known", None), lambda: b"{}")

    def missing():
        raise NotFound("no such campaign")

    def down():
        raise Down

    for i in range(100_000):
        with pytest.raises((NotFound, Down)):
            cache.get((f"nope-{i}", None), missing if i % 2 else down)
    assert list(cache.entries) == [("known", None)]
    assert list(cache._locks) == [("known", None)]


@pytest.fixture
def quiet_access_log():
    """404s are logged; pytest's log capture would keep every record in memory and hide what we measure."""
    import logging

    access = logging.getLogger("service.access")
    access.disabled = True
    yield
    access.disabled = False


def test_unknown_campaigns_leave_no_state_in_the_worker(app, session, demo_campaign, clock, quiet_access_log):
    from service.paywall.prompts import _banner

    cache = app.extensions["progress_cache"]
    fastpath = app.wsgi_app
    ctx = app.extensions["paywall"]
    assert wsgi_get(app, PROGRESS).startswith("200")

    def unknown(prefix: str, n: int) -> None:
        for i in range(n):
            slug = f"{prefix}-{i}"
            kind = i % 10
            if kind < 7:
                assert wsgi_get(app, f"/v1/campaigns/{slug}/progress", "locale=uk").startswith("404")
            elif kind == 7:
                assert wsgi_get(app, f"/v1/campaigns/{slug}/banner.html").startswith("404")
            elif kind == 8:
                assert wsgi_get(app, f"/embed/campaigns/{slug}").startswith("404")
            else:
                assert _banner(session, ctx, slug, "uk", clock.now()) is None

    state = (dict(cache.entries), dict(cache._locks), dict(fastpath.records))
    unknown("warm", 1_000)  # every code path has run once: lazy imports, pools, compiled statements
    gc.collect()
    blocks = sys.getallocatedblocks()
    unknown("nope", 10_000)
    gc.collect()
    grown = sys.getallocatedblocks() - blocks
    assert (dict(cache.entries), dict(cache._locks), dict(fastpath.records)) == state
    # The old code kept a lock, its key and the slug per unknown campaign: 3+ blocks each, 30,000+ here.
    assert grown < 2_000, f"{grown} memory blocks more after 10,000 unknown campaigns"


def test_an_unknown_campaign_costs_one_query_and_a_malformed_slug_none(app, demo_campaign, quiet_access_log):
    from service.extensions import db

    with Statements(db.engine) as s:
        assert wsgi_get(app, "/v1/campaigns/no-such-campaign/progress").startswith("404")
        assert len(s.sql) == 1
        assert wsgi_get(app, "/v1/campaigns/No_Such..Campaign/progress").startswith("404")
        assert len(s.sql) == 1


# --- the last count survives an outage ----------------------------------------------------------------

@pytest.fixture
def fresh_dead_app(app_config):
    """Another worker of the same host: database down, nothing in memory, the same snapshot folder."""
    from service import create_app
    from service.extensions import db

    dead = create_app({**app_config, "DATABASE_URL": DEAD_DB, "DB_CONNECT_TIMEOUT": 2})
    yield dead
    with dead.app_context():
        db.session.remove()
        db.engine.dispose()


def _count_one(session, clock, campaign) -> None:
    services.adjust(session, campaign, delta=1, reason="test", who="t", now=clock.now())
    session.commit()


def test_a_fresh_worker_answers_the_last_count_from_another_workers_snapshot(
        client, session, clock, demo_campaign, fresh_dead_app):
    _count_one(session, clock, demo_campaign)
    live = {q: client.get(PROGRESS + q) for q in ("", "?locale=uk")}
    assert all(r.status_code == 200 and r.get_json()["count"] == 1 for r in live.values())

    dead = fresh_dead_app.test_client()
    for query, same_as in (("", ""), ("?locale=uk", "?locale=uk"), ("?locale=uk-UA", "?locale=uk"),
                           ("?locale=de", ""), ("?locale=en", "")):
        r = dead.get(PROGRESS + query)
        assert r.status_code == 200, (query, r.get_json())
        assert r.headers["X-Data-Stale"] == "true" and r.headers["Cache-Control"] == "public, max-age=1"
        body = r.get_json()
        assert body.pop("stale") is True and body.pop("stale_since"), query  # the snapshot's time
        assert body == live[same_as].get_json(), query
    html = dead.get("/v1/campaigns/members-25k/banner.html?locale=uk")
    assert html.status_code == 200 and live["?locale=uk"].get_json()["banner"]["headline"] in html.text
    assert dead.get("/embed/campaigns/members-25k").status_code == 200
    # a campaign no worker ever computed is still a 503 (nothing to serve), not an invented answer
    other = dead.get("/v1/campaigns/another-campaign/progress")
    assert other.status_code == 503 and other.mimetype == "application/problem+json"


def test_snapshots_are_written_when_the_document_changes_not_on_hits(
        app, client, session, clock, demo_campaign, monkeypatch):
    writes: list[str] = []
    replace = os.replace

    def counting(src, dst):
        writes.append(dst)
        replace(src, dst)

    monkeypatch.setattr(os, "replace", counting)
    for _ in range(5):  # PROGRESS_CACHE_SECONDS is 0 in tests: each request recomputes the same document
        assert client.get(PROGRESS).status_code == 200
    assert len(writes) == 1
    app.extensions["progress_cache"].ttl = 60.0
    app.extensions["progress_cache"].clear()
    for _ in range(5):  # cache hits, through Flask and then the fast path
        client.get(PROGRESS)
    assert len(writes) == 1
    _count_one(session, clock, demo_campaign)
    app.extensions["progress_cache"].clear()
    assert client.get(PROGRESS).get_json()["count"] == 1
    assert len(writes) == 2
    client.get(PROGRESS + "?locale=uk")
    client.get(PROGRESS + "?locale=uk-UA")  # the same document as uk: the same file, not rewritten
    assert len(writes) == 3 and len(set(writes)) == 2


def test_snapshot_files_never_leave_their_folder(tmp_path):
    folder = tmp_path / "snaps"
    store = snapshot.SnapshotStore(str(folder))
    body = b'{"campaign": "x", "banner": {"locale": "../../../etc/passwd"}}'
    for slug in ("../../escape", "/etc/passwd", "a/b\\c", "\x00nul", "..", "ok"):
        for locale in (None, "../../x", "uk"):
            store.save((slug, locale), body)
            assert store.load((slug, locale)) == body
    names = os.listdir(folder)
    assert names and all(len(n) == 37 and n.endswith(".json") and n[:32].isalnum() for n in names)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["snaps"]
    # a file holding another key's document (or a cut-short one) is not served
    victim = Path(store.path("victim", snapshot.DEFAULT))
    victim.write_bytes(Path(store.path("ok", snapshot.DEFAULT)).read_bytes())
    assert store.load(("victim", None)) is None
    victim.write_bytes(b'["victim", "", 999]\n{"cut short')
    assert store.load(("victim", None)) is None


def test_an_unwritable_snapshot_folder_never_fails_a_request(app_config, tmp_path, demo_campaign):
    from service import create_app
    from service.extensions import db

    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    app = create_app({**app_config, "PROGRESS_SNAPSHOT_DIR": str(blocker / "snaps")})
    with app.app_context():
        assert app.test_client().get(PROGRESS).status_code == 200
        db.session.remove()
        db.engine.dispose()


# --- every gunicorn worker, a real PostgreSQL server stopped ----------------------------------------

@pytest.fixture
def postgres_with_demo(clock, tmp_path):
    from flask_migrate import upgrade

    from service import create_app
    from service.campaigns import demo
    from service.extensions import db
    from tests.test_ops_degradation import ThrowawayPostgres, _can_run_postgres, _pg_bin

    if not _can_run_postgres():
        pytest.skip("needs PostgreSQL server binaries and root (or the postgres user) to run its own cluster")
    pg = ThrowawayPostgres(_pg_bin())
    try:
        pg.init()
        pg.start()
        app = create_app({**TEST_CONFIG, "DATABASE_URL": pg.url, "CLOCK": clock})
        with app.app_context():
            upgrade()
            clock.set(datetime.now(UTC))
            _count_one(db.session, clock, demo.create_demo(db.session, clock.now()))
            db.session.remove()
            db.engine.dispose()
        yield pg
    finally:
        pg.destroy()


def _answer(url: str) -> tuple[int, dict, bytes]:
    """The answer to a GET. A gthread worker that reaches max_requests drops connections it had accepted
    but not read (a gunicorn trait; nginx retries those on another worker): asked again, as nginx would."""
    from http.client import RemoteDisconnected

    from tests.test_ops_gunicorn import get

    for _ in range(5):
        try:
            return get(url)
        except (ConnectionResetError, RemoteDisconnected):
            continue
    raise AssertionError(f"no answer from {url}")


@pytest.mark.slow
def test_every_gunicorn_worker_answers_the_last_count_while_postgres_is_down(postgres_with_demo, tmp_path):
    from tests.test_ops_gunicorn import _free_port

    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GUNICORN_", "PROMETHEUS_"))}
    env.update(DATABASE_URL=postgres_with_demo.url, PROGRESS_SNAPSHOT_DIR=str(tmp_path / "snaps"),
               PROGRESS_CACHE_SECONDS="0", DB_CONNECT_TIMEOUT="2", SERVICE_ENV="development", LOG_REQUESTS="off",
               GUNICORN_BIND=f"127.0.0.1:{port}", GUNICORN_WORKERS="2", GUNICORN_THREADS="1",
               GUNICORN_MAX_REQUESTS="4", GUNICORN_MAX_REQUESTS_JITTER="0")
    log_path = tmp_path / "gunicorn.log"
    root = Path(__file__).resolve().parent.parent
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "service:create_app()"],
                                cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    status, headers, body = _answer(base + PROGRESS)
                    if status == 200:
                        break
                except OSError:
                    pass
                assert proc.poll() is None and time.monotonic() < deadline, log_path.read_text()
                time.sleep(0.2)  # waiting for a process to listen, not synchronising threads
            assert b'"count":1' in body.replace(b" ", b"")

            postgres_with_demo.stop("immediate")

            answers = [_answer(base + PROGRESS) for _ in range(24)]
            for status, headers, body in answers:
                assert status == 200, body
                assert headers["X-Data-Stale"] == "true" and b'"count":1' in body.replace(b" ", b"")
            # 2 workers of at most 4 requests each: most answers came from workers born during the outage
            assert log_path.read_text().count("Autorestarting worker") >= 4
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
