"""The progress document, served one way to every surface (no Flask).

The progress JSON, the widget's fragment and iframe page, the paywall's prompt and the ops fast path
all get a campaign's progress from `document` / `progress_document`: one loader, one serialisation
(UTF-8, `ensure_ascii=False`), one cache key per (slug, normalised locale). So a request gets the same
bytes, ETag and headers whichever surface filled the cache entry.

`path_key` is the route and locale rule of GET /v1/campaigns/<slug>/progress as a plain function of the
WSGI path, query string and Accept-Language header (answers carry `Vary: Accept-Language`), for the fast
path (ops/fastpath.py) that answers before Flask routes.
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache
from urllib.parse import parse_qsl

from sqlalchemy.orm import Session, scoped_session

from service.campaigns import locales, services
from service.campaigns.cache import Document, ProgressCache
from service.campaigns.schemas import ProgressSchema

URL_PREFIX = "/v1/campaigns"
PROGRESS_RULE = "/<slug>/progress"
ENDPOINT = "campaigns.progress_json"  # the view below PROGRESS_RULE (campaigns/views.py)
PROGRESS_PATH = re.compile(re.escape(URL_PREFIX) + r"/([^/]+)/progress")  # PROGRESS_RULE: <slug> is [^/]+

Key = tuple[str, str | None]  # (slug, normalised locale or None)

_schema = ProgressSchema()


def cache_control(max_age: int, stale_while_revalidate: int) -> str:
    """Cache-Control of a fresh progress document (PROGRESS_MAX_AGE, PROGRESS_STALE_WHILE_REVALIDATE)."""
    return f"public, max-age={max_age}, stale-while-revalidate={stale_while_revalidate}"


@lru_cache(maxsize=4096)
def _query_locale(query: str) -> tuple[bool, str | None]:
    """(whether the raw query string gives a non-empty `locale`, that locale normalised). Memoised by query
    string: parsing it and asking Babel cost more than the rest of a cache hit; bounded, so cache-busting
    parameters cannot grow it."""
    values = [v for k, v in parse_qsl(query, keep_blank_values=True) if k == "locale"]
    given = bool(values and values[0])
    return given, locales.normalize_locale(values[0]) if given else None


def locale_of_query(query: str) -> str | None:
    """The `locale` parameter of a raw query string, normalised (None: the campaign's default)."""
    return _query_locale(query)[1]


def request_locale(query: str, accept_language: str | None) -> str | None:
    """The locale of a request: its `locale` parameter when it gives one (an unknown one: the campaign's
    default), else the Accept-Language header's best known locale, else None (the campaign's default)."""
    given, locale = _query_locale(query)
    return locale if given else locales.from_accept_language(accept_language)


def request_key(slug: str, query: str, accept_language: str | None = None) -> Key:
    """The cache key of a progress request: its slug and its locale (query string, else Accept-Language)."""
    return (slug, request_locale(query, accept_language))


def path_key(path: str, query: str, accept_language: str | None = None) -> Key | None:
    """The cache key of a WSGI request for the progress JSON (PATH_INFO, QUERY_STRING, HTTP_ACCEPT_LANGUAGE);
    None for any other path."""
    match = PROGRESS_PATH.fullmatch(path)
    return None if match is None else (match.group(1), request_locale(query, accept_language))


def document(session: Session, cache: ProgressCache, key: Key, now: datetime) -> Document:
    """The progress document of key, from the cache, computed on a miss (NotFound for an unknown slug)."""
    return cache.get(key, lambda: render(session, key, now))


def progress_document(session: Session, cache: ProgressCache, slug: str, locale: str | None,
                      now: datetime) -> Document:
    """The progress document of a campaign in the reader's locale (any tag; unknown ones fall back)."""
    return document(session, cache, (slug, locales.normalize_locale(locale)), now)


def render(session: Session, key: Key, now: datetime) -> bytes:
    """The document's bytes, read from the database. A transaction this read opened is ended here (no
    snapshot held open); one the caller had open is left to the caller."""
    slug, locale = key
    opened = not (session() if isinstance(session, scoped_session) else session).in_transaction()
    try:
        campaign = services.get_public_campaign(session, slug)  # 404 unknown, 410 archived
        return _schema.dumps(services.document_data(session, campaign, locale, now), ensure_ascii=False).encode()
    finally:
        if opened:
            session.rollback()
