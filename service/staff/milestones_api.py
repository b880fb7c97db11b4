"""Staff API of milestones and the stretch goal: `/v1/staff/campaigns/{slug}/milestones` and `.../stretch-goal`.

A staff API token or a staff session (`auth.api_guard`: with a session, changes need the editor role and the
CSRF token in `X-CSRFToken`); every change is in the audit log (staff/milestone_admin.py).
"""

from __future__ import annotations

from typing import Any

from flask import current_app

from service import clock
from service.api import Blueprint
from service.campaigns import services as campaigns
from service.extensions import db
from service.staff import auth, milestone_admin
from service.staff.milestone_schemas import (
    MilestoneCreateSchema,
    MilestoneSchema,
    MilestonesOverviewSchema,
    StretchGoalSchema,
)

SECURITY = [{"staffToken": []}, {"staffSession": []}]

blp = Blueprint("staff_milestones", __name__, url_prefix="/v1/staff",
                description="Milestones and stretch goals of a campaign")
blp.before_request(auth.api_guard)


def _changed() -> None:
    db.session.commit()
    current_app.extensions["progress_cache"].clear()  # the progress document shows milestones and the goal


@blp.route("/campaigns/<slug>/milestones")
@blp.doc(security=SECURITY)
@blp.response(200, MilestonesOverviewSchema)
@blp.alt_response(401, response="UNAUTHORIZED")
@blp.alt_response(404, response="NOT_FOUND")
def list_milestones(slug: str) -> dict[str, Any]:
    """The campaign's milestones, its goal (and the goal a stretch goal replaced) and every crossing."""
    payload = milestone_admin.overview(db.session, campaigns.get_campaign(db.session, slug))
    db.session.rollback()
    return payload


@blp.route("/campaigns/<slug>/milestones", methods=["POST"])
@blp.doc(security=SECURITY)
@blp.arguments(MilestoneCreateSchema)
@blp.response(201, MilestoneSchema)
@blp.alt_response(401, response="UNAUTHORIZED")
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
def add_milestone(args: dict[str, Any], slug: str) -> dict[str, Any]:
    """Celebrate a count: its headline per locale (checked like banner copy) shows for `show_days` days after
    the count first reaches it. A milestone at or under the current count is reached now."""
    campaign = campaigns.get_campaign(db.session, slug)
    show_days = args["show_days"] if args["show_days"] is not None else current_app.config["MILESTONE_SHOW_DAYS"]
    row = milestone_admin.add(db.session, campaign, at=args["at"], headlines=args["headlines"],
                              show_days=show_days, actor=auth.actor(), now=clock.now())
    out = next(m for m in milestone_admin.overview(db.session, campaign)["milestones"] if m["id"] == row.id)
    _changed()
    return out


@blp.route("/campaigns/<slug>/milestones/<int:milestone_id>", methods=["DELETE"])
@blp.doc(security=SECURITY)
@blp.response(204)
@blp.alt_response(401, response="UNAUTHORIZED")
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
def delete_milestone(slug: str, milestone_id: int) -> None:
    """Remove a milestone (and its crossing, unless the count is also a goal's)."""
    campaign = campaigns.get_campaign(db.session, slug)
    milestone_admin.remove(db.session, campaign, milestone_id, actor=auth.actor(), now=clock.now())
    _changed()


@blp.route("/campaigns/<slug>/stretch-goal", methods=["PUT"])
@blp.doc(security=SECURITY)
@blp.arguments(StretchGoalSchema)
@blp.response(200, MilestonesOverviewSchema)
@blp.alt_response(401, response="UNAUTHORIZED")
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
def stretch_goal(args: dict[str, Any], slug: str) -> dict[str, Any]:
    """After the goal is reached, set a larger one: `goal` becomes it, `original_goal` keeps the first, and the
    banner's stage is `overtime` until it is reached (409 before the goal is reached or after the window)."""
    campaign = campaigns.get_campaign(db.session, slug)
    milestone_admin.stretch(db.session, campaign, goal=args["goal"], actor=auth.actor(), now=clock.now())
    out = milestone_admin.overview(db.session, campaign)
    _changed()
    return out
