"""Schemas of the health and readiness endpoints (the source of their part of openapi.yaml)."""

import marshmallow as ma


class HealthSchema(ma.Schema):
    status = ma.fields.String(required=True, metadata={"description": "Always `ok` while the process answers"})


class ReadySchema(ma.Schema):
    status = ma.fields.String(required=True, metadata={"description": "`ok` when ready"})
    database = ma.fields.String(required=True, metadata={"description": "`ok` when `SELECT 1` answered"})
    migration = ma.fields.List(ma.fields.String(), required=True,
                               metadata={"description": "Alembic revision(s) of the database, equal to the head"})
