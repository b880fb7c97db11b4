"""gunicorn settings for membership-service: `gunicorn -c gunicorn.conf.py 'service:create_app()'`.

Every value can be set from the environment (GUNICORN_* below, or gunicorn's own GUNICORN_CMD_ARGS).
- Workers: gthread, 2 x cores + 1 processes (at most 9) with 4 threads each. The progress endpoint
  answers from memory, and the other endpoints wait on PostgreSQL or Stripe, so threads keep a
  worker busy while one request waits; each process has its own SQLAlchemy pool (pool_size 5).
- preload_app is off: each worker imports the app and opens its own database engine after the fork.
- max_requests with jitter recycles workers now and then, so a slow leak cannot grow for ever.
- Metrics: PROMETHEUS_MULTIPROC_DIR is set (and emptied) here, before any worker imports
  prometheus-client, so that /metrics adds up all workers; child_exit marks a dead worker's files.
- Logs: gunicorn's access log is off (the app writes one JSON line per request with its request id);
  gunicorn's own error log goes to stderr. When GUNICORN_ACCESSLOG turns it on, its lines are masked
  like the app's (secret path segments and query values, tokens, e-mails; Authorization and Cookie).
- Start-up: the master checks the configuration before any worker starts; a missing or development
  secret in production is one message naming every problem, and exit status 2, not a traceback per worker.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import sys
import tempfile

from gunicorn.glogging import Logger


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value.strip() else default


bind = os.environ.get("GUNICORN_BIND") or os.environ.get("BIND") or "127.0.0.1:8000"
workers = _int("GUNICORN_WORKERS", min(2 * multiprocessing.cpu_count() + 1, 9))
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gthread")
threads = _int("GUNICORN_THREADS", 4)
timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 20)
keepalive = _int("GUNICORN_KEEPALIVE", 5)
max_requests = _int("GUNICORN_MAX_REQUESTS", 10_000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 1_000)
preload_app = False
# Trust X-Forwarded-* only from the local reverse proxy (the app's PROXY_HOPS decides how many hops).
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
accesslog = os.environ.get("GUNICORN_ACCESSLOG") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
limit_request_line = 8190
limit_request_field_size = 8190
proc_name = "membership-service"

_metrics_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "").strip()
_own_metrics_dir = not _metrics_dir
if _own_metrics_dir:
    _metrics_dir = tempfile.mkdtemp(prefix="membership-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = _metrics_dir


class RedactingLogger(Logger):
    """gunicorn's logger whose access-log atoms go through the app's redaction (service.ops.logs)."""

    SECRET_HEADERS = ("{authorization}i", "{cookie}i", "{http_authorization}e", "{http_cookie}e")

    def atoms(self, resp, req, environ, request_time):  # noqa: ANN001, ANN201
        from service.ops.logs import REDACTED, loggable_query, redact

        atoms = super().atoms(resp, req, environ, request_time)
        for key, value in atoms.items():
            if isinstance(value, str):
                atoms[key] = REDACTED if key in self.SECRET_HEADERS else redact(value)
        if atoms.get("q"):
            atoms["q"] = atoms["{query_string}e"] = loggable_query(environ.get("QUERY_STRING", ""))
        return atoms


logger_class = RedactingLogger


def _check_configuration() -> None:
    """The app's settings, checked once in the master (every problem in one message): exit 2 if unusable."""
    from service.config import ConfigError, check_environment

    try:
        check_environment()
    except ConfigError as exc:
        print(f"membership-service will not start: {exc}", file=sys.stderr)  # noqa: T201
        if _own_metrics_dir:
            shutil.rmtree(_metrics_dir, ignore_errors=True)
        sys.exit(2)


def on_starting(server) -> None:  # noqa: ANN001
    """Checks the configuration, then empties the metrics directory: numbers from an earlier run must
    not be added to this one's."""
    _check_configuration()
    for name in os.listdir(_metrics_dir):
        path = os.path.join(_metrics_dir, name)
        if os.path.isfile(path) and name.endswith(".db"):
            os.unlink(path)


def child_exit(server, worker) -> None:  # noqa: ANN001
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server) -> None:  # noqa: ANN001
    if _own_metrics_dir:
        shutil.rmtree(_metrics_dir, ignore_errors=True)
