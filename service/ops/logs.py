"""JSON log lines with the request id, and a redaction filter as a safety net for secrets.

One JSON object per line (timestamp, level, logger, message, request_id and, for the access line,
method, path, status, duration_ms), so that a log shipper needs no parsing rules. The redaction
filter masks e-mail addresses, bearer tokens, JWTs and Stripe keys (`sk_`, `rk_`, `whsec_`) in the
message and in exception text: code should not log them, and this catches the mistakes.

Requests carry secrets in their URLs: the magic-link token and the Checkout Session id of a claim in
the path, member tokens and reader ids in query strings. A path or query parameter whose name is in
SECRET_PARAMS (or ends in `token`, `secret`, `password`, `signature`) is a secret: the access line
logs the path with such parameters replaced by the marker (`loggable_path`) and the query with their
values replaced (`loggable_query`); `register_secret_routes` derives, from the app's URL rules, the
patterns that find those paths in any other line too (the development server's request lines,
gunicorn's access log, exception text). Headers and bodies are never logged.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import unquote_plus

REDACTED = "[redacted]"
_PATTERNS = [
    (re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]+"), "Bearer " + REDACTED),
    (re.compile(r"\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]+"), REDACTED),
    (re.compile(r"\bwhsec_[A-Za-z0-9_]+"), REDACTED),
    (re.compile(r"\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"), REDACTED),  # JWT
    (re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"), REDACTED),
    (re.compile(r"\bcs_(?:live|test)_[A-Za-z0-9]+"), REDACTED),  # Checkout Session id: claims a member token
    # name=value of a secret parameter in a query string or form written out in a message
    (re.compile(r"(?i)\b([a-z_]*(?:token|secret|password|signature)|reader_id|session_id)=[^&\s\"'#<>]+"),
     r"\1=" + REDACTED),
]
# Fields the access line and `extra=` may add to a record; copied into the JSON object when present.
EXTRA_FIELDS = ("request_id", "method", "path", "query", "endpoint", "status", "duration_ms", "event", "outcome")

# Path and query parameters whose values are secrets (and any name ending in one of SECRET_SUFFIXES).
SECRET_PARAMS = frozenset({"token", "member_token", "reader_id", "session_id"})
SECRET_SUFFIXES = ("token", "secret", "password", "signature")
MAX_QUERY_LOGGED = 500  # characters of the (redacted) query string on the access line


# One cheap search first: most lines hold nothing to mask, and then no pattern runs.
_ANY = re.compile(r"@|eyJ|(?:sk|rk|pk)_(?:live|test)_|whsec_|cs_(?:live|test)_|(?i:bearer)"
                  r"|(?i:(?:token|secret|password|signature|reader_id|session_id)=)")
_secret_paths: re.Pattern[str] | None = None  # built from the URL rules by register_secret_routes


def is_secret_param(name: str) -> bool:
    name = name.lower()
    return name in SECRET_PARAMS or name.endswith(SECRET_SUFFIXES)


def redact(text: str) -> str:
    if not text:
        return text
    if _ANY.search(text):
        for pattern, replacement in _PATTERNS:
            text = pattern.sub(replacement, text)
    if _secret_paths is not None:
        text = _secret_paths.sub(_mask_secret_groups, text)
    return text


# A URL rule's argument: <name>, <converter:name> or <converter(args):name>.
_RULE_ARG = re.compile(r"<(?:(?P<converter>\w+)(?:\([^)]*\))?:)?(?P<name>\w+)>")


def loggable_path(rule: str, view_args: Mapping[str, Any]) -> str:
    """The request path rebuilt from its URL rule, with each secret parameter replaced by the marker."""
    return _RULE_ARG.sub(lambda m: REDACTED if is_secret_param(m["name"])
                         else str(view_args.get(m["name"], m[0])), rule)


def loggable_query(query_string: str) -> str:
    """A raw query string, decoded, with the values of secret parameters replaced by the marker and each
    other name and value passed through `redact` (e-mail addresses, tokens); cut to MAX_QUERY_LOGGED."""
    pairs = []
    for pair in query_string[:4 * MAX_QUERY_LOGGED].split("&"):
        name, sep, value = (unquote_plus(part) for part in pair.partition("="))
        pairs.append(f"{redact(name)}{sep}{REDACTED if sep and value and is_secret_param(name) else redact(value)}")
    return "&".join(pairs)[:MAX_QUERY_LOGGED]


def register_secret_routes(rules: Iterable[str]) -> None:
    """Teaches `redact` to mask the secret parameters of these URL rules wherever their paths appear in a
    log line (each app adds its rules; the set only grows)."""
    global _secret_paths
    _secret_rules.update(r for r in rules if any(is_secret_param(m["name"]) for m in _RULE_ARG.finditer(r)))
    if _secret_rules:
        _secret_paths = re.compile("|".join(_path_pattern(rule, f"s{i}_")
                                            for i, rule in enumerate(sorted(_secret_rules))))


_secret_rules: set[str] = set()


def _path_pattern(rule: str, group: str) -> str:
    """A regex finding paths of `rule` in text; each secret parameter is a group named `group` + a number."""
    out, pos = [], 0
    for k, m in enumerate(_RULE_ARG.finditer(rule)):
        out.append(re.escape(rule[pos:m.start()]))
        segment = ".+?" if m["converter"] == "path" else "[^/?#\\s\"'<>]+"
        out.append(f"(?P<{group}{k}>{segment})" if is_secret_param(m["name"]) else segment)
        pos = m.end()
    out.append(re.escape(rule[pos:]))
    return "".join(out)


def _mask_secret_groups(match: re.Match[str]) -> str:
    text, origin, out, last = match.group(0), match.start(), [], 0
    for name, value in match.groupdict().items():
        if value is not None:
            start, end = match.span(name)
            out += [text[last:start - origin], REDACTED]
            last = end - origin
    return "".join(out) + text[last:]


class RedactingFilter(logging.Filter):
    """Masks secrets and e-mails in the formatted message and in exception text."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_redacted", False):
            return True
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string must not lose the record
            message = str(record.msg)
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        record._redacted = True
        return True


