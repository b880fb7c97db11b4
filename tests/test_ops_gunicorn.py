"""The production server: gunicorn with gunicorn.conf.py serves health, readiness, progress and metrics
(added up over all workers)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as r:  # noqa: S310 - 127.0.0.1 only
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


@pytest.fixture
def gunicorn(app, session, clock, database_url, tmp_path):
    from service.campaigns import demo

    demo.create_demo(session, datetime(2025, 3, 1, 9, 0, tzinfo=UTC))
    session.commit()
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GUNICORN_", "PROMETHEUS_"))}
    env.update(DATABASE_URL=database_url, GUNICORN_BIND=f"127.0.0.1:{port}", GUNICORN_WORKERS="2",
               GUNICORN_THREADS="2", SERVICE_ENV="development", LOG_REQUESTS="false")
    log = open(tmp_path / "gunicorn.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "service:create_app()"],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if get(base + "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("gunicorn did not start:\n" + (tmp_path / "gunicorn.log").read_text())
            time.sleep(0.2)
        yield base
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()


@pytest.mark.slow
def test_gunicorn_serves_health_readiness_progress_and_metrics(gunicorn):
    status, headers, body = get(gunicorn + "/healthz")
    assert status == 200 and b'"ok"' in body and headers["X-Request-ID"]
    status, _, body = get(gunicorn + "/readyz")
    assert status == 200, body
    for _ in range(20):
        status, headers, body = get(gunicorn + "/v1/campaigns/members-25k/progress?locale=en")
        assert status == 200 and b'"members-25k"' in body
    status, headers, text = get(gunicorn + "/metrics")
    assert status == 200 and headers["Content-Type"].startswith("text/plain")
    line = [x for x in text.decode().splitlines()
            if x.startswith("http_requests_total{") and "/progress" in x and 'status="200"' in x]
    assert line and float(line[0].split()[-1]) == 20.0  # every worker's requests, added up
    assert "campaign_members{" in text.decode()
    assert "python_gc_objects" not in text.decode()  # multi-process mode (PROMETHEUS_MULTIPROC_DIR) is on
