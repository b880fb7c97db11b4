"""Graceful degradation when the database stops answering.

- Every endpoint: a connection-level database failure is a 503 problem with `Retry-After` (not a 500),
  so clients and Stripe retry; Stripe re-sends a webhook until it gets a 2xx, so nothing is lost.
- Progress: served from the last good cache entry, marked `X-Data-Stale: true` (campaigns/cache.py).
- Endpoints with a degraded answer of their own register it (`registry.fallbacks`, per app): the
  paywall's access decision follows ACCESS_FAIL_MODE (paywall/degraded.py); a fallback that answers
  None leaves the default 503.
"""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy.exc as sa_exc
from flask import Response, current_app, g, request

from service.errors import handle_unexpected, problem
from service.ops import registry

log = logging.getLogger(__name__)


def is_connection_failure(exc: BaseException) -> bool:
    """The database is unreachable or broke the connection (not a bug in our SQL, not a conflict)."""
    if isinstance(exc, sa_exc.TimeoutError):  # pool exhausted while connections hang
        return True
    if isinstance(exc, sa_exc.DBAPIError):
        return bool(exc.connection_invalidated) or isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError)
    return False


def handle_database_error(exc: Exception) -> Response:
    from service.extensions import db
    from service.ops import metrics

    if isinstance(exc, sa_exc.DataError):
        # SQLSTATE class 22 (a NUL character, a number out of range, ...): input the schema let through
        # but the database cannot store. The client's to fix, not a server fault.
        _discard_session(db)
        log.info("database refused a value: %s", type(getattr(exc, "orig", None) or exc).__name__)
        return problem(422, "Invalid input", "A value in the request cannot be stored (for example a NUL "
                       "character or a number out of range).", "validation-error")
    if not is_connection_failure(exc):
        return handle_unexpected(exc)
    _discard_session(db)
    rule = request.url_rule.rule if request.url_rule else None
    metrics.record_db_unavailable(rule)
    log.warning("database unavailable: %s", type(getattr(exc, "orig", None) or exc).__name__)
    fallback = registry.of(current_app).fallbacks.get(request.endpoint or "")
    if fallback is not None:
        response = fallback(exc)
        if response is not None:
            return response
    retry = g.retry_after = str(current_app.config.get("DB_RETRY_AFTER", 5))
    return problem(503, "Service unavailable", "The database is not answering; retry shortly.",
                   "database-unavailable", headers={"Retry-After": retry})


def _discard_session(db: Any) -> None:
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001, S110 - the connection may be gone; the session is discarded below
        pass
    db.session.remove()

