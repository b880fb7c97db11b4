"""The app served by gunicorn in a subprocess, for the storm and crash tests (127.0.0.1 only).

The server runs in its own process group; `stop()` ends the whole group (SIGTERM, then SIGKILL), so no
worker outlives a test, even a failed one.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.conftest import TEST_CONFIG
from tests.stripe_events import PRICES_SETTING, SECRET

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = str(Path(sys.executable).parent / "gunicorn")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class GunicornServer:
    def __init__(self, workdir: Path, settings: dict[str, str], workers: int = 3, threads: int = 2) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.config = workdir / "gunicorn.test.py"
        raw_env = [f"{k}={v}" for k, v in settings.items()]
        self.config.write_text(
            "# Written by tests/reliability: the app on a fresh database, several workers.\n"
            f"bind = '127.0.0.1:{self.port}'\n"
            f"workers = {workers}\n"
            "worker_class = 'gthread'\n"
            f"threads = {threads}\n"
            "timeout = 60\n"
            "graceful_timeout = 5\n"
            "keepalive = 5\n"
            "accesslog = None\n"
            "loglevel = 'warning'\n"
            f"raw_env = {raw_env!r}\n"
        )
        self.log = workdir / "gunicorn.log"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 90) -> GunicornServer:
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(  # noqa: S603
                [GUNICORN, "-c", str(self.config), "service:create_app()"], cwd=ROOT, env=env,
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.proc.returncode}:\n{self.log.read_text()[-3000:]}")
            if len(self.workers()) >= 1 and self._answers():
                return self
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"gunicorn did not answer within {timeout:.0f} s:\n{self.log.read_text()[-3000:]}")

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(self.url + "/healthz", timeout=5) as r:  # noqa: S310
                r.read()
            return True
        except urllib.error.HTTPError:
            return True
        except OSError:
            return False

    def workers(self) -> list[int]:
        """Pids of the master's worker processes."""
        if self.proc is None:
            return []
        try:
            text = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text()
        except OSError:
            return []
        return [int(p) for p in text.split()]

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                pass
        try:  # whatever is left of the group (a stuck worker)
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        if self.proc.poll() is None:
            self.proc.wait(timeout=10)


def server_settings(database_url: str) -> dict[str, str]:
    """The test settings for a served app; Stripe's API points at a closed local port (no network)."""
    return {
        "DATABASE_URL": database_url,
        "SERVICE_ENV": "test",
        "SECRET_KEY": TEST_CONFIG["SECRET_KEY"],
        "STRIPE_API_KEY": TEST_CONFIG["STRIPE_API_KEY"],
        "STRIPE_WEBHOOK_SECRET": SECRET,
        "STRIPE_PRICES": PRICES_SETTING,
        "STRIPE_API_BASE": "http://127.0.0.1:9",
        "RATELIMIT_ENABLED": "false",
        "LOG_LEVEL": "WARNING",
    }


def end_other_sessions(database_url: str) -> None:
    """On PostgreSQL, end any session a stopped (or SIGKILLed) server left on the test database, so the
    next test's TRUNCATE never waits for, or deadlocks with, an orphaned backend."""
    if not database_url.startswith("postgresql"):
        return
    import sqlalchemy as sa

    engine = sa.create_engine(database_url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'"))
    finally:
        engine.dispose()
