"""The join page and the welcome page after checkout (server-rendered; thin: page.py, plans.py and
welcome.py do the work). Both work without JavaScript: the forms post here; with it, join.js uses the
public API (`POST /v1/checkout/sessions`, `POST /v1/checkout/sessions/{id}/claim`)."""

from __future__ import annotations

import dataclasses
from typing import Any

from flask import Blueprint, Response, current_app, redirect, render_template, request, url_for

from service import clock
from service.errors import DomainError
from service.extensions import db
from service.join import page as pages
from service.join import support as supports
from service.join import welcome as welcomes
from service.mail import send_after_commit
from service.payments import checkout
from service.urls import allowed_origin

bp = Blueprint("join", __name__, url_prefix="/join", template_folder="templates", static_folder="static",
               static_url_path="/static")

CHECKOUT_ORIGIN = "https://checkout.stripe.com"


def _csp() -> str:
    """The site's HTML policy, with Stripe Checkout as a form target (the form's 303 goes there)."""
    return ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; "
            f"base-uri 'none'; form-action 'self' {CHECKOUT_ORIGIN}; frame-ancestors 'none'")


def _html(body: str, status: int = 200) -> Response:
    response = Response(body, status=status, mimetype="text/html")
    response.headers["Content-Security-Policy"] = _csp()
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"  # the welcome page's URL names a checkout
    response.headers["Vary"] = "Accept-Language"
    return response


def _return_url(value: str | None) -> str:
    """The site page to go back to, only on an allowed site origin (anything else is dropped)."""
    allowed = current_app.extensions["paywall"].settings.allowed_origins
    return value if value and len(value) <= 2000 and allowed_origin(value, allowed) else ""


def _language(args: Any, campaign_default: str | None = None) -> str:
    accepted = request.accept_languages.best_match(list(pages.texts.LANGUAGES))
    return pages.choose_language(args.get("locale"), accepted, campaign_default)


def _page(args: Any) -> pages.JoinPage:
    session, now, ext = db.session, clock.now(), current_app.extensions
    found = pages.find_campaign(session, args.get("campaign"), ext["paywall"].settings.campaign_slug, now)
    slug = found[0] if found else None
    lang = _language(args, found[1] if found else None)
    choices = pages.plan_choices(ext["join_plans"].get(ext["stripe"], ext["payments_settings"].plans), lang)
    p = pages.JoinPage(lang=lang, campaign=slug, progress=pages.progress(session, ext["progress_cache"], slug,
                                                                         lang, now),
                       plans=choices, selected=pages.selected_plan(choices, args.get("plan")),
                       return_url=_return_url(args.get("return_url")), article=(args.get("article") or "")[:180])
    _add_support(p, args)
    return p


def _add_support(p: pages.JoinPage, args: Any) -> None:
    """The ways to support (service/join/support.py): kind, currency, amounts, gift; plans priced in the currency."""
    ext = current_app.extensions
    settings = ext["payments_settings"]
    prices = {pl.name: pl for pl in ext["join_prices"].get(ext["stripe"], supports.extra_prices(settings))}
    s = supports.build(settings, args, plan=p.selected, lang=p.lang, prices=prices, today=clock.now().date(),
                       locale=args.get("locale"))
    if s.kind == "membership" and s.currency:
        p.plans = supports.plans_in(p.plans, settings, prices, s.currency, p.lang)
    p.extra["support"] = s


def _render(p: pages.JoinPage, status: int = 200) -> Response:
    links = pages.return_links(current_app.config["PUBLIC_BASE_URL"].rstrip("/"), p)
    s: supports.Support = p.extra["support"]
    base = pages.page_query(p.campaign, p.lang, p.return_url, p.article)
    return _html(render_template("join/join.html", p=p, links=links,
                                 say=lambda key, **v: supports.say(p.lang, key, **v),
                                 sentences=supports.error_sentences(s, p.lang),
                                 kind_query=lambda kind: supports.kind_query(base, kind, s.currency),
                                 languages=[(lang, pages.page_query(p.campaign, lang, p.return_url, p.article,
                                                                    p.selected)) for lang in pages.texts.LANGUAGES]),
                 status)


@bp.get("")
def join_page() -> Response:
    """The join page: progress, plans and a button that starts Stripe Checkout."""
    return _render(_page(request.args))


@bp.post("/checkout")
def start_checkout() -> Response:
    """Without JavaScript: the join form starts Checkout here and is sent on to Stripe (303)."""
    p = _page(request.form)
    s: supports.Support = p.extra["support"]
    if not p.campaign or (s.kind == "membership" and not p.selected):
        return _render(p, 409)
    links = pages.return_links(current_app.config["PUBLIC_BASE_URL"].rstrip("/"), p)
    try:
        args = supports.checkout_args(s, request.form, p.selected, campaign=p.campaign, locale=p.lang,
                                      article_id=p.article or None, links=links)
        created = checkout.start_checkout(
            db.session, current_app.extensions["stripe"], current_app.extensions["payments_settings"],
            now=clock.now(), referrer=request.referrer, **args)
    except DomainError as exc:
        db.session.rollback()
        s.errors.update(supports.field_errors(s, p.lang, exc.extra.get("errors"), exc.extra))
        error = supports.say(p.lang, "fix_below") if s.errors else p.t("checkout_failed",
                                                                        detail=exc.detail or exc.title)
        return _render(dataclasses.replace(p, error=error), exc.status)
    db.session.commit()
    return redirect(created["url"], code=303)


@bp.route("/welcome", methods=["GET", "POST"])
def welcome() -> Response:
    """After Checkout: claims the session (join.js with the API, or this form without JavaScript)."""
    args = request.values
    lang = _language(args)
    session_id = (args.get("session_id") or "")[:300]
    return_url = _return_url(args.get("return_url"))
    result = None
    if request.method == "POST" and session_id:
        ctx = current_app.extensions["paywall"]
        result = welcomes.claim(db.session, ctx.settings, current_app.extensions["stripe"],
                                current_app.extensions["payments_settings"].prices, session_id, clock.now(),
                                return_url or None)
        db.session.commit()
        send_after_commit()  # a sign-in link's mail, when the claim wrote one (service/mail)
    join_query = pages.page_query(args.get("campaign"), lang, return_url, args.get("article") or "")
    return _html(render_template(
        "join/welcome.html", lang=lang, t=lambda key, **v: pages.texts.text(lang, key, **v), session_id=session_id,
        result=result, return_url=return_url, join_url=url_for("join.join_page") + "?" + join_query,
        handoff=welcomes.handoff_url(return_url, result.member_token) if result and result.member_token
        and return_url else ""))
