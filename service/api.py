"""flask-smorest's Api with RFC 9457 problem+json errors in both the responses and the spec."""

from __future__ import annotations

import http
import json
import re
from typing import Any

import marshmallow as ma
from flask_smorest import Api as _Api
from flask_smorest import Blueprint as _Blueprint
from flask_smorest.utils import prepare_response
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request

from service.errors import PROBLEM_JSON


class ProblemSchema(ma.Schema):
    """RFC 9457 problem details."""

    type = ma.fields.String(required=True, metadata={"description": "URI naming the kind of problem"})
    title = ma.fields.String(required=True)
    status = ma.fields.Integer(required=True)
    detail = ma.fields.String()
    errors = ma.fields.Dict(metadata={"description": "Field-by-field validation messages"})

    class Meta:
        unknown = ma.INCLUDE


class Api(_Api):
    ERROR_SCHEMA = ProblemSchema

    def _register_error_handlers(self) -> None:
        """Errors are handled app-wide by service.errors (also for routes outside the Api)."""

    def _register_responses(self) -> None:
        for status in http.HTTPStatus:
            response: dict = {"description": status.phrase}
            if not (100 <= status < 200) and status not in (204, 304):
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM_JSON)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Default error response", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM_JSON)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)


# Text no database here can store: NUL (PostgreSQL refuses it in text) and unpaired UTF-16
# surrogates (not Unicode scalar values: encoding them to UTF-8 fails, in the driver or anywhere else).
# In a UTF-8 JSON body both can only arrive as \u escapes: bodies without one are not walked.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
NUL_MESSAGE = "NUL characters (\\u0000) are not allowed."
SURROGATE_MESSAGE = "Unpaired surrogates (\\ud800-\\udfff) are not valid text."


def unstorable_text(value: Any) -> dict[str, Any] | list[str] | None:
    """Where a parsed JSON value holds text that cannot be stored, as marshmallow-style messages
    (`{"article": {"id": [message]}}`, list items by index, a bad key under its escaped form),
    or None when every string and key is storable."""
    if isinstance(value, str):
        found = _UNSTORABLE.search(value)
        if found is None:
            return None
        return [NUL_MESSAGE if found.group() == "\x00" else SURROGATE_MESSAGE]
    items: Any = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    errors: dict[str, Any] = {}
    for key, item in items:
        key_error = unstorable_text(key) if isinstance(key, str) else None
        label = key.encode("utf-8", "backslashreplace").decode() if isinstance(key, str) else str(key)
        inner = key_error or unstorable_text(item)
        if inner is not None:
            errors[label] = inner
    return errors or None


class SafeJSONParser(FlaskParser):
    """webargs' parser, but JSON that Python's json module refuses with something other than a
    JSONDecodeError (a 5,000-digit number: ValueError; deep nesting: RecursionError) is a 400 problem
    like any other malformed body, not a 500; and a body holding text that cannot be stored (NUL,
    unpaired surrogates, anywhere in it) is a 422 naming the fields, on every database, before any
    code sees it. `EXTRA_JSON_MIMETYPES` lets a blueprint read JSON sent with another type
    (sendBeacon's text/plain)."""

    EXTRA_JSON_MIMETYPES: tuple[str, ...] = ()

    def _raw_load_json(self, req):  # noqa: ANN001, ANN202
        if not (is_json_request(req) or req.mimetype in self.EXTRA_JSON_MIMETYPES):
            return core.missing
        data = req.get_data(cache=True)
        try:
            parsed = core.parse_json(data)
        except json.JSONDecodeError:
            raise
        except (ValueError, RecursionError) as exc:
            raise json.JSONDecodeError(f"unreadable JSON ({type(exc).__name__})", "?", 0) from exc
        if b"\\u" in data:
            try:
                errors = unstorable_text(parsed)
            except RecursionError as exc:  # nesting the parser just took, plus our frames
                raise json.JSONDecodeError("unreadable JSON (RecursionError)", "?", 0) from exc
            if errors is not None:  # webargs answers 422 with the messages under "json"
                raise ma.ValidationError(errors if isinstance(errors, dict) else {"_schema": errors})
        return parsed


class Blueprint(_Blueprint):
    """Every API blueprint of the service: flask-smorest's, with the safe JSON parser."""

    ARGUMENTS_PARSER = SafeJSONParser()
