"""The staff campaign API: create, change, archive and delete campaigns with a staff API token.

- `POST /v1/staff/campaigns`, `PATCH /v1/staff/campaigns/{slug}` (`archived: true|false` archives or brings
  back), `DELETE /v1/staff/campaigns/{slug}?force=true`.
- A staff API token (Authorization: Bearer mst_…) only: a session cookie is not accepted for changes here
  (the dashboard's forms carry a CSRF token instead). 401 problem+json without one.
- Each change is in the audit log (actor: the token), validated field by field (422 with `errors`).
"""

from __future__ import annotations

from typing import Any

from flask import current_app, g

from service import clock
from service.api import Blueprint
from service.campaigns import admin
from service.campaigns import services as campaigns
from service.extensions import db
from service.staff import auth, campaign_admin
from service.staff.campaign_schemas import (
    CampaignAdminSchema,
    CampaignChangeSchema,
    CampaignCreateSchema,
    CampaignDeletedSchema,
    CampaignDeleteQuerySchema,
    CampaignPatchSchema,
)
from service.urls import https_required

SECURITY = [{"staffToken": []}]
blp = Blueprint("staff_campaigns_api", __name__, url_prefix="/v1/staff/campaigns",
                description="Campaign administration for staff tools")


@blp.before_request
def _token_only() -> Any:
    auth.new_request()
    token = auth.load_token()
    if token is None:
        return auth.unauthorized_problem()
    g.staff_token = token
    db.session.commit()  # its use, at most once a minute (accounts.note_token_use)
    return None


def _done() -> None:
    db.session.commit()
    current_app.extensions["progress_cache"].clear()  # this worker at once; the others within their ttl


@blp.route("", methods=["POST"])
@blp.doc(security=SECURITY)
@blp.arguments(CampaignCreateSchema)
@blp.response(201, CampaignAdminSchema)
@blp.alt_response(401, response="UNAUTHORIZED")
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
def create_campaign(values: dict[str, Any]) -> dict[str, Any]:
    """Create a campaign (members who already paid inside its window are counted at once)."""
    campaign = campaign_admin.create(db.session, values, actor=auth.actor(), now=clock.now(), via="api",
                                     require_https=https_required(current_app.config))
    _done()
    return admin.describe(campaign)


@blp.route("/<slug>", methods=["PATCH"])
@blp.doc(security=SECURITY)
@blp.arguments(CampaignPatchSchema)
@blp.response(200, CampaignChangeSchema)
@blp.alt_response(401, response="UNAUTHORIZED")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
def edit_campaign(values: dict[str, Any], slug: str) -> dict[str, Any]:
    """Change title, goal, days, time zone, default locale, counting mode or join URL, or archive. A change of
    days, time zone or counting mode recounts in the same transaction: `count_moved` says by how much."""
    campaign = campaigns.get_campaign(db.session, slug)
    archived = values.pop("archived", None)
    outcome = campaign_admin.edit(db.session, campaign, values, actor=auth.actor(), now=clock.now(), via="api",
                                  require_https=https_required(current_app.config))
    message = outcome.summary()
    if archived is not None and campaign_admin.set_archived(db.session, campaign, archived, actor=auth.actor(),
                                                            now=clock.now(), via="api"):
        done = f"{'Archived' if archived else 'Unarchived'} {slug}."
        message = f"{message} {done}" if outcome.changes else done
    _done()
    return {"campaign": admin.describe(campaign), "recounted": outcome.recounted, "count_moved": outcome.moved,
            "changed": {k: [str(a), str(b)] if k in ("starts", "ends") else [a, b]
                        for k, (a, b) in outcome.changes.items()},
            "message": message}


@blp.route("/<slug>", methods=["DELETE"])
@blp.doc(security=SECURITY)
@blp.arguments(CampaignDeleteQuerySchema, location="query", as_kwargs=True)
@blp.response(200, CampaignDeletedSchema)
@blp.alt_response(401, response="UNAUTHORIZED")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT", description="Members are counted in it (archive it, or force)")
def delete_campaign(slug: str, force: bool = False) -> dict[str, Any]:
    """Delete a campaign, its copy, adjustments and roll-ups; refused while members are counted in it unless
    `force=true`. The deletion stays in the audit log."""
    campaign = campaigns.get_campaign(db.session, slug)
    facts = campaign_admin.delete(db.session, campaign, actor=auth.actor(), now=clock.now(), force=force,
                                  via="api")
    _done()
    return facts
