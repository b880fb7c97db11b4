"""HTTP views of campaigns: the progress JSON, served by campaigns.serving."""

from __future__ import annotations

from flask import Response, current_app, request

from service import clock
from service.api import Blueprint
from service.campaigns import serving
from service.campaigns.schemas import ProgressQuerySchema, ProgressSchema
from service.extensions import db

blp = Blueprint("campaigns", __name__, url_prefix=serving.URL_PREFIX, description="Campaign progress and banner copy")


@blp.route(serving.PROGRESS_RULE)
# The query schema is documented, not parsed with webargs: this is the hottest endpoint, `locale` is a
# free-form hint that never fails (normalize_locale falls back), and webargs costs a third of a cache hit.
@blp.doc(parameters=[{"in": "query", "schema": ProgressQuerySchema}])
@blp.response(200, ProgressSchema, headers={
    "ETag": {"description": "Entity tag of the body", "schema": {"type": "string"}},
    "Cache-Control": {"description": "public, short max-age, stale-while-revalidate", "schema": {"type": "string"}},
})
@blp.alt_response(304, description="Not modified (If-None-Match matched)")
@blp.alt_response(404, response="NOT_FOUND")
def progress_json(slug: str) -> Response:
    """Progress toward the campaign's goal, with the banner copy for the reader's locale.

    Served from a per-process cache refreshed every few seconds: reading it never counts members.
    """
    key = serving.request_key(slug, request.environ.get("QUERY_STRING", ""),
                              request.environ.get("HTTP_ACCEPT_LANGUAGE"))
    doc = serving.document(db.session, current_app.extensions["progress_cache"], key, clock.now())
    if request.environ.get("HTTP_IF_NONE_MATCH") and request.if_none_match.contains_weak(doc.etag.strip('"')):
        return Response(status=304, headers=doc.headers[1:])
    return Response(doc.body, 200, doc.headers)
