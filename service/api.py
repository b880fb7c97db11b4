"""flask-smorest's Api with RFC 9457 problem+json errors in both the responses and the spec."""

from __future__ import annotations

import http
import json

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


class SafeJSONParser(FlaskParser):
    """webargs' parser, but JSON that Python's json module refuses with something other than a
    JSONDecodeError (a 5,000-digit number: ValueError; deep nesting: RecursionError) is a 400 problem
    like any other malformed body, not a 500. `EXTRA_JSON_MIMETYPES` lets a blueprint read JSON sent
    with another type (sendBeacon's text/plain)."""

    EXTRA_JSON_MIMETYPES: tuple[str, ...] = ()

    def _raw_load_json(self, req):  # noqa: ANN001, ANN202
        if not (is_json_request(req) or req.mimetype in self.EXTRA_JSON_MIMETYPES):
            return core.missing
        data = req.get_data(cache=True)
        try:
            return core.parse_json(data)
        except json.JSONDecodeError:
            raise
        except (ValueError, RecursionError) as exc:
            raise json.JSONDecodeError(f"unreadable JSON ({type(exc).__name__})", "?", 0) from exc


class Blueprint(_Blueprint):
    """Every API blueprint of the service: flask-smorest's, with the safe JSON parser."""

    ARGUMENTS_PARSER = SafeJSONParser()
