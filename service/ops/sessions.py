"""Flask's cookie sessions, minus a per-request cost on the public API.

Flask builds a signing serializer for every request before it even looks for a session cookie; only
staff pages use sessions, so a request without the cookie gets an empty session at once, and the
serializer is built once per secret key."""

from __future__ import annotations

from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer


class LazyCookieSessionInterface(SecureCookieSessionInterface):
    def __init__(self) -> None:
        self._serializers: dict[tuple, URLSafeTimedSerializer | None] = {}

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        key = (app.secret_key, tuple(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        serializer = self._serializers.get(key, False)
        if serializer is False:
            serializer = self._serializers[key] = super().get_signing_serializer(app)
        return serializer  # type: ignore[return-value]

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if not app.secret_key:
            return None
        if not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)
