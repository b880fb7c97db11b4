"""The access decision while the database is down (registered with ops: service/ops/registry.py).

ACCESS_FAIL_MODE `open` (default: readers see the article while the database is down; a blank page costs
more trust than a few free reads) or `closed` (503, the site shows its own fallback).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Response, current_app, json, request

FAIL_MODES = ("open", "closed")


def access_fallback(config: Mapping[str, Any]) -> dict[str, Any] | None:
    """The access decision to give while the database is down: granted (open) or None (closed: 503)."""
    mode = str(config.get("ACCESS_FAIL_MODE", "open")).lower()
    if mode == "open":
        return {"access": "granted", "reason": "degraded"}
    return None


def access_response(exc: BaseException) -> Response | None:
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


def check_config(config: Mapping[str, Any]) -> None:
    from service.config import ConfigError

    if str(config.get("ACCESS_FAIL_MODE", "open")).lower() not in FAIL_MODES:
        raise ConfigError(f"ACCESS_FAIL_MODE must be one of {', '.join(FAIL_MODES)}")
