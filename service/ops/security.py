"""Security headers added to every response (a view's own headers win).

- JSON and other non-HTML: `default-src 'none'; frame-ancestors 'none'` (nothing to load or frame).
- HTML: same-origin resources only and no framing, except pages under a framable prefix a feature
  registered (the widget's iframe page): no `X-Frame-Options`, and their view sets the CSP that says who
  may frame them (a view that forgot gets the no-framing policy).
- `Cross-Origin-Resource-Policy: cross-origin` only on what other sites load (endpoints and path prefixes
  the features registered: the progress JSON, the widget's script and iframe); `same-origin` elsewhere.
- HSTS only in production (a development server on plain HTTP must stay reachable).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Response

from service.ops.registry import Registry

JSON_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"
HTML_CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


def static_headers(config: Mapping[str, Any]) -> dict[str, str]:
    """Headers that are the same on every response, computed once per app."""
    headers = {
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "strict-origin-when-cross-origin",
    }
    if config.get("SERVICE_ENV") == "production":
        max_age = int(config.get("HSTS_MAX_AGE", 31_536_000))
        headers["Strict-Transport-Security"] = f"max-age={max_age}; includeSubDomains"
    return headers


class HeaderSets:
    """The headers to add for each kind of response, built once per app: (html, embed, cross-origin), and
    the endpoints and path prefixes of each kind that the features registered."""

    def __init__(self, config: Mapping[str, Any], registered: Registry) -> None:
        static = list(static_headers(config).items())
        self.cross_origin_endpoints = frozenset(registered.cross_origin_endpoints)
        self.cross_origin_prefixes = tuple(registered.cross_origin_prefixes)
        self.framable_prefixes = tuple(registered.framable_prefixes)
        self.sets: dict[tuple[bool, bool, bool], tuple[tuple[tuple[str, str], ...], frozenset[str]]] = {}
        for html in (False, True):
            for embed in (False, True):
                for cross in (False, True):
                    items = list(static)
                    csp = HTML_CSP if html else JSON_CSP
                    items.append(("Content-Security-Policy", csp))
                    if not embed:
                        items.append(("X-Frame-Options", "DENY"))
                    items.append(("Cross-Origin-Resource-Policy", "cross-origin" if cross else "same-origin"))
                    self.sets[(html, embed, cross)] = (tuple(items), frozenset(n.lower() for n, _ in items))


def apply(response: Response, present: set[str], path: str, endpoint: str | None, header_sets: HeaderSets,
          production: bool) -> None:
    """Adds the headers the response lacks; `present` holds the lower-cased names it has already."""
    headers = response.headers
    html = (headers.get("Content-Type") or "").startswith("text/html")
    embed = path.startswith(header_sets.framable_prefixes)
    cross = endpoint in header_sets.cross_origin_endpoints or path.startswith(header_sets.cross_origin_prefixes)
    items, names = header_sets.sets[(html, embed, cross)]
    raw = getattr(headers, "_list", None)
    if raw is not None and present.isdisjoint(names):
        # The common case (a view that set none of these): append the constant, already valid pairs in one
        # go; Headers.add would validate each value again on every request.
        raw.extend(items)
    else:
        for name, value in items:
            if name.lower() not in present:
                headers.add(name, value)
    if production and "set-cookie" in present:
        _secure_cookies(response)


def _secure_cookies(response: Response) -> None:
    """Safety net in production: every cookie gets `Secure` (views should set it themselves)."""
    cookies = response.headers.getlist("Set-Cookie")
    if all("secure" in c.lower() for c in cookies):
        return
    del response.headers["Set-Cookie"]
    for cookie in cookies:
        response.headers.add("Set-Cookie", cookie if "secure" in cookie.lower() else cookie + "; Secure")

