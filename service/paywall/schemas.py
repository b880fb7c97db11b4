"""Request and response schemas of the paywall endpoints (marshmallow; they generate openapi.yaml)."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from service.paywall.rules import REASONS, VISIBILITIES


class ArticleSchema(ma.Schema):
    id = fields.String(required=True, validate=validate.Length(min=1, max=200),
                       metadata={"description": "The website's article id", "example": "2025/06/city-budget"})
    visibility = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(VISIBILITIES),
                               metadata={"description": "Overrides the section default; default `members`"})
    section = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=100),
                            metadata={"description": "Section whose stored default applies when no visibility"})


class AccessRequestSchema(ma.Schema):
    article = fields.Nested(ArticleSchema, required=True)
    member_token = fields.String(load_default=None, allow_none=True,
                                 metadata={"description": "Member token from sign-in; invalid ones count as none"})
    reader_id = fields.String(load_default=None, allow_none=True,
                              metadata={"description": "Signed reader id from an earlier answer; a new one is "
                                        "issued when absent, malformed or tampered"})
    locale = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=100),
                           metadata={"description": "Reader's locale for the paywall copy, e.g. uk"})


class MemberSummarySchema(ma.Schema):
    id = fields.Integer(required=True)
    status = fields.String(required=True, metadata={"description": "Subscription status (active, trialing, "
                                                    "past_due, canceled, ...)"})
    plan = fields.String(allow_none=True)
    current_period_end = fields.DateTime(allow_none=True, metadata={"description": "Renewal (or end) date"})
    cancel_at_period_end = fields.Boolean()
    gift_ends_at = fields.DateTime(allow_none=True, metadata={
        "description": "When the member's gift membership ends (or ended); null without a redeemed gift"})


class MemberMeSchema(MemberSummarySchema):
    email = fields.String(required=True)
    access = fields.String(required=True, metadata={
        "description": "member, grace, provisional (joined by checkout, membership not confirmed by Stripe yet: "
                       "at most an hour), lapsed or none"})
    access_until = fields.DateTime(allow_none=True, metadata={"description": "When this access ends, if known"})


class MeterSchema(ma.Schema):
    limit = fields.Integer(required=True)
    used = fields.Integer(required=True)
    remaining = fields.Integer(required=True)
    resets_at = fields.DateTime(allow_none=True, metadata={"description": "When the oldest counted read expires"})


class PromptSchema(ma.Schema):
    headline = fields.String(required=True)
    body = fields.String(required=True)
    cta_label = fields.String(required=True)
    checkout_url = fields.String(required=True)
    locale = fields.String(required=True)
    dir = fields.String(required=True, metadata={"description": "ltr or rtl"})
    campaign = fields.String(allow_none=True)
    variant = fields.Integer(allow_none=True, metadata={
        "description": "The experiment arm shown (a variant id, 0 the control; null: no experiment runs); also in "
                       "checkout_url, for POST /v1/checkout/sessions `variant`"})
    flavour = fields.String(allow_none=True, metadata={
        "description": "`gift_ended`: the member's gift membership is over; the copy invites them to continue "
                       "with their own membership. Null: the campaign's own appeal"})


class EntitlementSchema(ma.Schema):
    token = fields.String(required=True,
                          metadata={"description": "Ed25519 JWT (EdDSA); verify with /.well-known/jwks.json"})
    expires_at = fields.DateTime(required=True)
    kid = fields.String(required=True)


class AccessResponseSchema(ma.Schema):
    access = fields.String(required=True, validate=validate.OneOf(("granted", "denied")))
    reason = fields.String(required=True, validate=validate.OneOf(REASONS),
                           metadata={"description": "`degraded`: the database is down and ACCESS_FAIL_MODE is open"})
    member = fields.Nested(MemberSummarySchema, allow_none=True)
    meter = fields.Nested(MeterSchema, allow_none=True)
    prompt = fields.Nested(PromptSchema, allow_none=True)
    reader_id = fields.String(required=True, metadata={"description": "Keep in a first-party cookie"})
    entitlement = fields.Nested(EntitlementSchema, allow_none=True)


class MagicLinkRequestSchema(ma.Schema):
    email = fields.Email(required=True, validate=validate.Length(max=320))
    return_url = fields.String(required=True, validate=validate.Length(min=1, max=2000),
                               metadata={"description": "Where the link leads after sign-in; must be on an "
                                         "origin in SITE_ALLOWED_ORIGINS"})
    locale = fields.String(load_default=None, allow_none=True,
                           validate=[validate.Length(max=35),
                                     validate.Regexp(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*$",
                                                     error="Not a language tag (e.g. uk or uk-UA).")],
                           metadata={"description": "The reader's language for the mail (the page's, e.g. uk or "
                                     "uk-UA; en and uk are written, others get English). Used for the link and "
                                     "for the no-membership note alike; default: the member's language, else "
                                     "English"})


class AcceptedSchema(ma.Schema):
    status = fields.String(required=True)
    detail = fields.String(required=True)


class ClaimRequestSchema(ma.Schema):
    return_url = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=2000),
                               metadata={"description": "Where a mailed sign-in link leads (answer 202); must be "
                                         "on an origin in SITE_ALLOWED_ORIGINS. Default: the first one"})


class ClaimResponseSchema(ma.Schema):
    member_token = fields.String(required=True)
    member = fields.Nested(MemberMeSchema, required=True)


class ClaimVerifySchema(ma.Schema):
    status = fields.String(required=True, validate=validate.OneOf(("verify_email",)))
    detail = fields.String(required=True)


class PortalRequestSchema(ma.Schema):
    return_url = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=2000))


class PortalResponseSchema(ma.Schema):
    url = fields.String(required=True)


class JWKSchema(ma.Schema):
    kty = fields.String(required=True)
    crv = fields.String(required=True)
    x = fields.String(required=True)
    kid = fields.String(required=True)
    use = fields.String(required=True)
    alg = fields.String(required=True)


class JWKSSchema(ma.Schema):
    keys = fields.List(fields.Nested(JWKSchema), required=True)
