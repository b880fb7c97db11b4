"""The payments health page (admin): recent Stripe webhook events, failed first, with Replay, and the last
reconciliation (payments_health.py reads them). A route on the staff blueprint (its sign-in guard, CSRF
check and error pages)."""

from __future__ import annotations

from service.extensions import db
from service.staff import auth, payments_health
from service.staff.views import bp


@bp.get("/payments")
@auth.require_role("admin")
def payments() -> str:
    from flask import current_app, render_template

    livemode = current_app.extensions["payments_settings"].livemode
    return render_template("staff/payments.html", health=payments_health.overview(db.session, 100, livemode))
