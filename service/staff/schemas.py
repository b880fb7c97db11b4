"""Form and API schemas of the staff feature (the stats schema is the source of openapi.yaml)."""

import marshmallow as ma

from service.campaigns.models import STAGES
from service.campaigns.schemas import PaceSchema


class _Form(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE  # csrf_token and submit buttons


class LoginForm(_Form):
    email = ma.fields.String(load_default="", validate=ma.validate.Length(max=320))
    password = ma.fields.String(load_default="", validate=ma.validate.Length(max=1024))
    next = ma.fields.String(load_default="")


class AdjustmentForm(_Form):
    delta = ma.fields.Integer(required=True, strict=False)
    reason = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=500))


class CopyForm(_Form):
    locale = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=35))
    stage = ma.fields.String(required=True, validate=ma.validate.OneOf(STAGES))
    headline = ma.fields.String(load_default="", validate=ma.validate.Length(max=2000))
    body = ma.fields.String(load_default="", validate=ma.validate.Length(max=2000))
    cta_label = ma.fields.String(load_default="", validate=ma.validate.Length(max=2000))
    cta_url = ma.fields.String(load_default="", validate=ma.validate.Length(max=2000))


class TokenForm(_Form):
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=100))


class DailySchema(ma.Schema):
    date = ma.fields.Date(required=True)
    joined = ma.fields.Integer(required=True, metadata={"description": "First payments on this day"})
    ended = ma.fields.Integer(required=True, metadata={"description": "Memberships that ended on this day"})
    cumulative = ma.fields.Integer(required=True, allow_none=True,
                                   metadata={"description": "Count at the end of the day, adjustments included"})


class ShareSchema(ma.Schema):
    key = ma.fields.String(required=True, metadata={"description": "'(unknown)' when not attributed"})
    joined = ma.fields.Integer(required=True)
    ended = ma.fields.Integer(required=True)
    net = ma.fields.Integer(required=True)
    percent = ma.fields.Float(required=True, metadata={"description": "Share of all sign-ups (joined)"})


class BreakdownsSchema(ma.Schema):
    plan = ma.fields.List(ma.fields.Nested(ShareSchema), required=True)
    source = ma.fields.List(ma.fields.Nested(ShareSchema), required=True)
    locale = ma.fields.List(ma.fields.Nested(ShareSchema), required=True)


class FunnelStepSchema(ma.Schema):
    step = ma.fields.String(required=True)
    count = ma.fields.Integer(required=True)
    rate = ma.fields.Float(required=True, allow_none=True, metadata={"description": "Percent of the previous step"})


class MoneySchema(ma.Schema):
    currency = ma.fields.String(required=True, metadata={"description": "ISO 4217, lower case"})
    payments = ma.fields.Integer(required=True)
    amount = ma.fields.Integer(required=True, metadata={"description": "Received, in the currency's minor units"})
    refunded = ma.fields.Integer(required=True, metadata={"description": "Of it, fully refunded or lost in a dispute"})
    net = ma.fields.Integer(required=True, metadata={"description": "amount - refunded"})
    shown = ma.fields.String(required=True, metadata={"description": "net, formatted (en)"})


class ContributionStatsSchema(ma.Schema):
    count = ma.fields.Integer(required=True, metadata={
        "description": "People who gave once in the window (not refunded); never part of `count`"})
    by_currency = ma.fields.List(ma.fields.Nested(MoneySchema), required=True)


class StatsSchema(ma.Schema):
    campaign = ma.fields.String(required=True)
    title = ma.fields.String(required=True)
    count = ma.fields.Integer(required=True)
    goal = ma.fields.Integer(required=True)
    remaining = ma.fields.Integer(required=True)
    percent = ma.fields.Float(required=True)
    status = ma.fields.String(required=True)
    days_left = ma.fields.Integer(required=True)
    starts_on = ma.fields.Date(required=True, metadata={"description": "First day, campaign's time zone"})
    deadline = ma.fields.Date(required=True, metadata={"description": "Last day, campaign's time zone"})
    adjustments_total = ma.fields.Integer(required=True)
    pace = ma.fields.Nested(PaceSchema, required=True)
    daily = ma.fields.List(ma.fields.Nested(DailySchema), required=True,
                           metadata={"description": "One entry per day from the first day to today"})
    breakdowns = ma.fields.Nested(BreakdownsSchema, required=True)
    funnel = ma.fields.List(ma.fields.Nested(FunnelStepSchema), required=True,
                            metadata={"description": "Impressions, clicks, checkouts started, sign-ups"})
    revenue = ma.fields.List(ma.fields.Nested(MoneySchema), required=True, metadata={
        "description": "Paid membership invoices in the window (renewals included), one entry per currency: "
                       "never summed across currencies"})
    contributions = ma.fields.Nested(ContributionStatsSchema, required=True)
    generated_at = ma.fields.DateTime(required=True)
