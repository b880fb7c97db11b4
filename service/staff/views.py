"""Staff pages: sign-in, campaigns, the dashboard, copy editor, adjustments, tokens, payments health.

Server-rendered HTML; forms post back with a CSRF token. Thin views: parse the form with a schema,
call one service function, commit, redirect (or re-render with the message next to the field).
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import Blueprint, Response, current_app, flash, g, redirect, render_template, request, url_for
from flask_wtf.csrf import CSRFError
from jinja2 import TemplateNotFound
from markupsafe import Markup
from werkzeug.exceptions import HTTPException, TooManyRequests

from service import clock
from service.campaigns import services as campaigns
from service.campaigns.models import STAGES
from service.errors import DomainError, Invalid
from service.extensions import db, limiter
from service.staff import (
    accounts,
    adjustments,
    api_tokens,
    audit,
    auth,
    charts,
    copy_editing,
    milestone_admin,
    payments_health,
    redaction,
    reports,
)
from service.staff.schemas import AdjustmentForm, CopyForm, LoginForm, TokenForm
from service.urls import https_required

bp = Blueprint("staff", __name__, url_prefix="/staff", template_folder="templates",
               static_folder="static", static_url_path="/static")

PUBLIC_ENDPOINTS = ("staff.login", "staff.static")


@bp.before_request
def _guard() -> Any:
    """Every staff page needs a session (302 to sign-in otherwise); every form post a CSRF token."""
    auth.new_request()
    if request.endpoint not in PUBLIC_ENDPOINTS and auth.load_staff() is None:
        return auth.login_redirect()
    if request.method in auth.UNSAFE_METHODS:
        auth.check_csrf()
    return None


@bp.context_processor
def _context() -> dict[str, Any]:
    staff = g.get("staff")
    return {"csrf_token": auth.csrf_token, "staff": staff,
            "error_text": lambda text: redaction.error_text(text, staff is not None and staff.can("admin"))}


@bp.after_request
def _headers(response: Response) -> Response:
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Content-Security-Policy",
                                "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
                                "frame-ancestors 'none'; form-action 'self'")
    return response


@bp.errorhandler(DomainError)
def _domain_error(exc: DomainError) -> tuple[str, int]:
    db.session.rollback()
    return render_template("staff/error.html", status=exc.status, title=exc.title, detail=exc.detail), exc.status


@bp.errorhandler(TooManyRequests)
def _too_many(exc: HTTPException) -> Response:
    page = render_template("staff/error.html", status=429, title="Too many attempts",
                           detail="Too many sign-in attempts from your address. Wait a minute and try again.")
    response = Response(page, status=429, mimetype="text/html")
    for name, value in exc.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


@bp.errorhandler(CSRFError)
def _csrf_error(exc: HTTPException) -> tuple[str, int]:
    return render_template("staff/error.html", status=400, title="The form expired",
                           detail=f"{exc.description} Go back, reload the page and try again."), 400


def _form(schema: ma.Schema) -> dict[str, Any]:
    try:
        return schema.load(request.form.to_dict())
    except ma.ValidationError as exc:
        raise Invalid("Some fields are not valid: " + "; ".join(
            f"{k}: {' '.join(map(str, v))}" for k, v in exc.messages.items()), errors=exc.messages) from exc


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/staff") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("staff.index")


# ---- sign-in --------------------------------------------------------------------------------------

@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["STAFF_LOGIN_RATE_LIMIT"], methods=["POST"])
def login() -> Any:
    if request.method == "GET":
        if auth.load_staff() is not None:
            return redirect(_safe_next(request.args.get("next")))
        return render_template("staff/login.html", next=request.args.get("next", ""), error=None, email="")
    form = _form(LoginForm())
    cfg = current_app.config
    user = accounts.authenticate(db.session, email=form["email"], password=form["password"], now=clock.now(),
                                 max_failures=cfg["STAFF_LOGIN_MAX_FAILURES"],
                                 lock_minutes=cfg["STAFF_LOCKOUT_MINUTES"])
    db.session.commit()
    if user is None:
        return render_template("staff/login.html", next=form["next"], error=accounts.SIGN_IN_FAILED,
                               email=form["email"]), 401
    auth.sign_in(user)
    return redirect(_safe_next(form["next"]))


@bp.post("/logout")
def logout() -> Any:
    auth.sign_out()
    db.session.commit()
    flash("You are signed out.")
    return redirect(url_for("staff.login"))


# ---- campaigns and the dashboard ----------------------------------------------------------------------

@bp.get("/")
def index() -> str:
    return render_template("staff/index.html", campaigns=reports.list_campaigns(db.session, clock.now()))


@bp.get("/campaigns/<slug>")
def dashboard(slug: str) -> str:
    session = db.session
    campaign = campaigns.get_campaign(session, slug)
    d = reports.dashboard(session, campaign, clock.now(), current_app.extensions["staff_dashboard_cache"])
    p = d.progress
    figures = {
        "cumulative": charts.cumulative_chart(d.cumulative, d.on_track, d.projection, campaign.goal,
                                              d.first_day, d.deadline, d.today,
                                              events=milestone_admin.chart_events(session, campaign)),
        "daily": charts.daily_chart(d.days, d.first_day, d.deadline),
        "bar": charts.progress_bar(p["count"], p["goal"],
                                   f"{p['count']:,} of {p['goal']:,} members "
                                   f"({reports.truths.percent_label(p['percent_of_goal'])})"),
    }
    health = payments_health.overview(session, livemode=current_app.extensions["payments_settings"].livemode) \
        if g.staff.can("admin") else None
    rows = redaction.audit_rows(audit.recent(session, campaign), g.staff.can("admin"))
    return render_template("staff/dashboard.html", d=d, p=p, c=campaign, figures=figures, audit=rows,
                           health=health)


@bp.post("/campaigns/<slug>/adjustments")
@auth.require_role("editor")
def add_adjustment(slug: str) -> Any:
    campaign = campaigns.get_campaign(db.session, slug)
    form = _form(AdjustmentForm())
    row = adjustments.add_adjustment(db.session, campaign, delta=form["delta"], reason=form["reason"],
                                     actor=g.staff.email, now=clock.now())
    db.session.commit()
    flash(f"Adjusted by {row.delta:+,}: the count is now {campaign.count:,}.")
    return redirect(url_for("staff.dashboard", slug=slug) + "#adjustments")


# ---- copy editor ----------------------------------------------------------------------------------

def _copy_page(campaign: Any, locale: str, stage: str, templates: dict[str, str], note: str,
               errors: dict[str, Any], status: int = 200) -> tuple[str, int]:
    payload, preview_errors = copy_editing.preview(db.session, campaign, locale=locale, stage=stage,
                                                   templates=templates, now=clock.now(),
                                                   require_https=https_required(current_app.config))
    errors = {**{k: [v] for k, v in preview_errors.items()}, **errors}
    return render_template("staff/copy.html", c=campaign, locale=locale, stage=stage, stages=STAGES,
                           locales=copy_editing.copy_locales(db.session, campaign), templates=templates, note=note,
                           errors=errors, banner=payload, fragment=_fragment(payload)), status


@bp.get("/campaigns/<slug>/copy")
def copy_editor(slug: str) -> Any:
    campaign = campaigns.get_campaign(db.session, slug)
    locale = request.args.get("locale") or campaign.default_locale
    stage = request.args.get("stage") if request.args.get("stage") in STAGES else "launch"
    templates, note = copy_editing.copy_for_editing(db.session, campaign, locale, stage)
    return _copy_page(campaign, locale, stage, templates, note, {})


@bp.post("/campaigns/<slug>/copy")
@auth.require_role("editor")
def save_copy(slug: str) -> Any:
    campaign = campaigns.get_campaign(db.session, slug)
    form = _form(CopyForm())
    try:
        row = copy_editing.edit_copy(db.session, campaign, staff=g.staff, locale=form["locale"],
                                     stage=form["stage"], headline=form["headline"], body=form["body"],
                                     cta_label=form["cta_label"], cta_url=form["cta_url"], now=clock.now(),
                                     require_https=https_required(current_app.config))
    except Invalid as exc:
        db.session.rollback()
        templates = {k: form[k] for k in ("headline", "body", "cta_label", "cta_url")}
        errors = exc.extra.get("errors") or {"form": [exc.detail]}
        return _copy_page(campaign, form["locale"], form["stage"], templates, "", errors, 422)
    db.session.commit()
    current_app.extensions["progress_cache"].clear()
    flash(f"Saved the {row.stage} copy in {row.locale}.")
    return redirect(url_for("staff.copy_editor", slug=slug, locale=row.locale, stage=row.stage))


@bp.post("/campaigns/<slug>/copy/preview")
def copy_preview(slug: str) -> Any:
    """The banner fragment for the live preview (the editor's script posts the form here on input)."""
    campaign = campaigns.get_campaign(db.session, slug)
    form = _form(CopyForm())
    templates = {k: form[k] for k in ("headline", "body", "cta_label", "cta_url")}
    payload, errors = copy_editing.preview(db.session, campaign, locale=form["locale"], stage=form["stage"],
                                           templates=templates, now=clock.now(),
                                           require_https=https_required(current_app.config))
    db.session.rollback()
    return render_template("staff/_banner.html", banner=payload, errors=errors, fragment=_fragment(payload))


def _fragment(payload: dict[str, Any]) -> Markup | None:
    """The widget's server-rendered fragment for this banner, so that the preview is what readers see."""
    try:
        from service.widget import markup

        return Markup(render_template("widget/fragment.html", b=markup.banner(payload), s=markup.STYLES))  # noqa: S704
    except (ImportError, TemplateNotFound):  # the widget package without its fragment: a plain equivalent
        return None


# ---- audit log and API tokens (admin) -----------------------------------------------------------------

@bp.get("/audit")
@auth.require_role("admin")
def audit_log() -> str:
    """Everything staff did, sign-ins, sign-outs, account changes and token use included."""
    rows = redaction.audit_rows(audit.recent(db.session, limit=200), admin=True)
    return render_template("staff/audit.html", audit=rows)


@bp.get("/tokens")
@auth.require_role("admin")
def tokens() -> str:
    return render_template("staff/tokens.html", tokens=api_tokens.list_tokens(db.session), new_token=None)


@bp.post("/tokens")
@auth.require_role("admin")
def create_token() -> Any:
    form = _form(TokenForm())
    row, token = api_tokens.create_token(db.session, name=form["name"], staff=g.staff, now=clock.now())
    db.session.commit()
    return render_template("staff/tokens.html", tokens=api_tokens.list_tokens(db.session),
                           new_token=token, new_row=row), 201


@bp.post("/tokens/<int:token_id>/revoke")
@auth.require_role("admin")
def revoke_token(token_id: int) -> Any:
    row = api_tokens.revoke_token(db.session, token_id, staff=g.staff, now=clock.now())
    db.session.commit()
    flash(f"Revoked token {row.prefix}… ({row.name}).")
    return redirect(url_for("staff.tokens"))


# ---- payments health (admin) ------------------------------------------------------------------------

@bp.post("/webhooks/<int:event_id>/replay")
@auth.require_role("admin")
def replay_webhook(event_id: int) -> Any:
    outcome = payments_health.replay_webhook(db.session, event_id, staff=g.staff, now=clock.now(),
                                             settings=current_app.extensions["payments_settings"])
    db.session.commit()
    flash(f"Replayed webhook event {event_id}: {outcome}.")
    return redirect(request.form.get("back") if (request.form.get("back") or "").startswith("/staff/")
                    else url_for("staff.index"))
