"""Schemas of the staff milestones API and forms (the source of openapi.yaml)."""

import marshmallow as ma


class MilestoneCreateSchema(ma.Schema):
    at = ma.fields.Integer(required=True, strict=True, validate=ma.validate.Range(min=1, max=1_000_000_000),
                           metadata={"description": "The count to celebrate"})
    headlines = ma.fields.Dict(keys=ma.fields.String(validate=ma.validate.Length(min=1, max=35)),
                               values=ma.fields.String(validate=ma.validate.Length(max=500)), load_default=dict,
                               validate=ma.validate.Length(max=50), metadata={
                                   "description": "Locale -> headline template (`{milestone}`, `{count}`, ...); "
                                                  "locales without one get the built-in headline"})
    show_days = ma.fields.Integer(strict=True, load_default=None, validate=ma.validate.Range(min=0, max=365),
                                  metadata={"description": "Days the headline shows after the count crosses it "
                                                           "(default MILESTONE_SHOW_DAYS; 0: never)"})


class MilestoneSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    at = ma.fields.Integer(required=True)
    headlines = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String(), required=True)
    show_days = ma.fields.Integer(required=True)
    reached_at = ma.fields.DateTime(allow_none=True, required=True,
                                    metadata={"description": "When the count first reached it; null until then"})


class CrossingSchema(ma.Schema):
    at = ma.fields.Integer(required=True)
    kind = ma.fields.String(required=True, validate=ma.validate.OneOf(["milestone", "goal"]))
    reached_at = ma.fields.DateTime(required=True)


class MilestonesOverviewSchema(ma.Schema):
    goal = ma.fields.Integer(required=True, metadata={"description": "The current target"})
    original_goal = ma.fields.Integer(allow_none=True, required=True,
                                      metadata={"description": "The goal a stretch goal replaced; null without one"})
    count = ma.fields.Integer(required=True)
    milestones = ma.fields.List(ma.fields.Nested(MilestoneSchema), required=True)
    crossings = ma.fields.List(ma.fields.Nested(CrossingSchema), required=True, metadata={
        "description": "The first time the count reached each milestone or goal (recorded once)"})


class StretchGoalSchema(ma.Schema):
    goal = ma.fields.Integer(required=True, strict=True, validate=ma.validate.Range(min=1, max=1_000_000_000))


class _Form(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE  # csrf_token and submit buttons


class MilestoneForm(_Form):
    at = ma.fields.Integer(required=True, validate=ma.validate.Range(min=1, max=1_000_000_000))
    locale = ma.fields.String(load_default="", validate=ma.validate.Length(max=35))
    headline = ma.fields.String(load_default="", validate=ma.validate.Length(max=500))
    show_days = ma.fields.Integer(load_default=None, validate=ma.validate.Range(min=0, max=365))


class StretchGoalForm(_Form):
    goal = ma.fields.Integer(required=True, validate=ma.validate.Range(min=1, max=1_000_000_000))
