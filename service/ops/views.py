"""Health, readiness and metrics endpoints."""

from __future__ import annotations

import hmac

from flask import Blueprint as FlaskBlueprint
from flask import Response, current_app, request

from service.api import Blueprint
from service.errors import Forbidden, Unavailable
from service.extensions import db, limiter
from service.ops import health, metrics, registry
from service.ops.schemas import HealthSchema, ReadySchema

blp = Blueprint("ops", __name__, description="Health and readiness of the service")
metrics_bp = FlaskBlueprint("metrics", __name__)


@blp.route("/healthz")
@limiter.exempt
@blp.response(200, HealthSchema)
def healthz() -> dict:
    """Liveness: the process answers (no database access).

    For the load balancer's and the orchestrator's liveness probe; restart the process when it fails.
    """
    return {"status": "ok"}


@blp.route("/readyz")
@limiter.exempt
@blp.response(200, ReadySchema)
@blp.alt_response(503, response="SERVICE_UNAVAILABLE")
def readyz() -> dict:
    """Readiness: the database answers `SELECT 1` and its schema is at the migrations' head.

    A 503 problem says which check failed; take the host out of rotation until it passes.
    """
    from service import MIGRATIONS_DIR

    result = health.check(db.engine.connect, MIGRATIONS_DIR)
    if not result.ready:
        raise Unavailable(result.detail, database=result.database, migration=sorted(result.current),
                          head=sorted(result.head))
    return {"status": "ok", "database": result.database, "migration": sorted(result.current)}


@metrics_bp.route("/metrics")
@limiter.exempt
def metrics_view() -> Response:
    """Prometheus text exposition, for allowed networks or with `Authorization: Bearer METRICS_TOKEN`."""
    if not metrics_allowed():
        raise Forbidden("Metrics are only served to allowed networks or with the metrics token.")
    gauges = metrics.read_gauges(registry.of(current_app).gauges, db.session, db.session.remove)
    body, content_type = metrics.exposition(gauges)
    return Response(body, content_type=content_type, headers={"Cache-Control": "no-store"})


def metrics_allowed() -> bool:
    cfg = current_app.config
    token = cfg.get("METRICS_TOKEN") or ""
    auth = request.headers.get("Authorization", "")
    if token and auth.startswith("Bearer ") and hmac.compare_digest(auth[7:].strip().encode(), token.encode()):
        return True
    if not cfg.get("PROXY_HOPS") and ("X-Forwarded-For" in request.headers or "Forwarded" in request.headers):
        # Came through a proxy we do not count hops for: the peer address is the proxy's, not the client's.
        return False
    networks = current_app.extensions["ops"]["metrics_networks"]
    return metrics.address_allowed(request.remote_addr, networks)
