"""The gifts API (`POST /v1/gifts/{code}/redeem`) and the page a gift's link opens (`/gifts/{code}`)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint as FlaskBlueprint
from flask import Response, current_app, render_template, request

from service import clock
from service.api import Blueprint
from service.errors import DomainError
from service.extensions import db
from service.gifts import redeem as redeeming
from service.gifts.pages import page_text, pick_language, site_link
from service.gifts.schemas import RedeemRequestSchema, RedemptionSchema
from service.mail import send_after_commit
from service.paywall.member_access import member_summary

blp = Blueprint("gifts", __name__, url_prefix="/v1", description="Gift memberships: redeeming a gift")
pages = FlaskBlueprint("gift_pages", __name__, template_folder="templates", static_folder="static",
                      static_url_path="/gifts/static")
NO_STORE = {"Cache-Control": "no-store"}


def _settings() -> Any:
    return current_app.extensions["paywall"].settings


def answer(r: redeeming.Redemption) -> dict[str, Any]:
    return {"member_token": r.member_token, "member": member_summary(r.member) if r.member_token else None,
            "gift": {"months": r.gift.months, "starts_at": r.gift.starts_at, "ends_at": r.gift.ends_at},
            "sign_in": "token" if r.member_token else "link_sent"}


@blp.route("/gifts/<code>/redeem", methods=["POST"])
@blp.arguments(RedeemRequestSchema)
@blp.response(200, RedemptionSchema, headers={
    "Cache-Control": {"description": "no-store (a member token)", "schema": {"type": "string"}}})
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
@blp.alt_response(410, response="GONE")
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
def redeem(body: dict[str, Any], code: str) -> tuple[dict[str, Any], int, dict[str, str]]:
    """Redeem a gift: its recipient becomes a member until `gift.ends_at` (months added after any membership
    they have). Single use. Returns a member token only for a member it creates; for an address that is
    already a member's, a sign-in link goes to that address instead."""
    result = redeeming.redeem(db.session, _settings(), code, clock.now(), return_url=body.get("return_url"))
    db.session.commit()
    send_after_commit()  # the sign-in link's mail, when the address was already a member's
    return answer(result), 200, NO_STORE


def _page(template: str, status: int = 200, **values: Any) -> Response:
    lang = pick_language(request.args.get("lang"), values.get("gift"), request.accept_languages.best_match(
        ["en", "uk"]))
    html = render_template(template, t=page_text(lang), lang=lang, code=values.pop("code", ""), **values)
    return Response(html, status=status, mimetype="text/html",
                    headers={**NO_STORE, "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex"})


@pages.get("/gifts/<code>")
def gift_page(code: str) -> Response:
    """The page the gift mail links to: what the gift is, and a button that redeems it."""
    try:
        gift = redeeming.find(db.session, code)
    except DomainError as exc:
        return _page("gifts/gift.html", exc.status, code=code, gift=None, error=exc.type)
    error = {"redeemed": "gift-redeemed", "refunded": "gift-refunded"}.get(gift.state)
    return _page("gifts/gift.html", code=code, gift=gift, error=error)


@pages.post("/gifts/<code>")
def redeem_page(code: str) -> Response:
    """The page's form (works without JavaScript): redeem, then say until when, with a link to the site."""
    settings = _settings()
    try:
        result = redeeming.redeem(db.session, settings, code, clock.now())
        db.session.commit()
        send_after_commit()
    except DomainError as exc:
        db.session.rollback()
        return _page("gifts/gift.html", exc.status, code=code, gift=None, error=exc.type)
    return _page("gifts/redeemed.html", code="", gift=result.gift, signed_in=bool(result.member_token),
                 site_url=site_link(settings, result.member_token))
