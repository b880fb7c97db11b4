"""Request and response schemas of the data-rights API."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields


class ExportSchema(ma.Schema):
    format = fields.String(required=True, metadata={"example": "membership-export/1"})
    exported_at = fields.String(required=True)
    member_id = fields.Integer(required=True)
    email = fields.String(required=True)
    sections = fields.Dict(keys=fields.String(), values=fields.String(), required=True,
                           metadata={"description": "What each table in `data` is"})
    data = fields.Dict(keys=fields.String(), values=fields.List(fields.Dict()), required=True,
                       metadata={"description": "Every row that names the member, by table"})
    not_personal = fields.Dict(keys=fields.String(), values=fields.String(), required=True,
                               metadata={"description": "Aggregates that count people without naming them"})


class ErasureAnswerSchema(ma.Schema):
    status = fields.String(required=True, metadata={"example": "accepted"})
    detail = fields.String(required=True)
