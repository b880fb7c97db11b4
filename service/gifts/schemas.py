"""Request and response schemas of the gifts API."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields

from service.paywall.schemas import MemberSummarySchema


class RedeemRequestSchema(ma.Schema):
    return_url = fields.String(load_default=None, validate=ma.validate.Length(max=2000), metadata={
        "description": "Where the sign-in link returns when the address already belongs to a member "
                       "(an allowed site origin; default: the site's first origin)"})


class GiftPeriodSchema(ma.Schema):
    months = fields.Integer(required=True)
    starts_at = fields.DateTime(required=True, metadata={
        "description": "Redemption, or the end of the membership the member already had"})
    ends_at = fields.DateTime(required=True, metadata={"description": "The member is a member until then"})


class RedemptionSchema(ma.Schema):
    member_token = fields.String(allow_none=True, metadata={
        "description": "A member token for a member this redemption created; null when the address already "
                       "belonged to a member: a sign-in link went to it instead (`sign_in: link_sent`)"})
    member = fields.Nested(MemberSummarySchema, allow_none=True,
                           metadata={"description": "Null unless a member token is returned"})
    gift = fields.Nested(GiftPeriodSchema, required=True)
    sign_in = fields.String(required=True, validate=ma.validate.OneOf(("token", "link_sent")))
