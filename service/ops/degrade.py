"""Graceful degradation when the database stops answering.

- Every endpoint: a connection-level database failure is a 503 problem with `Retry-After` (not a 500),
  so clients and Stripe retry; Stripe re-sends a webhook until it gets a 2xx, so nothing is lost.
- Progress: served from the last good cache entry, marked `X-Data-Stale: true` (campaigns/cache.py).
- Access decisions: ACCESS_FAIL_MODE `open` (default: readers see the article while the database is
  down; a blank page costs more trust than a few free reads) or `closed` (503, the site shows its
  own fallback). Endpoints register their own degraded answer with `register_fallback`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

import sqlalchemy.exc as sa_exc
from flask import Response, current_app, g, json, request

from service.errors import handle_unexpected, problem

log = logging.getLogger(__name__)
FAIL_MODES = ("open", "closed")

# endpoint name -> function(exc) returning the degraded response (or None for the default 503).
_fallbacks: dict[str, Callable[[BaseException], Response | None]] = {}


def register_fallback(endpoint: str, fallback: Callable[[BaseException], Response | None]) -> None:
    _fallbacks[endpoint] = fallback


def access_fallback(config: Mapping[str, Any]) -> dict[str, Any] | None:
    """The access decision to give while the database is down: granted (open) or None (closed: 503)."""
    mode = str(config.get("ACCESS_FAIL_MODE", "open")).lower()
    if mode == "open":
        return {"access": "granted", "reason": "degraded"}
    return None


def paywall_access_fallback(exc: BaseException) -> Response | None:
    """POST /v1/access while the database is down: the ACCESS_FAIL_MODE decision, in the endpoint's shape.

    No member, meter, prompt or entitlement can be known; the reader keeps the reader id it sent.
    """
    decision = access_fallback(current_app.config)
    if decision is None:
        return None
    body = request.get_json(silent=True)
    reader_id = body.get("reader_id") if isinstance(body, dict) else None
    payload = {**decision, "member": None, "meter": None, "prompt": None,
               "reader_id": reader_id if isinstance(reader_id, str) else "", "entitlement": None}
    return Response(json.dumps(payload), status=200, mimetype="application/json",
                    headers={"Cache-Control": "no-store", "X-Degraded": "true"})


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
    fallback = _fallbacks.get(request.endpoint or "")
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


def check_config(config: Mapping[str, Any]) -> None:
    from service.config import ConfigError

    if str(config.get("ACCESS_FAIL_MODE", "open")).lower() not in FAIL_MODES:
        raise ConfigError(f"ACCESS_FAIL_MODE must be one of {', '.join(FAIL_MODES)}")
