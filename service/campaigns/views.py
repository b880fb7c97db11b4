"""HTTP views of campaigns: thin wrappers around campaigns.services."""

from __future__ import annotations

from urllib.parse import parse_qsl

from flask import Response, current_app, request
from sqlalchemy.exc import DBAPIError

from service.api import Blueprint
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
# The query schema is documented, not parsed with webargs: this is the hottest endpoint, `locale` is a
# free-form hint that never fails (normalize_locale falls back), and webargs costs a third of a cache hit.
@blp.doc(parameters=[{"in": "query", "schema": ProgressQuerySchema}])
@blp.response(200, ProgressSchema, headers={
    "ETag": {"description": "Entity tag of the body", "schema": {"type": "string"}},
    "Cache-Control": {"description": "public, short max-age, stale-while-revalidate", "schema": {"type": "string"}},
})
@blp.alt_response(304, description="Not modified (If-None-Match matched)")
@blp.alt_response(404, response="NOT_FOUND")
def progress(slug: str) -> Response:
    """Progress toward the campaign's goal, with the banner copy for the reader's locale.

    Served from a per-process cache refreshed every few seconds: reading it never counts members.
    """
    norm = _requested_locale()
    cache = current_app.extensions["progress_cache"]
    entry = cache.get((slug, norm), lambda: _load_progress(slug, norm))
    if entry.stale:
        headers = [("Content-Type", "application/json"), ("ETag", entry.etag),
                   ("Cache-Control", "public, max-age=1"), ("X-Data-Stale", "true")]
    else:
        headers = [("Content-Type", "application/json"), ("ETag", entry.etag),
                   ("Cache-Control", _cache_control(current_app.config))]
    if request.environ.get("HTTP_IF_NONE_MATCH") and request.if_none_match.contains_weak(entry.etag.strip('"')):
        return Response(status=304, headers=headers[1:])
    return Response(entry.body, 200, headers)


_MISSING = object()
_locale_of_query: dict[str, str | None] = {}  # raw query string -> normalized locale (bounded)


def _requested_locale() -> str | None:
    return locale_key(request.environ.get("QUERY_STRING", ""))


def locale_key(query: str) -> str | None:
    """The `locale` parameter of a raw query string, normalized; memoized by query string (parsing it
    and asking Babel cost more than the rest of a cache hit)."""
    norm = _locale_of_query.get(query, _MISSING)
    if norm is _MISSING:
        values = [v for k, v in parse_qsl(query, keep_blank_values=True) if k == "locale"]
        norm = copy.normalize_locale(values[0] if values else None)
        if len(_locale_of_query) < 4096:  # cache-busting parameters must not grow it without bound
            _locale_of_query[query] = norm
    return norm  # type: ignore[return-value]


def _cache_control(cfg: dict) -> str:
    value = cfg.get("_PROGRESS_CACHE_CONTROL")
    if value is None:  # computed once per app: a header string per request is measurable here
        value = cfg["_PROGRESS_CACHE_CONTROL"] = (
            f"public, max-age={cfg['PROGRESS_MAX_AGE']}, "
            f"stale-while-revalidate={cfg['PROGRESS_STALE_WHILE_REVALIDATE']}")
    return value


def stale_on() -> tuple[type[BaseException], ...]:
    return (DBAPIError,)
