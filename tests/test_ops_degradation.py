"""Graceful degradation: the database stops answering, and comes back.

- progress keeps serving the last count it knew, marked `X-Data-Stale: true`, and recovers by itself
  (a worker with nothing in memory serves the snapshot another saved: tests/test_trust_progress.py);
- every other database failure is a 503 problem+json with Retry-After (Stripe and clients retry);
- the access policy (ACCESS_FAIL_MODE) decides open or closed.

The PostgreSQL test starts its OWN throwaway cluster (another port and data directory) and stops it
mid-run with pg_ctl, so the shared test server is never touched.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from service.ops import degrade, registry
from service.paywall import degraded
from tests.conftest import TEST_CONFIG

PROGRESS = "/v1/campaigns/members-25k/progress"
DEAD_DB = "postgresql+psycopg://postgres@127.0.0.1:1/x"


@pytest.fixture
def dead_app(app, app_config):
    """An app whose database is a closed port, sharing the warm progress cache of `app`."""
    from service import create_app
    from service.extensions import db

    dead = create_app({**app_config, "DATABASE_URL": DEAD_DB, "DB_CONNECT_TIMEOUT": 2})
    dead.extensions["progress_cache"] = app.extensions["progress_cache"]

    @dead.route("/_test/write", methods=["POST"])
    def write():
        from sqlalchemy import text

        db.session.execute(text("UPDATE campaigns SET title = title"))
        db.session.commit()
        return {"ok": True}

    yield dead
    with dead.app_context():
        db.session.remove()
        db.engine.dispose()


def test_progress_serves_the_last_good_count_marked_stale(client, demo_campaign, dead_app):
    fresh = client.get(PROGRESS)
    assert fresh.status_code == 200 and "X-Data-Stale" not in fresh.headers
    dead = dead_app.test_client()
    for _ in range(3):
        r = dead.get(PROGRESS)
        assert r.status_code == 200
        assert r.headers["X-Data-Stale"] == "true"
        body = r.get_json()
        assert body.pop("stale") is True and body.pop("stale_since")  # the body says so too (widget.js reads it)
        assert body == fresh.get_json()
        assert r.headers["Cache-Control"] == "public, max-age=1"  # downstream caches keep it briefly
    # back on a live database, the next request is fresh again
    again = client.get(PROGRESS)
    assert again.status_code == 200 and "X-Data-Stale" not in again.headers


def test_progress_no_worker_ever_computed_is_a_503_problem(client, demo_campaign, dead_app):
    # No snapshot either (campaigns/snapshot.py): there is no last count to serve.
    r = dead_app.test_client().get(PROGRESS + "?locale=uk")
    assert r.status_code == 503 and r.mimetype == "application/problem+json"
    assert r.headers["Retry-After"] == "5"
    assert r.get_json()["type"].endswith("/database-unavailable")


def test_writes_answer_503_with_retry_after(dead_app):
    r = dead_app.test_client().post("/_test/write")
    assert r.status_code == 503 and r.mimetype == "application/problem+json"
    assert int(r.headers["Retry-After"]) > 0
    assert "Traceback" not in r.get_data(as_text=True)


def test_a_degraded_request_is_counted(client, dead_app):
    from service.ops import metrics

    rule = "/_test/write"
    before = metrics.DB_ERRORS.labels(rule)._value.get()
    dead_app.test_client().post("/_test/write")
    assert metrics.DB_ERRORS.labels(rule)._value.get() == before + 1


def test_access_fail_mode_policy():
    assert degraded.access_fallback({"ACCESS_FAIL_MODE": "open"})["access"] == "granted"
    assert degraded.access_fallback({}) is not None  # open is the default
    assert degraded.access_fallback({"ACCESS_FAIL_MODE": "closed"}) is None


def test_a_registered_fallback_answers_for_its_endpoint(app, dead_app):
    from flask import jsonify

    @dead_app.route("/_test/access", methods=["POST"], endpoint="_test_access")
    def access():
        from sqlalchemy import text

        from service.extensions import db

        db.session.execute(text("SELECT 1"))
        return {"access": False}

    def fallback(exc):
        from flask import current_app

        decision = degraded.access_fallback(current_app.config)
        return jsonify(decision) if decision else None

    registry.of(dead_app).fallbacks["_test_access"] = fallback
    client = dead_app.test_client()
    r = client.post("/_test/access")
    assert r.status_code == 200 and r.get_json()["reason"] == "degraded"
    dead_app.config["ACCESS_FAIL_MODE"] = "closed"
    r = client.post("/_test/access")
    assert r.status_code == 503 and r.headers["Retry-After"]
    assert "_test_access" not in registry.of(app).fallbacks  # another app's registry is its own


ACCESS_BODY = {"article": {"id": "a-1", "visibility": "members"}, "reader_id": "r.sig", "member_token": None}


@pytest.mark.parametrize("mode", ["open", "closed"])
def test_access_endpoint_follows_the_fail_mode(dead_app, mode):
    dead_app.config["ACCESS_FAIL_MODE"] = mode
    r = dead_app.test_client().post("/v1/access", json=ACCESS_BODY)
    if mode == "open":
        assert r.status_code == 200, r.get_json()
        body = r.get_json()
        assert body["access"] == "granted" and body["reason"] == "degraded"
        assert body["reader_id"] == "r.sig" and body["entitlement"] is None
        assert r.headers["X-Degraded"] == "true" and r.headers["Cache-Control"] == "no-store"
    else:
        assert r.status_code == 503 and r.mimetype == "application/problem+json"
        assert r.headers["Retry-After"]


def test_integrity_errors_are_not_mistaken_for_outages():
    import sqlalchemy.exc as sa_exc

    conflict = sa_exc.IntegrityError("INSERT", {}, Exception("duplicate key"))
    assert not degrade.is_connection_failure(conflict)
    down = sa_exc.OperationalError("SELECT 1", {}, Exception("connection refused"))
    assert degrade.is_connection_failure(down)
    assert degrade.is_connection_failure(sa_exc.TimeoutError("pool"))


# --- a real PostgreSQL server stopped mid-run -----------------------------------------------------

def _pg_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parts[-3]))
    return found[-1].parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ThrowawayPostgres:
    def __init__(self, bin_dir: Path) -> None:
        self.bin = bin_dir
        self.port = _free_port()
        self.dir = tempfile.mkdtemp(prefix="membership-ops-pg-", dir="/tmp")
        self.data = os.path.join(self.dir, "data")
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *cmd: str, timeout: float = 60) -> None:
        prefix = [] if os.geteuid() != 0 else ["runuser", "-u", "postgres", "--"]
        subprocess.run([*prefix, *cmd], check=True, timeout=timeout, capture_output=True)

    def init(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres")
        self._run(str(self.bin / "initdb"), "-D", self.data, "-U", "postgres", "-A", "trust", "--no-locale",
                  "-E", "UTF8", "-N")

    def start(self) -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", self.data, "-l", os.path.join(self.dir, "log"), "-w", "-t", "30",
                  "-o", f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off", "start")

    def stop(self, mode: str = "immediate") -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", self.data, "-m", mode, "-w", "-t", "30", "stop")

    def destroy(self) -> None:
        try:
            self.stop("fast")
        except Exception:  # noqa: BLE001, S110 - already stopped
            pass
        shutil.rmtree(self.dir, ignore_errors=True)


def _can_run_postgres() -> bool:
    if _pg_bin() is None:
        return False
    if os.geteuid() == 0:
        return shutil.which("runuser") is not None
    import pwd

    return pwd.getpwuid(os.geteuid()).pw_name == "postgres"


@pytest.fixture
def own_postgres():
    if not _can_run_postgres():
        pytest.skip("needs PostgreSQL server binaries and root (or the postgres user) to run its own cluster")
    pg = ThrowawayPostgres(_pg_bin())
    try:
        pg.init()
        pg.start()
        yield pg
    finally:
        pg.destroy()


@pytest.mark.slow
def test_postgres_stopped_mid_run_degrades_and_recovers(own_postgres, clock):
    from flask_migrate import upgrade

    from service import create_app
    from service.campaigns import demo, services
    from service.extensions import db

    app = create_app({**TEST_CONFIG, "DATABASE_URL": own_postgres.url, "CLOCK": clock,
                      "PROGRESS_CACHE_SECONDS": 0.0, "DB_CONNECT_TIMEOUT": 2})

    @app.route("/_test/adjust", methods=["POST"])
    def adjust():
        c = services.get_campaign(db.session, "members-25k")
        services.adjust(db.session, c, delta=1, reason="test", who="t", now=clock.now())
        db.session.commit()
        return {"ok": True}

    with app.app_context():
        upgrade()
        clock.set(datetime(2025, 3, 1, 9, 0, tzinfo=UTC))
        demo.create_demo(db.session, clock.now())
        db.session.commit()
        db.session.remove()
    client = app.test_client()
    try:
        assert client.get("/readyz").status_code == 200
        assert client.post("/_test/adjust").status_code == 200
        before = client.get(PROGRESS)
        assert before.status_code == 200 and before.get_json()["count"] == 1

        own_postgres.stop("immediate")  # the server dies: pooled connections are now broken

        stale = client.get(PROGRESS)
        assert stale.status_code == 200, stale.get_json()
        assert stale.headers["X-Data-Stale"] == "true" and stale.get_json()["count"] == 1
        assert client.get(PROGRESS).headers["X-Data-Stale"] == "true"
        write = client.post("/_test/adjust")
        assert write.status_code == 503 and write.headers["Retry-After"]
        ready = client.get("/readyz")
        assert ready.status_code == 503 and ready.get_json()["database"] == "unreachable"
        assert client.get("/healthz").status_code == 200
        metrics_text = client.get("/metrics").get_data(as_text=True)
        assert "database_up 0.0" in metrics_text

        own_postgres.start()  # it comes back: no restart of the app, no manual step

        deadline = time.monotonic() + 10
        while True:
            r = client.get(PROGRESS)
            if "X-Data-Stale" not in r.headers or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert r.status_code == 200 and "X-Data-Stale" not in r.headers
        assert client.get("/readyz").status_code == 200
        assert client.post("/_test/adjust").status_code == 200
        assert client.get(PROGRESS).get_json()["count"] == 2
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


# --- the progress cache on its own ----------------------------------------------------------------

class Down(Exception):
    pass


def test_cache_keeps_a_stale_entry_for_the_ttl_and_then_retries(clock):
    from service.campaigns.cache import ProgressCache

    cache = ProgressCache(ttl=0.2, stale_on=(Down,), time=clock.monotonic)
    assert cache.get("k", lambda: b"one").body == b"one"
    clock.advance(seconds=0.25)
    calls = []

    def failing():
        calls.append(1)
        raise Down

    first = cache.get("k", failing)
    assert first.stale and first.body == b"one"
    assert cache.get("k", failing).stale and len(calls) == 1  # no new attempt inside the ttl
    clock.advance(seconds=0.25)
    recovered = cache.get("k", lambda: b"two")
    assert recovered.body == b"two" and not recovered.stale


def test_cache_serves_the_previous_entry_while_another_thread_waits_on_the_database():
    import threading

    from service.campaigns.cache import ProgressCache

    cache = ProgressCache(ttl=0.0, stale_on=(Down,))
    cache.get("k", lambda: b"old")
    refreshing, release = threading.Event(), threading.Event()

    def slow():
        refreshing.set()
        release.wait(5)
        return b"new"

    worker = threading.Thread(target=cache.get, args=("k", slow))
    worker.start()
    assert refreshing.wait(5)  # the worker holds the key's lock, waiting on the "database"
    started = time.monotonic()
    assert cache.get("k", slow).body == b"old"  # does not wait for the slow refresh
    assert time.monotonic() - started < 1
    release.set()
    worker.join(5)
    assert cache.entries["k"].body == b"new"


def _signed(payload: bytes, secret: str) -> str:
    import hashlib
    import hmac

    t = int(time.time())
    sig = hmac.new(secret.encode(), f"{t}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={t},v1={sig}"


def test_stripe_webhook_answers_503_while_the_database_is_down_and_is_accepted_on_retry(client, dead_app):
    import json

    event = {"id": "evt_ops_outage_1", "object": "event", "type": "customer.created", "api_version": "2024-06-20",
             "created": int(time.time()), "livemode": False, "pending_webhooks": 1,
             "data": {"object": {"id": "cus_ops_1", "object": "customer", "email": None, "metadata": {}}}}
    payload = json.dumps(event).encode()
    headers = {"Stripe-Signature": _signed(payload, TEST_CONFIG["STRIPE_WEBHOOK_SECRET"]),
               "Content-Type": "application/json"}
    r = dead_app.test_client().post("/v1/webhooks/stripe", data=payload, headers=headers)
    assert r.status_code == 503 and r.mimetype == "application/problem+json"
    assert r.headers["Retry-After"]
    # Stripe retries once the database is back: the event is taken then
    again = client.post("/v1/webhooks/stripe", data=payload, headers=headers)
    assert again.status_code == 200, again.get_json()
    assert again.get_json()["event"] == "evt_ops_outage_1"
    from service.ops import metrics

    assert metrics.WEBHOOKS.labels("customer.created", again.get_json()["outcome"])._value.get() >= 1


def test_a_value_the_database_cannot_store_is_a_422_not_a_500(app, client):
    import sqlalchemy.exc as sa_exc

    @app.route("/_test/nul", methods=["POST"])
    def nul():
        raise sa_exc.DataError("INSERT", {}, Exception("PostgreSQL text fields cannot contain NUL (0x00) bytes"))

    r = client.post("/_test/nul")
    assert r.status_code == 422 and r.mimetype == "application/problem+json"
    assert "NUL" not in r.get_json()["title"]
