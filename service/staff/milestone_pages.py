"""Staff pages of milestones, on the staff blueprint (its sign-in and CSRF guard): the dashboard's milestones
section (add, remove, stretch goal)."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import current_app, flash, g, redirect, request, url_for

from service import clock
from service.campaigns import services as campaigns
from service.errors import DomainError
from service.extensions import db
from service.staff import auth, milestone_admin
from service.staff.milestone_schemas import MilestoneForm, StretchGoalForm
from service.staff.views import bp


@bp.context_processor
def _milestone_context() -> dict[str, Any]:
    return {"milestone_overview": lambda c: milestone_admin.overview(db.session, c)}


def _back(slug: str) -> Any:
    return redirect(url_for("staff.dashboard", slug=slug) + "#milestones")


def _load(schema: ma.Schema) -> dict[str, Any] | None:
    """The form without its empty fields; None (and a message) when a field is not valid."""
    try:
        return schema.load({k: v for k, v in request.form.to_dict().items() if v.strip()})
    except ma.ValidationError as exc:
        flash("Not saved: " + "; ".join(f"{k}: {' '.join(map(str, v))}" for k, v in exc.messages.items()))
        return None


def _done(slug: str, message: str) -> Any:
    db.session.commit()
    current_app.extensions["progress_cache"].clear()
    flash(message)
    return _back(slug)


def _refused(slug: str, exc: DomainError) -> Any:
    db.session.rollback()
    flash(f"Not saved: {exc.detail}")
    return _back(slug)


@bp.post("/campaigns/<slug>/milestones")
@auth.require_role("editor")
def add_milestone(slug: str) -> Any:
    campaign = campaigns.get_campaign(db.session, slug)
    form = _load(MilestoneForm())
    if form is None:
        return _back(slug)
    headlines = {form["locale"] or campaign.default_locale: form["headline"]} if form["headline"] else {}
    show_days = form["show_days"] if form["show_days"] is not None else current_app.config["MILESTONE_SHOW_DAYS"]
    try:
        milestone_admin.add(db.session, campaign, at=form["at"], headlines=headlines, show_days=show_days,
                            actor=g.staff.email, now=clock.now())
    except DomainError as exc:
        return _refused(slug, exc)
    return _done(slug, f"Milestone {form['at']:,} added.")


@bp.post("/campaigns/<slug>/milestones/<int:milestone_id>/delete")
@auth.require_role("editor")
def remove_milestone(slug: str, milestone_id: int) -> Any:
    campaign = campaigns.get_campaign(db.session, slug)
    row = milestone_admin.remove(db.session, campaign, milestone_id, actor=g.staff.email, now=clock.now())
    return _done(slug, f"Milestone {row.at:,} removed.")


@bp.post("/campaigns/<slug>/stretch-goal")
@auth.require_role("editor")
def stretch_goal(slug: str) -> Any:
    campaign = campaigns.get_campaign(db.session, slug)
    form = _load(StretchGoalForm())
    if form is None:
        return _back(slug)
    try:
        milestone_admin.stretch(db.session, campaign, goal=form["goal"], actor=g.staff.email, now=clock.now())
    except DomainError as exc:
        return _refused(slug, exc)
    return _done(slug, f"Stretch goal set: {campaign.goal:,} (the goal was {campaign.original_goal:,}).")
