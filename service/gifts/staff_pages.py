"""The staff page of gifts (`/staff/gifts`): sold, redeemed, waiting, refunded; re-send or refund a gift
that is not redeemed. Staff sign-in, roles and CSRF as on every staff page (service/staff/auth.py)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, flash, g, redirect, render_template, request, url_for

from service import clock
from service.errors import DomainError
from service.extensions import db
from service.gifts import delivery, refunds
from service.mail import send_after_commit
from service.payments import money
from service.staff import audit, auth

bp = Blueprint("staff_gifts", __name__, url_prefix="/staff/gifts", template_folder="templates")


@bp.before_request
def _guard() -> Any:
    auth.new_request()
    if auth.load_staff() is None:
        return auth.login_redirect()
    if request.method in auth.UNSAFE_METHODS:
        auth.check_csrf()
    return None


@bp.context_processor
def _context() -> dict[str, Any]:
    return {"csrf_token": auth.csrf_token, "staff": g.get("staff"),
            "money": lambda amount, currency: money.format_amount(amount, currency, "en") if currency else "—"}


@bp.after_request
def _headers(response: Response) -> Response:
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'; "
                                "frame-ancestors 'none'; form-action 'self'")
    return response


@bp.errorhandler(DomainError)
def _domain_error(exc: DomainError) -> tuple[str, int]:
    db.session.rollback()
    return render_template("staff/error.html", status=exc.status, title=exc.title, detail=exc.detail), exc.status


@bp.get("/")
def index() -> str:
    return render_template("gifts/staff.html", counts=refunds.summary(db.session),
                           gifts=refunds.recent(db.session))


@bp.post("/<int:gift_id>/resend")
@auth.require_role("editor")
def resend(gift_id: int) -> Any:
    gift = refunds.get(db.session, gift_id)
    delivery.resend(db.session, current_app.extensions["paywall"].settings, gift, clock.now())
    audit.record(db.session, actor=g.staff.email, action="gift.resend", target=f"gift:{gift_id}", now=clock.now())
    db.session.commit()
    send_after_commit()
    flash(f"Gift {gift_id} sent again to {gift.recipient_email}, with a new link.")
    return redirect(url_for("staff_gifts.index"))


@bp.post("/<int:gift_id>/refund")
@auth.require_role("admin")
def refund(gift_id: int) -> Any:
    gift = refunds.refund(db.session, current_app.extensions["stripe"], refunds.get(db.session, gift_id),
                          clock.now())
    audit.record(db.session, actor=g.staff.email, action="gift.refund", target=f"gift:{gift_id}",
                 details={"refund": gift.refund_id}, now=clock.now())
    db.session.commit()
    flash(f"Gift {gift_id} refunded; its link no longer works.")
    return redirect(url_for("staff_gifts.index"))
