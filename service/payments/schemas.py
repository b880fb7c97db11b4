"""Schemas of the payments endpoints."""

from __future__ import annotations

import marshmallow as ma


class CheckoutRequestSchema(ma.Schema):
    campaign = ma.fields.String(required=True, validate=ma.validate.Length(1, 64),
                                metadata={"description": "Campaign slug the sign-up is attributed to"})
    plan = ma.fields.String(required=True, validate=ma.validate.Length(1, 64),
                            metadata={"description": "Membership plan name from STRIPE_PRICES, e.g. monthly"})
    email = ma.fields.Email(load_default=None, validate=ma.validate.Length(max=320),
                            metadata={"description": "Prefills Checkout's email field"})
    locale = ma.fields.String(load_default=None, validate=ma.validate.Length(max=35),
                              metadata={"description": "BCP 47 tag; Checkout shows it when Stripe supports it"})
    reader_id = ma.fields.String(load_default=None, validate=ma.validate.Length(max=200),
                                 metadata={"description": "The paywall's reader id (client_reference_id)"})
    article_id = ma.fields.String(load_default=None, validate=ma.validate.Length(max=180),
                                  metadata={"description": "Article the reader joined from (source article:<id>)"})
    success_url = ma.fields.Url(required=True, schemes={"http", "https"}, require_tld=False,
                                validate=ma.validate.Length(max=2000),
                                metadata={"description": "Must be on an origin in SITE_ALLOWED_ORIGINS"})
    cancel_url = ma.fields.Url(required=True, schemes={"http", "https"}, require_tld=False,
                               validate=ma.validate.Length(max=2000),
                               metadata={"description": "Must be on an origin in SITE_ALLOWED_ORIGINS"})


class CheckoutSessionSchema(ma.Schema):
    id = ma.fields.String(required=True, metadata={"description": "Stripe Checkout Session id"})
    url = ma.fields.String(required=True, metadata={"description": "Where to send the reader to pay"})


class WebhookAckSchema(ma.Schema):
    received = ma.fields.Boolean(required=True)
    event = ma.fields.String(required=True, metadata={"description": "Stripe event id"})
    outcome = ma.fields.String(required=True, validate=ma.validate.OneOf(["applied", "ignored", "duplicate"]))
