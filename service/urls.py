"""The one rule for a URL the service stores or is configured with (join URLs, checkout and redirect bases).

A stored URL ends up in `href`s of readers' pages and in answers other sites follow, so it must be an absolute
http(s) URL (https when the caller requires it, i.e. in production), name a host, carry no credentials and contain
no whitespace or control characters. `javascript:`, `data:`, scheme-relative `//host` and `https://user@host`
URLs are all refused. Plain module: no Flask.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

MAX_LENGTH = 2000
_UNSAFE = re.compile(r"[\x00-\x20\x7f-\x9f\\]")


def http_url(value: str, *, require_https: bool) -> str:
    """Return `value` unchanged when it is an acceptable stored URL, else raise ValueError with a readable sentence.

    Accepted: `http://` or `https://` (only `https://` when `require_https`), a host name, an optional valid port,
    no `user:password@`, no whitespace, control characters or backslashes, at most 2000 characters.
    """
    if not isinstance(value, str) or not value:
        raise ValueError("The URL is empty; give an absolute http(s) URL such as https://example.org/join.")
    if len(value) > MAX_LENGTH:
        raise ValueError(f"The URL is longer than {MAX_LENGTH} characters.")
    if _UNSAFE.search(value):
        raise ValueError("The URL contains spaces, control characters or backslashes.")
    parts = urlsplit(value)
    scheme = parts.scheme.lower()
    allowed = ("https",) if require_https else ("http", "https")
    if scheme not in allowed or not value.lower().startswith(f"{scheme}://"):
        need = "https://" if require_https else "http:// or https://"
        got = f"{scheme}:" if scheme else "no scheme"
        raise ValueError(f"The URL must start with {need} (got {got}).")
    if "@" in parts.netloc:
        raise ValueError("The URL must not contain credentials (user:password@).")
    if not parts.hostname:
        raise ValueError("The URL has no host.")
    try:
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise ValueError("The URL has an invalid port.") from None
    return value


def is_http_url(value: str | None, *, require_https: bool = False) -> bool:
    """True when `value` passes `http_url` (for serve-time filtering of rows stored before the rule existed)."""
    try:
        http_url(value or "", require_https=require_https)
    except ValueError:
        return False
    return True


def https_required(settings: Mapping[str, Any]) -> bool:
    """Stored URLs must be https in production (`SERVICE_ENV=production`); http is fine elsewhere."""
    return settings.get("SERVICE_ENV") == "production"


DEFAULT_PORTS = {"http": 80, "https": 443}


def origin(url: str | None) -> str | None:
    """`scheme://host[:port]` (lower-case, default port dropped) of a URL that passes `http_url`, else None.

    The one origin rule: redirect allowlists (sign-in, billing portal) and checkout return URLs compare it."""
    if not is_http_url(url):
        return None
    parts = urlsplit(url or "")
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    if port is None or port == DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def allowed_origin(url: str | None, allowed_origins: frozenset[str] | tuple[str, ...] | list[str]) -> bool:
    """True only for an http(s) URL whose exact origin (scheme, host, port) is in `allowed_origins`."""
    found = origin(url) if isinstance(url, str) else None
    return found is not None and found in allowed_origins
