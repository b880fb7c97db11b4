"""Schemas of the staff campaign API (POST/PATCH/DELETE /v1/staff/campaigns) and of the campaign form.

Types only: the rules (and their field-by-field sentences) are campaigns/admin.py's, so the API, the
dashboard and the CLI refuse the same things with the same words."""

import marshmallow as ma

from service.campaigns.models import COUNT_MODES


class _Fields(ma.Schema):
    title = ma.fields.String(metadata={"description": "1-200 characters"})
    goal = ma.fields.Integer(strict=True, metadata={"description": "Members to reach, 1 to 1,000,000,000"})
    starts = ma.fields.Date(metadata={"description": "First day, in the campaign's time zone"})
    ends = ma.fields.Date(metadata={"description": "Last day (inclusive), in the campaign's time zone"})
    timezone = ma.fields.String(metadata={"description": "IANA time zone, e.g. Europe/Kyiv"})
    default_locale = ma.fields.String(metadata={"description": "Locale of the copy when the reader's has none"})
    count_mode = ma.fields.String(metadata={"description": f"One of {', '.join(COUNT_MODES)}"})
    join_url = ma.fields.String(metadata={"description": "Where the call to action links; '' for the paywall's"})


class CampaignCreateSchema(_Fields):
    slug = ma.fields.String(required=True, metadata={"description": "Lower-case letters, digits and hyphens"})


class CampaignPatchSchema(_Fields):
    archived = ma.fields.Boolean(metadata={"description": "true: archive (public endpoints answer 410); "
                                                          "false: bring back"})


class CampaignAdminSchema(ma.Schema):
    slug = ma.fields.String(required=True)
    title = ma.fields.String(required=True)
    goal = ma.fields.Integer(required=True)
    starts = ma.fields.Date(required=True, metadata={"description": "First day, campaign's time zone"})
    ends = ma.fields.Date(required=True, metadata={"description": "Last day, campaign's time zone"})
    timezone = ma.fields.String(required=True)
    default_locale = ma.fields.String(required=True)
    count_mode = ma.fields.String(required=True)
    join_url = ma.fields.String(required=True)
    count = ma.fields.Integer(required=True)
    archived = ma.fields.Boolean(required=True)
    updated_at = ma.fields.DateTime(required=True)


class CampaignChangeSchema(ma.Schema):
    campaign = ma.fields.Nested(CampaignAdminSchema, required=True)
    changed = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.List(ma.fields.Raw()), required=True,
                             metadata={"description": "Field -> [before, after]"})
    recounted = ma.fields.Boolean(required=True, metadata={"description": "The window or counting mode changed"})
    count_moved = ma.fields.Integer(required=True, metadata={"description": "After minus before (0 if not recounted)"})
    message = ma.fields.String(required=True, metadata={"description": "What changed, in a sentence"})


class CampaignDeletedSchema(ma.Schema):
    slug = ma.fields.String(required=True)
    count = ma.fields.Integer(required=True, metadata={"description": "The count it had"})
    forced = ma.fields.Boolean(required=True)


class CampaignDeleteQuerySchema(ma.Schema):
    force = ma.fields.Boolean(load_default=False,
                              metadata={"description": "Delete even though members are counted in it"})


class CampaignForm(ma.Schema):
    """The dashboard's campaign form: empty fields are unchanged (join URL: empty clears it)."""

    class Meta:
        unknown = ma.EXCLUDE  # csrf_token and buttons

    slug = ma.fields.String(validate=ma.validate.Length(max=200))
    title = ma.fields.String(validate=ma.validate.Length(max=1000))
    goal = ma.fields.Integer(strict=False, error_messages={"invalid": "Goal must be a whole number."})
    starts = ma.fields.Date(error_messages={"invalid": "First day must be a date (YYYY-MM-DD)."})
    ends = ma.fields.Date(error_messages={"invalid": "Last day must be a date (YYYY-MM-DD)."})
    timezone = ma.fields.String(validate=ma.validate.Length(max=200))
    default_locale = ma.fields.String(validate=ma.validate.Length(max=100))
    count_mode = ma.fields.String(validate=ma.validate.Length(max=20))
    join_url = ma.fields.String(validate=ma.validate.Length(max=4000))

    @ma.pre_load
    def _drop_empty(self, data: dict, **kwargs: object) -> dict:
        return {k: v.strip() for k, v in data.items() if isinstance(v, str) and (v.strip() or k == "join_url")}


class PaywallChoiceForm(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE

    section = ma.fields.String(load_default="", validate=ma.validate.Length(max=1000))
    campaign = ma.fields.String(load_default="", validate=ma.validate.Length(max=200))
