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


# --- experiments (staff/experiments_api.py) ---------------------------------------------------------------

class VariantCreateSchema(ma.Schema):
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=64),
                            metadata={"description": "Unique within the campaign, e.g. last-1633"})
    weight = ma.fields.Integer(required=True, strict=True, validate=ma.validate.Range(1, 99), metadata={
        "description": "Percent of readers who see it; a stage and locale's running variants weigh at most 99"})
    locale = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=35))
    stage = ma.fields.String(required=True, validate=ma.validate.OneOf(STAGES))
    headline = ma.fields.String(required=True, validate=ma.validate.Length(max=2000))
    body = ma.fields.String(required=True, validate=ma.validate.Length(max=2000))
    cta_label = ma.fields.String(required=True, validate=ma.validate.Length(max=2000))
    cta_url = ma.fields.String(load_default="", validate=ma.validate.Length(max=2000),
                               metadata={"description": "Empty: the campaign's join URL"})


class VariantPatchSchema(ma.Schema):
    weight = ma.fields.Integer(load_default=None, strict=True, validate=ma.validate.Range(1, 99))
    status = ma.fields.String(load_default=None, validate=ma.validate.OneOf(["running", "stopped"]),
                              metadata={"description": "stopped: readers no longer see it (its figures stay)"})
    promote = ma.fields.Boolean(load_default=False, metadata={
        "description": "true: its text becomes the stage's copy and the stage's experiment ends"})


class VariantSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    weight = ma.fields.Integer(required=True)
    status = ma.fields.String(required=True, validate=ma.validate.OneOf(["running", "stopped", "promoted"]))
    locale = ma.fields.String(required=True)
    stage = ma.fields.String(required=True)
    headline = ma.fields.String(required=True)
    body = ma.fields.String(required=True)
    cta_label = ma.fields.String(required=True)
    cta_url = ma.fields.String(required=True)
    created_by = ma.fields.String(required=True)
    created_at = ma.fields.DateTime(required=True)
    updated_at = ma.fields.DateTime(required=True)


class ArmSchema(ma.Schema):
    id = ma.fields.Integer(required=True, metadata={"description": "0: the control"})
    name = ma.fields.String(required=True)
    weight = ma.fields.Integer(required=True, metadata={"description": "Percent of readers (the control: the rest)"})
    status = ma.fields.String(required=True)
    locale = ma.fields.String(allow_none=True, required=True)
    stage = ma.fields.String(allow_none=True, required=True)
    impressions = ma.fields.Integer(required=True)
    clicks = ma.fields.Integer(required=True)
    checkouts = ma.fields.Integer(required=True, metadata={"description": "Checkouts started naming this arm"})
    signups = ma.fields.Integer(required=True, metadata={
        "description": "Members counted in the campaign whose checkout named this arm"})
    click_rate = ma.fields.Float(allow_none=True, required=True, metadata={"description": "clicks / impressions"})
    conversion_rate = ma.fields.Float(allow_none=True, required=True,
                                      metadata={"description": "signups / impressions"})
    interval = ma.fields.List(ma.fields.Float(), required=True,
                              metadata={"description": "95% Wilson interval [low, high] of conversion_rate"})
    click_interval = ma.fields.List(ma.fields.Float(), required=True,
                                    metadata={"description": "95% Wilson interval [low, high] of click_rate"})


class ExperimentSchema(ma.Schema):
    campaign = ma.fields.String(required=True)
    variants = ma.fields.List(ma.fields.Nested(ArmSchema), required=True,
                              metadata={"description": "The control first, then every variant in id order"})
    verdict = ma.fields.String(required=True, validate=ma.validate.OneOf(["leader", "no_difference_yet", "too_early"]),
                               metadata={"description": "too_early until every arm has min_signups sign-ups; "
                                                        "leader when one arm's interval lies above all others'"})
    leader = ma.fields.Integer(allow_none=True, required=True, metadata={"description": "The leading arm's id"})
    min_signups = ma.fields.Integer(required=True)


class VariantForm(_Form):
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=64))
    weight = ma.fields.Integer(required=True, strict=False, validate=ma.validate.Range(1, 99))
    locale = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=35))
    stage = ma.fields.String(required=True, validate=ma.validate.OneOf(STAGES))
    headline = ma.fields.String(load_default="", validate=ma.validate.Length(max=2000))
    body = ma.fields.String(load_default="", validate=ma.validate.Length(max=2000))
    cta_label = ma.fields.String(load_default="", validate=ma.validate.Length(max=2000))
    cta_url = ma.fields.String(load_default="", validate=ma.validate.Length(max=2000))


class VariantActionForm(_Form):
    action = ma.fields.String(required=True, validate=ma.validate.OneOf(["weight", "stop", "run", "promote",
                                                                          "delete"]))
    weight = ma.fields.Integer(load_default=None, strict=False, validate=ma.validate.Range(1, 99))
