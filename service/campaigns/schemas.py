"""Request and response schemas of the campaigns API (the source of openapi.yaml)."""

import marshmallow as ma

from service.campaigns.models import STAGES


class PaceSchema(ma.Schema):
    daily_needed = ma.fields.Float(allow_none=True, required=True,
                                   metadata={"description": "Members per day needed to reach the goal by the deadline"})
    daily_average_7d = ma.fields.Float(required=True,
                                       metadata={"description": "Net new members per day over the last 7 days"})
    projected_reach_date = ma.fields.Date(allow_none=True, required=True,
                                          metadata={"description": "When the goal is reached at the 7-day pace"})


class BannerVariantSchema(ma.Schema):
    id = ma.fields.Integer(required=True, metadata={"description": "Variant id (never 0: 0 is the control)"})
    weight = ma.fields.Integer(required=True, metadata={"description": "Percent of readers who see it (1-99)"})
    headline = ma.fields.String(required=True)
    body = ma.fields.String(required=True)
    cta_label = ma.fields.String(required=True)
    cta_url = ma.fields.String(required=True)


class BannerSchema(ma.Schema):
    headline = ma.fields.String(required=True)
    body = ma.fields.String(required=True)
    cta_label = ma.fields.String(required=True)
    cta_url = ma.fields.String(required=True)
    locale = ma.fields.String(required=True, metadata={"description": "Locale of the copy actually used"})
    dir = ma.fields.String(required=True, validate=ma.validate.OneOf(["ltr", "rtl"]))
    variants = ma.fields.List(ma.fields.Nested(BannerVariantSchema), metadata={"description": (
        "Only while an experiment runs: the running variants in id order (the banner itself is the control). "
        "A reader sees the one service/campaigns/experiments.py assigns from a stable visitor id: FNV-1a 32-bit "
        "of UTF-8 `slug:visitor_id`, mod 100, walked through the variants' cumulative weights; past them, the "
        "control (id 0).")})


class MilestoneReachedSchema(ma.Schema):
    at = ma.fields.Integer(required=True)
    reached_at = ma.fields.DateTime(required=True, metadata={"description": "When the count first reached it"})


class MilestoneNextSchema(ma.Schema):
    at = ma.fields.Integer(required=True)
    remaining = ma.fields.Integer(required=True)


class MilestoneCelebratingSchema(ma.Schema):
    at = ma.fields.Integer(required=True)
    until = ma.fields.DateTime(required=True, metadata={"description": "End of its headline's days"})


class MilestonesSchema(ma.Schema):
    reached = ma.fields.List(ma.fields.Nested(MilestoneReachedSchema), required=True)
    next = ma.fields.Nested(MilestoneNextSchema, allow_none=True, required=True)
    celebrating = ma.fields.Nested(MilestoneCelebratingSchema, allow_none=True, required=True, metadata={
        "description": "The milestone whose headline the banner shows now (for its show_days after crossing)"})


class ContributionsSchema(ma.Schema):
    count = ma.fields.Integer(required=True, metadata={
        "description": "People (by email, else Stripe customer) with a one-time contribution paid in the window "
                       "and not refunded; never part of `count`"})


class ProgressSchema(ma.Schema):
    campaign = ma.fields.String(required=True, metadata={"description": "Campaign slug"})
    title = ma.fields.String(required=True)
    goal = ma.fields.Integer(required=True)
    count = ma.fields.Integer(required=True)
    remaining = ma.fields.Integer(required=True)
    percent = ma.fields.Float(required=True, metadata={"description": "0-100, capped"})
    percent_of_goal = ma.fields.Float(required=True, metadata={"description": "Uncapped: over 100 past the goal"})
    status = ma.fields.String(required=True,
                              validate=ma.validate.OneOf(["scheduled", "active", "goal_reached", "ended"]))
    stage = ma.fields.String(required=True, validate=ma.validate.OneOf(STAGES))
    starts_at = ma.fields.DateTime(required=True)
    ends_at = ma.fields.DateTime(required=True, metadata={"description": "Exclusive end of the window"})
    deadline = ma.fields.Date(required=True, metadata={"description": "Last day of the campaign, local time"})
    timezone = ma.fields.String(required=True)
    days_left = ma.fields.Integer(required=True)
    hours_left = ma.fields.Integer(required=True, metadata={
        "description": "Whole hours (rounded up) to the end of the window, in the campaign's time zone; 0 once ended"})
    original_goal = ma.fields.Integer(required=True, allow_none=True, metadata={
        "description": "The goal a stretch goal replaced (`goal` is the current target); null without one"})
    milestones = ma.fields.Nested(MilestonesSchema, required=True)
    contributions = ma.fields.Nested(ContributionsSchema, required=True)
    pace = ma.fields.Nested(PaceSchema, required=True)
    banner = ma.fields.Nested(BannerSchema, required=True)
    updated_at = ma.fields.DateTime(required=True, metadata={"description": "Last change of the count or copy"})
    stale = ma.fields.Boolean(metadata={
        "description": "Only on a stale document (the database is not answering; also `X-Data-Stale: true`)"})
    stale_since = ma.fields.DateTime(metadata={
        "description": "Only on a stale document: when its data was last read from the database"})


class ProgressQuerySchema(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE  # cache-busters and tracking parameters are ignored

    locale = ma.fields.String(metadata={"description": "BCP 47 tag; unknown ones fall back to the campaign's default"})
