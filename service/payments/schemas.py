"""Schemas of the payments endpoints."""

from __future__ import annotations

import marshmallow as ma


class GiftSchema(ma.Schema):
    months = ma.fields.Integer(required=True, strict=True, validate=ma.validate.OneOf([3, 6, 12]),
                               metadata={"description": "Length of the gift membership (GIFT_PRICES)"})
    recipient_email = ma.fields.Email(required=True, validate=ma.validate.Length(max=320),
                                      metadata={"description": "Who receives the gift by mail"})
    recipient_name = ma.fields.String(load_default=None, validate=ma.validate.Length(max=200))
    message = ma.fields.String(load_default=None, validate=ma.validate.Length(max=500),
                               metadata={"description": "A note to the recipient, mailed with the gift"})
    deliver_on = ma.fields.Date(load_default=None,
                                metadata={"description": "Day the gift is mailed (UTC; default today, at most a "
                                                         "year ahead)"})


class CheckoutRequestSchema(ma.Schema):
    campaign = ma.fields.String(required=True, validate=ma.validate.Length(1, 64),
                                metadata={"description": "Campaign slug the sign-up is attributed to"})
    kind = ma.fields.String(load_default="membership",
                            validate=ma.validate.OneOf(["membership", "contribution", "gift"]),
                            metadata={"description": "membership (subscription, default), contribution (one-time "
                                                     "payment, never counted as a member) or gift"})
    plan = ma.fields.String(load_default=None, validate=ma.validate.Length(1, 64),
                            metadata={"description": "Membership plan name from STRIPE_PRICES, e.g. monthly "
                                                     "(required for a membership)"})
    amount = ma.fields.Integer(load_default=None, strict=True, validate=ma.validate.Range(1, 99_999_999),
                               metadata={"description": "Reader-chosen amount in minor units (500 = $5.00, 500 "
                                                        "JPY = ¥500): a flexible plan's or a contribution's; at "
                                                        "least PLAN_MINIMUMS of the currency"})
    currency = ma.fields.String(load_default=None, validate=ma.validate.Regexp(r"^[A-Za-z]{3}$"),
                                metadata={"description": "ISO 4217 code; default: the reader's country's "
                                                         "currency when on sale, else PLAN_CURRENCY"})
    country = ma.fields.String(load_default=None, validate=ma.validate.Regexp(r"^[A-Za-z]{2}$"),
                               metadata={"description": "The reader's country (ISO 3166 alpha-2), for the "
                                                        "default currency; else the locale's region"})
    gift = ma.fields.Nested(GiftSchema, load_default=None,
                            metadata={"description": "Required with kind gift"})
    email = ma.fields.Email(load_default=None, validate=ma.validate.Length(max=320),
                            metadata={"description": "Prefills Checkout's email field"})
    locale = ma.fields.String(load_default=None, validate=ma.validate.Length(max=35),
                              metadata={"description": "BCP 47 tag; Checkout shows it when Stripe supports it"})
    reader_id = ma.fields.String(load_default=None, validate=ma.validate.Length(max=200),
                                 metadata={"description": "The paywall's reader id (client_reference_id)"})
    article_id = ma.fields.String(load_default=None, validate=ma.validate.Length(max=180),
                                  metadata={"description": "Article the reader joined from (source article:<id>)"})
    variant = ma.fields.Integer(load_default=None, allow_none=True, strict=True,
                                metadata={"description": "Experiment arm the reader saw: a variant id from the "
                                                         "banner's `variants`, or 0 for the control (stored as "
                                                         "metadata `variant`; one not running is left out)"})
    success_url = ma.fields.Url(required=True, schemes={"http", "https"}, require_tld=False,
                                validate=ma.validate.Length(max=2000),
                                metadata={"description": "Must be on an origin in SITE_ALLOWED_ORIGINS"})
    cancel_url = ma.fields.Url(required=True, schemes={"http", "https"}, require_tld=False,
                               validate=ma.validate.Length(max=2000),
                               metadata={"description": "Must be on an origin in SITE_ALLOWED_ORIGINS"})


    @ma.validates_schema
    def _kind_fields(self, data: dict, **_kwargs: object) -> None:
        kind = data.get("kind", "membership")
        if kind == "membership" and not data.get("plan"):
            raise ma.ValidationError("Required for a membership.", "plan")
        if kind == "gift" and not data.get("gift"):
            raise ma.ValidationError("Required for a gift.", "gift")
        if kind != "gift" and data.get("gift"):
            raise ma.ValidationError("Only with kind gift.", "gift")


class CheckoutSessionSchema(ma.Schema):
    id = ma.fields.String(required=True, metadata={"description": "Stripe Checkout Session id"})
    url = ma.fields.String(required=True, metadata={"description": "Where to send the reader to pay"})


class WebhookAckSchema(ma.Schema):
    received = ma.fields.Boolean(required=True)
    event = ma.fields.String(required=True, metadata={"description": "Stripe event id"})
    outcome = ma.fields.String(required=True, validate=ma.validate.OneOf(["applied", "ignored", "duplicate"]))
