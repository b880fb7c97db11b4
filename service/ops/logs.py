"""JSON log lines with the request id, and a redaction filter as a safety net for secrets.

One JSON object per line (timestamp, level, logger, message, request_id and, for the access line,
method, path, status, duration_ms), so that a log shipper needs no parsing rules. The redaction
filter masks e-mail addresses, bearer tokens, JWTs and Stripe keys (`sk_`, `rk_`, `whsec_`) in the
message and in exception text: code should not log them, and this catches the mistakes.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from typing import Any

REDACTED = "[redacted]"
_PATTERNS = [
    (re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]+"), "Bearer " + REDACTED),
    (re.compile(r"\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]+"), REDACTED),
    (re.compile(r"\bwhsec_[A-Za-z0-9_]+"), REDACTED),
    (re.compile(r"\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"), REDACTED),  # JWT
    (re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"), REDACTED),
]
# Fields the access line and `extra=` may add to a record; copied into the JSON object when present.
EXTRA_FIELDS = ("request_id", "method", "path", "endpoint", "status", "duration_ms", "event", "outcome")


# One cheap search first: most lines hold nothing to mask, and then no pattern runs.
_ANY = re.compile(r"@|eyJ|(?:sk|rk|pk)_(?:live|test)_|whsec_|(?i:bearer)")


def redact(text: str) -> str:
    if not text or not _ANY.search(text):
        return text
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


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
    root.setLevel(level.upper())
    return handler
