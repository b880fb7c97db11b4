"""HTTP views of the paywall: thin wrappers around the paywall's domain modules."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, g, jsonify, redirect, request
from flask_limiter.util import get_remote_address

from service import clock
from service.api import Blueprint
from service.campaigns import locales
from service.errors import problem
from service.extensions import db, limiter
from service.mail import send_after_commit
from service.members import records
from service.members.models import Member
from service.paywall import billing, claims, member_access, signin
from service.paywall.access import Context, add_prompt, decide_access
from service.paywall.quota import QuotaExceeded
from service.paywall.schemas import (
    AcceptedSchema,
    AccessRequestSchema,
    AccessResponseSchema,
    ClaimRequestSchema,
    ClaimResponseSchema,
    ClaimVerifySchema,
    JWKSSchema,
    MagicLinkRequestSchema,
    MemberMeSchema,
    PortalRequestSchema,
    PortalResponseSchema,
)

blp = Blueprint("paywall", __name__, url_prefix="/v1",
                description="Access decisions and metering, reader sign-in, member tokens")
jwks_blp = Blueprint("jwks", __name__, url_prefix="/.well-known", description="Public keys of entitlement tokens")
BEARER = [{"memberToken": []}]
NO_STORE = {"Cache-Control": "no-store"}  # personal data and tokens: never cached
ACCESS_REQUEST = AccessRequestSchema()  # one instance: webargs would build a schema (and its nested one) per request


def _ctx() -> Context:
    return current_app.extensions["paywall"]


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _me(member: Member) -> dict[str, Any]:
    standing = member_access.standing_of(member, _ctx().settings, clock.now())
    return {**member_access.member_summary(member, with_email=True), "access": standing.kind,
            "access_until": standing.until}


def _access_limit() -> str:
    return current_app.config.get("ACCESS_RATE_LIMIT") or "1000000/second"


@blp.route("/access", methods=["POST"])
@limiter.limit(_access_limit, key_func=get_remote_address, scope="access",
               exempt_when=lambda: not current_app.config.get("ACCESS_RATE_LIMIT"))
@blp.arguments(ACCESS_REQUEST)
@blp.response(200, AccessResponseSchema, headers={
    "Cache-Control": {"description": "no-store (per reader)", "schema": {"type": "string"}}})
@blp.alt_response(429, response="TOO_MANY_REQUESTS")
def access(body: dict[str, Any]) -> tuple[dict[str, Any], int, dict[str, str]]:
    """Decide whether a reader sees an article, and what the wall says.

    Metering counts distinct members-only articles per reader in a rolling period. A database error
    is not swallowed here (the fail mode is decided app-wide).
    """
    ctx, now = _ctx(), clock.now()
    payload = decide_access(db.session, ctx, article=body["article"], member_token=body["member_token"],
                            reader_id=body["reader_id"], locale=body["locale"], now=now, with_prompt=False)
    if db.session.registry.has():  # a member answered from the member cache never opened a session
        db.session.commit()  # the meter's read is stored (and its lock released) before the copy is rendered
    locale = body["locale"] or locales.from_accept_language(request.headers.get("Accept-Language"))
    add_prompt(db.session, ctx, payload, article_id=body["article"]["id"], locale=locale, now=now,
               section=body["article"].get("section"))
    return payload, 200, {"Cache-Control": "no-store"}


@blp.errorhandler(QuotaExceeded)
def _over_quota(exc: QuotaExceeded) -> Response:
    """The sign-in quota's 429 (paywall/quota.py) with its own Retry-After (kept over Flask-Limiter's)."""
    g.retry_after = str(exc.retry_after)
    return problem(exc.status, exc.title, exc.detail, exc.type, headers={"Retry-After": g.retry_after})


@blp.route("/auth/magic-links", methods=["POST"])
# Per client address (Flask-Limiter, shared between hosts with RATELIMIT_STORAGE_URI=redis://); the
# per-address quota (MAGIC_LINK_RATE_PER_EMAIL) is kept in the database by signin.request_magic_link.
@limiter.limit(lambda: current_app.config["MAGIC_LINK_RATE_PER_IP"], key_func=get_remote_address,
               scope="magic-link-ip")
@blp.arguments(MagicLinkRequestSchema)
@blp.response(202, AcceptedSchema)
@blp.alt_response(429, response="TOO_MANY_REQUESTS")
@blp.alt_response(503, response="SERVICE_UNAVAILABLE")
def request_magic_link(body: dict[str, Any]) -> dict[str, str]:
    """Mail a one-time sign-in link (15 minutes). The answer is the same for members and others."""
    signin.request_magic_link(db.session, _ctx().settings, email=body["email"], return_url=body["return_url"],
                              now=clock.now(), locale=body["locale"])
    db.session.commit()
    send_after_commit()  # the link's mail, written with it (service/mail)
    return {"status": "accepted",
            "detail": "If this address belongs to a member, a sign-in link is on its way. Check your inbox."}


@blp.route("/auth/magic-links/<token>", methods=["GET"])
@blp.alt_response(302, description="To return_url with `#member_token=…`, or `#sign_in_error=link_used|"
                  "link_expired|not_a_member`")
@blp.alt_response(410, response="GONE")
def use_magic_link(token: str) -> Response:
    """Sign in with a link (once) and go back to the site with the member token in the URL fragment."""
    result = signin.use_magic_link(db.session, _ctx().settings, token, clock.now())
    db.session.commit()
    response = redirect(result.redirect_url, code=302)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@blp.route("/checkout/sessions/<session_id>/claim", methods=["POST"])
@blp.arguments(ClaimRequestSchema, required=False)
@blp.response(200, ClaimResponseSchema)
@blp.alt_response(202, schema=ClaimVerifySchema, description="The checkout alone does not prove who the member "
                  "is (they existed before, signed in, or paid as another customer): a sign-in link went to the "
                  "member's own address")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
@blp.alt_response(502, response="BAD_GATEWAY")
@blp.alt_response(503, response="SERVICE_UNAVAILABLE")
def claim_checkout(body: dict[str, Any], session_id: str) -> Any:
    """Exchange a paid membership Checkout Session for a member token, or mail a sign-in link.

    The token comes back only when that checkout is all that stands behind the member (a new reader; then
    `provisional` until Stripe's membership webhook arrives, at most an hour). A member who existed before,
    has signed in, or paid as another Stripe customer gets 202 and a link at their own stored address."""
    settings = _ctx().settings
    prices = current_app.extensions["payments_settings"].prices
    claim = claims.claim_checkout(db.session, settings, current_app.extensions["stripe"], prices, session_id,
                                  clock.now(), return_url=(body or {}).get("return_url"))
    db.session.commit()
    send_after_commit()  # a sign-in link's mail, when the claim wrote one
    if not claim.signed_in:
        response = jsonify(ClaimVerifySchema().dump({
            "status": "verify_email", "detail": "To sign in, use the link we sent to the member's address."}))
        response.status_code, response.headers["Cache-Control"] = 202, "no-store"
        return response
    return ({"member_token": member_access.member_token(settings, claim.member, clock.now()),
             "member": _me(claim.member)},
            200, NO_STORE)


@blp.route("/members/me", methods=["GET"])
@blp.response(200, MemberMeSchema)
@blp.alt_response(401, response="UNAUTHORIZED")
@blp.doc(security=BEARER)
def members_me() -> tuple[dict[str, Any], int, dict[str, str]]:
    """The signed-in member's status, plan and renewal date."""
    member = member_access.require_member(db.session, _ctx().settings, _bearer(), clock.now())
    return _me(member), 200, NO_STORE


@blp.route("/members/me/sign-out-everywhere", methods=["POST"])
@blp.response(204)
@blp.alt_response(401, response="UNAUTHORIZED")
@blp.doc(security=BEARER)
def sign_out_everywhere() -> None:
    """Revoke every member token issued so far (including this one)."""
    member = member_access.require_member(db.session, _ctx().settings, _bearer(), clock.now())
    records.revoke_tokens(member, clock.now())
    db.session.commit()


@blp.route("/billing-portal/sessions", methods=["POST"])
@blp.arguments(PortalRequestSchema)
@blp.response(201, PortalResponseSchema)
@blp.alt_response(401, response="UNAUTHORIZED")
@blp.alt_response(409, response="CONFLICT")
@blp.alt_response(502, response="BAD_GATEWAY")
@blp.doc(security=BEARER)
def billing_portal(body: dict[str, Any]) -> dict[str, str]:
    """A Stripe customer-portal URL where the member manages payment method, plan and cancellation."""
    settings = _ctx().settings
    member = member_access.require_member(db.session, settings, _bearer(), clock.now())
    return {"url": billing.billing_portal_url(settings, current_app.extensions["stripe"], member,
                                              body["return_url"])}


@jwks_blp.route("/jwks.json", methods=["GET"])
@jwks_blp.response(200, JWKSSchema, headers={
    "Cache-Control": {"description": "public, max-age=300", "schema": {"type": "string"}}})
def jwks() -> tuple[dict[str, Any], int, dict[str, str]]:
    """Public Ed25519 keys (JWK Set) that verify entitlement tokens; all configured keys, first one signs."""
    return _ctx().keys.jwks(), 200, {"Cache-Control": "public, max-age=300"}
