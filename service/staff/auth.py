"""Who is asking: the staff session (HTML pages) or a staff API token (Bearer), roles and CSRF.

CSRF is checked only on the staff pages' forms (Flask-WTF's token functions, not an app-wide
CSRFProtect), so the JSON API, webhooks and public endpoints are untouched.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import g, redirect, request, session, url_for
from flask_wtf.csrf import CSRFError, generate_csrf, validate_csrf
from wtforms.validators import ValidationError

from service import clock
from service.errors import Forbidden, problem
from service.extensions import db
from service.staff import accounts, api_tokens
from service.staff.models import StaffUser

SESSION_KEY = "staff_id"
VERSION_KEY = "staff_v"  # the account's session_version at sign-in: a later bump ends this session
UNSAFE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def sign_in(user: StaffUser) -> None:
    """A fresh session (no fixation): the old one, with its CSRF secret, is dropped."""
    session.clear()
    g.pop("csrf_token", None)
    session[SESSION_KEY] = user.id
    session[VERSION_KEY] = user.session_version
    session.permanent = True


def sign_out() -> None:
    """End every session of the signed-in person on the server (copies of the cookie included), then
    this one. The caller commits."""
    staff = load_staff()
    if staff is not None:
        accounts.sign_out(db.session, staff, clock.now())
    session.clear()


def load_staff() -> StaffUser | None:
    """The signed-in staff member, looked up once per request (kept on the request, not on `g`: an
    app context, and so `g`, can outlive a request, e.g. in tests). A cookie whose account was disabled
    or whose sessions were ended since it was issued signs nobody in, and is dropped."""
    if not getattr(request, "_staff_loaded", False):
        request._staff_loaded = True  # type: ignore[attr-defined]
        g.staff = accounts.session_user(db.session, session.get(SESSION_KEY), session.get(VERSION_KEY))
        if g.staff is None and SESSION_KEY in session:
            session.clear()
    return g.staff


def new_request() -> None:
    """Forget per-request values that Flask-WTF caches on `g` (the CSRF token of the session)."""
    g.pop("csrf_token", None)
    g.pop("staff", None)


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def load_token() -> Any:
    """The live staff API token of the request, its use noted (at most once a minute; the caller commits)."""
    token = bearer_token()
    if token is None:
        return None
    row = api_tokens.token_user(db.session, token, clock.now())
    if row is not None:
        accounts.note_token_use(db.session, row, where=f"{request.method} {request.path}", now=clock.now())
    return row


def actor() -> str:
    """Who is asking, for the audit log: the signed-in staff member's email or the API token."""
    staff = g.get("staff")
    if staff is not None:
        return staff.email
    token = g.get("staff_token")
    return accounts.token_label(token) if token is not None else "(anonymous)"


def login_redirect():  # noqa: ANN201
    """To the sign-in page, coming back here afterwards (a page, not a form's POST endpoint)."""
    if request.method == "GET":
        return redirect(url_for("staff.login", next=request.full_path.rstrip("?")))
    return redirect(url_for("staff.login"))


def check_csrf() -> None:
    token = request.form.get("csrf_token") or request.headers.get("X-CSRFToken")
    try:
        validate_csrf(token)
    except ValidationError as exc:
        raise CSRFError(str(exc.args[0]) if exc.args else "The CSRF token is invalid.") from exc


def csrf_token() -> str:
    return generate_csrf()


def require_role(role: str) -> Callable:
    """Viewers read only: changes need `editor` (copy, adjustments) or `admin` (payments, tokens)."""

    def decorator(fn: Callable) -> Callable:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            staff = load_staff()
            if staff is None:
                return login_redirect()
            if not staff.can(role):
                raise Forbidden(f"This needs the {role} role; you are signed in as {staff.role}.")
            return fn(*args, **kwargs)

        return wrapper

    return decorator


def unauthorized_problem():  # noqa: ANN201
    return problem(401, "Unauthorized", "Send a staff API token (Authorization: Bearer mst_…) or sign in.",
                   "unauthorized", headers={"WWW-Authenticate": 'Bearer realm="staff"'})


def api_guard() -> Any:
    """The staff API's rule for endpoints that change things: a staff API token (made by an admin), or a staff
    session whose changes need the editor role and the CSRF token (`X-CSRFToken`); None to go on, else the 401."""
    new_request()
    staff = load_staff()
    if staff is not None:
        if request.method in UNSAFE_METHODS:
            if not staff.can("editor"):
                raise Forbidden(f"This needs the editor role; you are signed in as {staff.role}.")
            check_csrf()
        return None
    token = load_token()
    if token is None:
        return unauthorized_problem()
    g.staff_token = token
    db.session.commit()  # its use, at most once a minute (accounts.note_token_use)
    return None