class RequestContextFilter(logging.Filter):
    """Adds the current request id (when there is a request) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            from flask import g, has_request_context

            record.request_id = g.get("request_id") if has_request_context() else None
        return True


_encode = json.JSONEncoder(ensure_ascii=False, default=str).encode  # one encoder, not one per line
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")  # terminal colour codes (werkzeug colours its lines)


class DevServerRequestLines(logging.Filter):
    """Drops the development server's own request lines (werkzeug's `127.0.0.1 - - [date] "GET / HTTP/1.1"
    200 -`): the service logs each request once, with its request id (ops/hooks.py, LOG_REQUESTS)."""

    _LINE = re.compile(r'^\S+ - - \[[^\]]*\] "')

    def filter(self, record: logging.LogRecord) -> bool:
        return not (isinstance(record.msg, str) and self._LINE.match(_ANSI.sub("", record.msg)))


class JsonFormatter(logging.Formatter):
    _second = -1
    _stamp = ""

    def _timestamp(self, created: float, msecs: float) -> str:
        second = int(created)
        if second != self._second:  # strftime once a second, not once a line
            self._second, self._stamp = second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        return f"{self._stamp}.{int(msecs):03d}Z"

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "timestamp": self._timestamp(record.created, record.msecs),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if "\x1b" in out["message"]:
            out["message"] = _ANSI.sub("", out["message"])
        for name in EXTRA_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                out[name] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(self.formatException(record.exc_info))
        if record.exc_text:
            out["exception"] = record.exc_text
        return _encode(out)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")


REQUEST_LOG_MODES = ("all", "except-progress", "errors", "off")


def request_log_mode(value: object) -> str:
    """LOG_REQUESTS: `all`, `except-progress` (default: not the progress JSON's 2xx/304 answers, which
    the metrics count and the CDN or nginx logs; one line costs about as much as the hooks together),
    `errors` (4xx/5xx and slow requests) or `off`; true/false mean all/off."""
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return "all"
    if text in ("0", "false", "no", ""):
        return "off"
    if text not in REQUEST_LOG_MODES:
        from service.config import ConfigError

        raise ConfigError(f"LOG_REQUESTS must be one of {', '.join(REQUEST_LOG_MODES)}")
    return text


_HANDLER_NAME = "membership-service"


def configure(level: str = "INFO", fmt: str = "json", stream: Any = None) -> logging.Handler:
    """Installs one handler on the root logger (replacing ours from an earlier app; idempotent)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if handler.get_name() == _HANDLER_NAME:
            root.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.addFilter(RequestContextFilter())
    handler.addFilter(RedactingFilter())
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root.addHandler(handler)
    werkzeug = logging.getLogger("werkzeug")
    if not any(isinstance(f, DevServerRequestLines) for f in werkzeug.filters):
        werkzeug.addFilter(DevServerRequestLines())
    root.setLevel(level.upper())
    return handler
