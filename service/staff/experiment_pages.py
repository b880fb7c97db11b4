"""Staff pages of experiments, on the staff blueprint (its sign-in and CSRF guard): the copy editor's variants
section (add, reweight, stop, run again, promote, delete) and the dashboard's experiment table."""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, g, redirect, url_for

from service import clock
from service.campaigns import services as campaigns
from service.campaigns import variants
from service.errors import DomainError
from service.extensions import db
from service.staff import auth, experiments
from service.staff.schemas import VariantActionForm, VariantForm
from service.staff.views import _form, bp
from service.urls import https_required


@bp.context_processor
def _experiment_context() -> dict[str, Any]:
    """For the includes: the variants of the stage and locale edited, and the experiment's figures."""
    return {"copy_variants": lambda c, locale, stage: variants.list_for(db.session, c, locale, stage),
            "experiment_report": lambda c: experiments.report(db.session, c)}


def _back(slug: str, locale: str, stage: str) -> Any:
    return redirect(url_for("staff.copy_editor", slug=slug, locale=locale, stage=stage) + "#variants")


@bp.post("/campaigns/<slug>/variants")
@auth.require_role("editor")
def add_variant(slug: str) -> Any:
    campaign = campaigns.get_campaign(db.session, slug)
    form = _form(VariantForm())
    try:
        row = experiments.add_variant(db.session, campaign, actor=g.staff.email, now=clock.now(),
                                      require_https=https_required(current_app.config), **form)
    except DomainError as exc:
        db.session.rollback()
        flash(f"The variant was not added: {exc.detail}")
        return _back(slug, form["locale"], form["stage"])
    db.session.commit()
    current_app.extensions["progress_cache"].clear()
    flash(f"Variant {row.name} runs for {row.weight}% of readers ({row.stage}, {row.locale}).")
    return _back(slug, row.locale, row.stage)


@bp.post("/campaigns/<slug>/variants/<int:variant_id>")
@auth.require_role("editor")
def change_variant(slug: str, variant_id: int) -> Any:
    campaign = campaigns.get_campaign(db.session, slug)
    row = variants.get(db.session, campaign, variant_id)
    form = _form(VariantActionForm())
    action, name, locale, stage = form["action"], row.name, row.locale, row.stage
    if action == "weight" and form["weight"] is None:
        flash(f"Variant {name} was not changed: give a weight from 1 to 99.")
        return _back(slug, locale, stage)
    change: dict[str, Any] = {"weight": {"weight": form["weight"]}, "stop": {"status": "stopped"},
                              "run": {"status": "running"}, "promote": {"promote": True}}.get(action, {})
    try:
        if action == "delete":
            experiments.delete_variant(db.session, campaign, row, actor=g.staff.email, now=clock.now())
        else:
            experiments.change_variant(db.session, campaign, row, actor=g.staff.email, now=clock.now(),
                                       require_https=https_required(current_app.config), **change)
    except DomainError as exc:
        db.session.rollback()
        flash(f"Variant {name} was not changed: {exc.detail}")
        return _back(slug, locale, stage)
    db.session.commit()
    current_app.extensions["progress_cache"].clear()
    flash({"weight": f"Variant {name} now runs for {form['weight']}% of readers.",
           "stop": f"Stopped variant {name}; its figures stay.", "run": f"Variant {name} runs again.",
           "promote": f"Variant {name} is now the {stage} copy in {locale}; the experiment there has ended.",
           "delete": f"Deleted variant {name} and its figures."}[action])
    return _back(slug, locale, stage)
