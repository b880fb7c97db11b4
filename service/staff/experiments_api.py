"""Staff API of experiments: variants of a campaign's copy and the experiment's figures.

A staff API token (Authorization: Bearer, made by an admin) or a staff session; with a session, changes
need the editor role and the CSRF token in `X-CSRFToken` (as the staff pages' forms). 401 problem+json
without either. Every change is in the audit log (staff/experiments.py).
"""

from __future__ import annotations

from typing import Any

from flask import current_app

from service import clock
from service.api import Blueprint
from service.campaigns import services as campaigns
from service.campaigns import variants
from service.extensions import db
from service.staff import auth, experiments
from service.staff.schemas import ExperimentSchema, VariantCreateSchema, VariantPatchSchema, VariantSchema
from service.urls import https_required

SECURITY = [{"staffToken": []}, {"staffSession": []}]

blp = Blueprint("staff_experiments", __name__, url_prefix="/v1/staff",
                description="Experiments: variants of the banner copy and which appeal brings members")
blp.before_request(auth.api_guard)  # token, or editor session + CSRF header for changes


def _changed() -> None:
    db.session.commit()
    current_app.extensions["progress_cache"].clear()  # the progress document lists the running variants


@blp.route("/campaigns/<slug>/variants")
@blp.doc(security=SECURITY)
@blp.response(200, VariantSchema(many=True))
@blp.alt_response(401, response="UNAUTHORIZED")
@blp.alt_response(404, response="NOT_FOUND")
def list_variants(slug: str) -> list[Any]:
    """Every variant of the campaign (running, stopped, promoted), in id order."""
    return variants.list_for(db.session, campaigns.get_campaign(db.session, slug))


@blp.route("/campaigns/<slug>/variants", methods=["POST"])
@blp.doc(security=SECURITY)
@blp.arguments(VariantCreateSchema)
@blp.response(201, VariantSchema)
@blp.alt_response(401, response="UNAUTHORIZED")
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
def add_variant(args: dict[str, Any], slug: str) -> Any:
    """Start showing another text for a stage and locale to `weight` percent of readers. The copy is checked
    like the stage's copy (every template renders for every stage's numbers; the link is http(s))."""
    campaign = campaigns.get_campaign(db.session, slug)
    row = experiments.add_variant(db.session, campaign, actor=auth.actor(), now=clock.now(),
                                  require_https=https_required(current_app.config), **args)
    _changed()
    return row


@blp.route("/campaigns/<slug>/variants/<int:variant_id>", methods=["PATCH"])
@blp.doc(security=SECURITY)
@blp.arguments(VariantPatchSchema)
@blp.response(200, VariantSchema)
@blp.alt_response(401, response="UNAUTHORIZED")
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
def change_variant(args: dict[str, Any], slug: str, variant_id: int) -> Any:
    """Change a variant's weight, stop it (`status: stopped`, its figures stay) or run it again, or promote it
    (`promote: true`: its text becomes the stage's copy; every running variant of that stage and locale stops)."""
    campaign = campaigns.get_campaign(db.session, slug)
    row = variants.get(db.session, campaign, variant_id)
    experiments.change_variant(db.session, campaign, row, actor=auth.actor(), now=clock.now(),
                               require_https=https_required(current_app.config), **args)
    _changed()
    return row


@blp.route("/campaigns/<slug>/variants/<int:variant_id>", methods=["DELETE"])
@blp.doc(security=SECURITY)
@blp.response(204)
@blp.alt_response(401, response="UNAUTHORIZED")
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
def delete_variant(slug: str, variant_id: int) -> None:
    """Remove a variant and its impression, click and checkout counters (stop it instead to keep them)."""
    campaign = campaigns.get_campaign(db.session, slug)
    row = variants.get(db.session, campaign, variant_id)
    experiments.delete_variant(db.session, campaign, row, actor=auth.actor(), now=clock.now())
    _changed()


@blp.route("/campaigns/<slug>/experiment")
@blp.doc(security=SECURITY)
@blp.response(200, ExperimentSchema)
@blp.alt_response(401, response="UNAUTHORIZED")
@blp.alt_response(404, response="NOT_FOUND")
def experiment(slug: str) -> dict[str, Any]:
    """Impressions, clicks, checkouts and sign-ups per arm, rates with 95% Wilson intervals, and the verdict
    (never a winner before every arm has `min_signups` sign-ups and intervals that do not overlap)."""
    payload = experiments.report(db.session, campaigns.get_campaign(db.session, slug))
    db.session.rollback()
    return payload
