"""Data-rights API: a member's export and erasure (thin views over service/privacy's domain modules)."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, render_template, request

from service import clock
from service.api import Blueprint
from service.extensions import db
from service.mail import send_after_commit
from service.members.models import Member
from service.paywall import member_access
from service.privacy import erasure
from service.privacy.export import export
from service.privacy.schemas import ErasureAnswerSchema, ExportSchema

blp = Blueprint("privacy", __name__, url_prefix="/v1", description="A member's data: export and erasure",
                template_folder="templates")
BEARER = [{"memberToken": []}]
NO_STORE = {"Cache-Control": "no-store"}
# The erasure itself is confirmed on the page (and in the answer), never by mail: the address is erased.
NO_MAIL_AFTER = "No confirmation mail follows: we no longer hold your address."


def _member() -> Member:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    bearer = token.strip() if scheme.lower() == "bearer" else None
    return member_access.require_member(db.session, current_app.extensions["paywall"].settings, bearer or None,
                                        clock.now())


@blp.route("/members/me/export", methods=["GET"])
@blp.response(200, ExportSchema)
@blp.alt_response(401, response="UNAUTHORIZED")
@blp.doc(security=BEARER)
def export_me() -> tuple[dict[str, Any], int, dict[str, str]]:
    """Everything the service holds about the signed-in member, as JSON (every row that names them)."""
    document = export(db.session, _member(), clock.now())
    return document, 200, {**NO_STORE, "Content-Disposition": 'attachment; filename="membership-data.json"'}


@blp.route("/members/me/erase", methods=["POST"])
@blp.response(202, ErasureAnswerSchema)
@blp.alt_response(401, response="UNAUTHORIZED")
@blp.doc(security=BEARER)
def erase_me() -> tuple[dict[str, str], int, dict[str, str]]:
    """Ask for the erasure of the signed-in member's data: a confirmation link goes to their address (in their
    language), through the mail outbox."""
    member, now = _member(), clock.now()
    erasure.request_erasure(db.session, current_app.extensions["privacy"], member, now,
                            current_app.extensions["paywall"].settings.public_base_url)
    db.session.commit()
    send_after_commit()
    return ({"status": "accepted", "detail": "To erase your data, follow the link we sent to your address."},
            202, NO_STORE)


def _page(title: str, text: str, status: int, confirm: bool = False) -> Response:
    html = render_template("privacy/erasure.html", title=title, text=text, confirm=confirm)
    return Response(html, status=status, mimetype="text/html",
                    headers={**NO_STORE, "Referrer-Policy": "no-referrer"})


@blp.route("/members/erasure/<token>", methods=["GET"])
@blp.response(200, {"type": "string"}, content_type="text/html",
              description="A page asking to confirm (nothing is erased by opening the link)")
@blp.alt_response(410, schema={"type": "string"}, content_type="text/html",
                  description="A page saying the link is used, expired or unknown")
def erasure_page(token: str) -> Response:
    """The mailed link's page: a button confirms (mail scanners that open links erase nothing)."""
    if not erasure.link_valid(db.session, token, clock.now()):
        return _page("Link not valid", "This erasure link is used, expired or unknown. Ask for a new one.", 410)
    return _page("Erase your data?", "Your address, sign-in and mail history and the data tying you to your "
                 "reading will be erased. This cannot be undone.", 200, confirm=True)


@blp.route("/members/erasure/<token>", methods=["POST"])
@blp.response(200, ErasureAnswerSchema)
@blp.alt_response(410, response="GONE")
@blp.alt_response(502, response="BAD_GATEWAY")
def confirm_erasure(token: str) -> Any:
    """Confirm an erasure with the mailed link (once): the member's personal data is erased now."""
    now = clock.now()
    member = erasure.use_link(db.session, token, now)
    erasure.erase_audited(db.session, current_app.extensions["stripe"], current_app.extensions["privacy"],
                          current_app.extensions["payments_settings"].erasure_key, member, now,
                          actor=f"member:{member.id}", how="confirmed by the member's link")
    db.session.commit()
    if request.mimetype == "application/x-www-form-urlencoded":  # the button of the link's page
        return _page("Your data is erased", f"We have erased your personal data. {NO_MAIL_AFTER} "
                     "Thank you for your support.", 200)
    return {"status": "erased", "detail": f"The member's personal data is erased. {NO_MAIL_AFTER}"}, 200, NO_STORE
