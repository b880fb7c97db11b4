"""Staff exports and the stats API (flask-smorest, so both are in openapi.yaml).

- `GET /staff/campaigns/{slug}/signups.csv`: a signed-in staff session (302 to sign-in without one)
  or a staff API token. Each export is written to the audit log (who, which campaign, how many rows).
- `GET /v1/staff/campaigns/{slug}/stats`: a staff API token (Authorization: Bearer) or a staff
  session; 401 problem+json without either.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from flask import Response, current_app, g

from service import clock
from service.api import Blueprint
from service.campaigns import services as campaigns
from service.extensions import db
from service.staff import audit, auth, reports
from service.staff.schemas import StatsSchema

SECURITY = [{"staffToken": []}, {"staffSession": []}]

exports = Blueprint("staff_exports", __name__, url_prefix="/staff", description="Staff exports")
stats_api = Blueprint("staff_api", __name__, url_prefix="/v1/staff", description="Stats for staff tools")


def _authenticate() -> bool:
    auth.new_request()
    if auth.load_staff() is not None:
        return True
    token = auth.load_token()
    if token is not None:
        g.staff_token = token
        db.session.commit()  # its use, at most once a minute (accounts.note_token_use)
        return True
    return False


@exports.before_request
def _exports_guard() -> Any:
    if not _authenticate():
        return auth.unauthorized_problem() if auth.bearer_token() else auth.login_redirect()
    return None


@stats_api.before_request
def _api_guard() -> Any:
    if not _authenticate():
        return auth.unauthorized_problem()
    return None


CSV_COLUMNS = ("date", "plan", "source", "locale", "joined", "ended")


def _cell(value: Any) -> Any:
    """Spreadsheets run cells that start with = + - @ as formulas: quote them (attribution is reader-made)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


@exports.route("/campaigns/<slug>/signups.csv")
@exports.doc(security=SECURITY)
@exports.response(200, content_type="text/csv", description=(
    "Sign-ups per day, plan, source and locale: columns date, plan, source, locale, joined, ended. "
    "From the daily roll-ups; no personal data."), example="date,plan,source,locale,joined,ended\n"
                                                           "2025-03-01,monthly,newsletter,en,12,1\n")
@exports.alt_response(302, description="Not signed in: redirect to /staff/login")
@exports.alt_response(401, response="UNAUTHORIZED")
@exports.alt_response(404, response="NOT_FOUND")
def signups_csv(slug: str) -> Response:
    """Sign-ups of a campaign as CSV, for analysis."""
    campaign = campaigns.get_campaign(db.session, slug)
    rows = reports.signup_rows(db.session, campaign)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for day, plan, source, locale, joined, ended in rows:
        writer.writerow([day.isoformat(), _cell(plan), _cell(source), _cell(locale), joined, ended])
    audit.record(db.session, actor=auth.actor(), action="export.csv", target=f"{campaign.slug}/signups.csv",
                 campaign=campaign, details={"rows": len(rows)}, now=clock.now())
    db.session.commit()
    return Response(out.getvalue(), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{campaign.slug}-signups.csv"',
        "Cache-Control": "no-store",
    })


@stats_api.route("/campaigns/<slug>/stats")
@stats_api.doc(security=SECURITY)
@stats_api.response(200, StatsSchema)
@stats_api.alt_response(401, response="UNAUTHORIZED")
@stats_api.alt_response(404, response="NOT_FOUND")
def campaign_stats(slug: str) -> dict[str, Any]:
    """Count, goal, pace, daily series, breakdowns and funnel of a campaign (the dashboard's numbers)."""
    campaign = campaigns.get_campaign(db.session, slug)
    payload = reports.stats_payload(db.session, campaign, clock.now(), current_app.extensions["staff_dashboard_cache"])
    db.session.rollback()
    return payload
