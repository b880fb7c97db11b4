"""Security headers added to every response (a view's own headers win).

- JSON and other non-HTML: `default-src 'none'; frame-ancestors 'none'` (nothing to load or frame).
- HTML: same-origin resources only and no framing, except the widget's iframe page (`/embed/...`),
  which the origins in WIDGET_ALLOWED_ORIGINS may frame.
- `Cross-Origin-Resource-Policy: cross-origin` only on what other sites load (the progress JSON, the
  widget's script and iframe); `same-origin` elsewhere.
- HSTS only in production (a development server on plain HTTP must stay reachable).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Response

from service.config import csv

JSON_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"
HTML_CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors {ancestors}")
HTML_CSP_NO_FRAMING = HTML_CSP.format(ancestors="'none'")
# Endpoints and path prefixes that other sites load (the widget helper's routes and the progress JSON).
CROSS_ORIGIN_ENDPOINTS = {"campaigns.progress"}
CROSS_ORIGIN_PREFIXES = ("/embed/", "/widget", "/v1/widget")
EMBED_PREFIXES = ("/embed/",)


def frame_ancestors(config: Mapping[str, Any]) -> str:
    """The CSP `frame-ancestors` source list for the iframe embed, from WIDGET_ALLOWED_ORIGINS."""
    origins = csv(config.get("WIDGET_ALLOWED_ORIGINS"))
    if not origins:
        return "'none'"
    if "*" in origins:
        return "https: http:"
    return " ".join(["'self'", *origins])


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


def apply(response: Response, present: set[str], path: str, endpoint: str | None, static: dict[str, str],
          embed_csp: str, production: bool) -> None:
    """Adds the missing headers; `present` holds the lower-cased names the response has already."""
    headers = response.headers
    add = headers.add  # appends without scanning (every name here was checked against `present`)
    for name, value in static.items():
        if name.lower() not in present:
            add(name, value)
    embed = path.startswith(EMBED_PREFIXES)
    if "content-security-policy" not in present:
        if response.mimetype == "text/html":
            add("Content-Security-Policy", embed_csp if embed else HTML_CSP_NO_FRAMING)
        else:
            add("Content-Security-Policy", JSON_CSP)
    if not embed and "x-frame-options" not in present:
        add("X-Frame-Options", "DENY")
    if "cross-origin-resource-policy" not in present:
        cross = endpoint in CROSS_ORIGIN_ENDPOINTS or path.startswith(CROSS_ORIGIN_PREFIXES)
        add("Cross-Origin-Resource-Policy", "cross-origin" if cross else "same-origin")
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


def embed_csp(config: Mapping[str, Any]) -> str:
    return HTML_CSP.format(ancestors=frame_ancestors(config))
