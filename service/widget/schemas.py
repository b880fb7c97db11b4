"""Request schemas of the widget API (the source of openapi.yaml)."""

import marshmallow as ma

from service.widget.models import EVENT_TYPES


class EventSchema(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE  # future beacon fields must not break older services

    type = ma.fields.String(required=True, validate=ma.validate.OneOf(EVENT_TYPES),
                            metadata={"description": "impression (the widget was seen) or click (its call to action)"})
    locale = ma.fields.String(load_default=None, allow_none=True, validate=ma.validate.Length(max=35),
                              metadata={"description": "Locale of the copy shown; counted under the campaign's "
                                                       "nearest copy locale"})
    variant = ma.fields.Integer(load_default=None, allow_none=True, strict=True,
                                metadata={"description": "The experiment arm shown: a variant id from "
                                                         "banner.variants, or 0 for the control; a variant that is "
                                                         "not running (any more) is counted as no arm"})
    path = ma.fields.String(load_default=None, allow_none=True, validate=ma.validate.Length(max=2000),
                            metadata={"description": "Path of the host page; accepted but not stored"})


class BannerQuerySchema(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE  # cache-busters and tracking parameters are ignored

    locale = ma.fields.String(metadata={"description": "BCP 47 tag; unknown ones fall back to the campaign's default"})
