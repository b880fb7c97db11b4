"""HTTP views of campaigns: thin wrappers around campaigns.services."""

from __future__ import annotations

from flask import Response, current_app, request
from flask_smorest import Blueprint
from sqlalchemy.exc import DBAPIError

from service.campaigns import copy, services
from service.campaigns.schemas import ProgressQuerySchema, ProgressSchema
from service.extensions import db

blp = Blueprint("campaigns", __name__, url_prefix="/v1/campaigns", description="Campaign progress and banner copy")

_progress_schema = ProgressSchema()


def _load_progress(slug: str, locale: str | None) -> bytes:
    session = db.session
    try:
        campaign = services.get_campaign(session, slug)
        payload = services.progress_payload(session, campaign, locale, current_app.extensions["clock"].now())
        return _progress_schema.dumps(payload, ensure_ascii=False).encode()
    finally:
        session.rollback()  # read-only: end the transaction so no snapshot is held open


@blp.route("/<slug>/progress")
@blp.arguments(ProgressQuerySchema, location="query", as_kwargs=True, error_status_code=422)
@blp.response(200, ProgressSchema, headers={
    "ETag": {"description": "Entity tag of the body", "schema": {"type": "string"}},
    "Cache-Control": {"description": "public, short max-age, stale-while-revalidate", "schema": {"type": "string"}},
})
@blp.alt_response(304, description="Not modified (If-None-Match matched)")
@blp.alt_response(404, response="NOT_FOUND")
def progress(slug: str, locale: str | None = None) -> Response:
    """Progress toward the campaign's goal, with the banner copy for the reader's locale.

    Served from a per-process cache refreshed every few seconds: reading it never counts members.
    """
    norm = copy.normalize_locale(locale)
    cache = current_app.extensions["progress_cache"]
    entry = cache.get((slug, norm), lambda: _load_progress(slug, norm))
    response = Response(entry.body, mimetype="application/json")
    response.set_etag(entry.etag.strip('"'))
    cfg = current_app.config
    response.headers["Cache-Control"] = (
        f"public, max-age={cfg['PROGRESS_MAX_AGE']}, stale-while-revalidate={cfg['PROGRESS_STALE_WHILE_REVALIDATE']}"
    )
    if entry.stale:
        response.headers["X-Data-Stale"] = "true"
        response.headers["Cache-Control"] = "public, max-age=1"
    return response.make_conditional(request)


def stale_on() -> tuple[type[BaseException], ...]:
    return (DBAPIError,)
