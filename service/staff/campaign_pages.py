"""Staff pages that run a drive: create and edit a campaign (editor), archive it or bring it back (editor),
and choose the paywall's campaign for the site and per section (admin). Routes on the staff blueprint
(its sign-in guard, CSRF check and error pages); the rules are campaigns/admin.py's and
paywall/campaign_choice.py's, the audit log staff/campaign_admin.py's."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import current_app, flash, g, redirect, render_template, request, url_for

from service import clock
from service.campaigns import admin
from service.campaigns import services as campaigns
from service.campaigns.models import COUNT_MODES
from service.errors import Forbidden, Invalid
from service.extensions import db
from service.staff import audit, auth, campaign_admin
from service.staff.campaign_schemas import CampaignForm, PaywallChoiceForm
from service.staff.views import bp
from service.urls import https_required


def _load(schema: ma.Schema) -> dict[str, Any]:
    """The form's values; a field that does not parse is an Invalid naming it (a sentence each)."""
    try:
        return schema.load(request.form.to_dict())
    except ma.ValidationError as exc:
        errors = {k: [m if m.endswith(".") else m + "." for m in v] for k, v in exc.messages.items()}
        raise Invalid(" ".join(m for v in errors.values() for m in v), errors=errors) from exc


def _form_page(c: Any, values: dict[str, Any], errors: dict[str, Any], status: int = 200) -> tuple[str, int]:
    return render_template("staff/campaign_form.html", c=c, v=values, errors=errors, count_modes=COUNT_MODES), status


def _submitted() -> dict[str, Any]:
    return {k: request.form.get(k, "") for k in ("slug", *admin.EDITABLE)}


@bp.get("/campaigns/new")
@auth.require_role("editor")
def new_campaign() -> Any:
    return _form_page(None, {"timezone": "UTC", "default_locale": "en", "count_mode": "net"}, {})


@bp.post("/campaigns/new")
@auth.require_role("editor")
def create_campaign() -> Any:
    try:
        campaign = campaign_admin.create(db.session, _load(CampaignForm()), actor=g.staff.email, now=clock.now(),
                                         require_https=https_required(current_app.config))
    except Invalid as exc:
        db.session.rollback()
        return _form_page(None, _submitted(), exc.extra.get("errors") or {"form": [exc.detail]}, 422)
    db.session.commit()
    flash(f"Created {campaign.slug}: the count starts at {campaign.count:,}.")
    return redirect(url_for("staff.dashboard", slug=campaign.slug))


@bp.get("/campaigns/<slug>/settings")
@auth.require_role("editor")
def campaign_settings(slug: str) -> Any:
    campaign = campaigns.get_campaign(db.session, slug)
    return _form_page(campaign, admin.describe(campaign), {})


@bp.post("/campaigns/<slug>/settings")
@auth.require_role("editor")
def save_campaign_settings(slug: str) -> Any:
    campaign = campaigns.get_campaign(db.session, slug)
    try:
        values = {k: v for k, v in _load(CampaignForm()).items() if k != "slug"}
        outcome = campaign_admin.edit(db.session, campaign, values, actor=g.staff.email, now=clock.now(),
                                      require_https=https_required(current_app.config))
    except Invalid as exc:
        db.session.rollback()
        return _form_page(campaign, {**_submitted(), "slug": slug, "archived": campaign.archived_at is not None},
                          exc.extra.get("errors") or {"form": [exc.detail]}, 422)
    db.session.commit()
    current_app.extensions["progress_cache"].clear()
    flash(outcome.summary())
    return redirect(url_for("staff.dashboard", slug=slug))


@bp.post("/campaigns/<slug>/archive")
@auth.require_role("editor")
def archive_campaign(slug: str) -> Any:
    campaign = campaigns.get_campaign(db.session, slug)
    archived = request.form.get("archived", "1") != "0"
    changed = campaign_admin.set_archived(db.session, campaign, archived, actor=g.staff.email, now=clock.now())
    db.session.commit()
    current_app.extensions["progress_cache"].clear()
    current_app.extensions["paywall"].campaign.clear()  # an archived campaign leaves the paywall at once here
    if changed:
        flash(f"Archived {slug}: its banner, widget and embed are gone (410) and the paywall no longer uses it."
              if archived else f"Unarchived {slug}: its banner shows again.")
    return redirect(url_for("staff.campaign_settings", slug=slug))


@bp.route("/paywall", methods=["GET", "POST"])
def paywall_campaign() -> Any:
    """Which campaign the paywall shows, for the site and per section; admins change it."""
    from service.paywall import campaign_choice

    errors: dict[str, Any] = {}
    status = 200
    if request.method == "POST":
        if not g.staff.can("admin"):
            raise Forbidden(f"This needs the admin role; you are signed in as {g.staff.role}.")
        form = _load(PaywallChoiceForm())
        try:
            before = campaign_choice.set_choice(db.session, form["section"], form["campaign"] or None,
                                                actor=g.staff.email, now=clock.now())
            audit.record(db.session, actor=g.staff.email, action="paywall.campaign",
                         target=form["section"] or "(site)",
                         details={"section": form["section"], "campaign": [before, form["campaign"] or None]},
                         now=clock.now())
            db.session.commit()
            current_app.extensions["paywall"].campaign.clear()
            flash(f"The paywall of {form['section'] or 'the site'} now uses "
                  f"{form['campaign'] or 'the default'}.")
            return redirect(url_for("staff.paywall_campaign"))
        except Invalid as exc:
            db.session.rollback()
            errors, status = exc.extra.get("errors") or {"form": [exc.detail]}, 422
    ctx = current_app.extensions["paywall"]
    rows = campaign_choice.overview(db.session, ctx.settings.campaign_slug, clock.now())
    live = [c["campaign"] for c in _campaign_rows()]
    return render_template("staff/paywall.html", rows=rows, campaigns=live, errors=errors,
                           configured=ctx.settings.campaign_slug), status


def _campaign_rows() -> list[dict[str, Any]]:
    from service.staff import reports

    return [r for r in reports.list_campaigns(db.session, clock.now()) if r["campaign"].archived_at is None]


@bp.context_processor
def _paywall_context() -> dict[str, Any]:
    """`paywall_uses()` in staff templates: the paywall's campaign per scope (campaign_choice.overview)."""

    def paywall_uses() -> list[Any]:
        from service.paywall import campaign_choice

        ctx = current_app.extensions["paywall"]
        return campaign_choice.overview(db.session, ctx.settings.campaign_slug, clock.now())

    return {"paywall_uses": paywall_uses}
