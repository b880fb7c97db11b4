"""The staff mail page: sent, pending and failed counts, and a preview of every mail in every locale with
sample data (the staff pages' sign-in, headers and layout: service/staff)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, render_template

from service.extensions import db
from service.mail import outbox, render
from service.staff import views as staff_views

bp = Blueprint("mail_staff", __name__, url_prefix="/staff/mail", template_folder="staff_templates")
# Signed-in staff only, with the staff pages' headers and template context (one guard for every staff page).
bp.before_request(staff_views._guard)
bp.context_processor(staff_views._context)
bp.after_request(staff_views._headers)


@bp.get("/")
def mail_page() -> str:
    counts = outbox.counts(db.session)
    db.session.commit()
    return render_template("mail/staff_mail.html", counts=counts, kinds=outbox.KINDS, locales=render.LOCALES,
                           settings=current_app.extensions["mail"])


@bp.get("/preview/<kind>/<locale>")
def preview(kind: str, locale: str) -> Any:
    if kind not in outbox.KINDS or locale not in render.LOCALES:
        abort(404)
    mail = render.render(kind, render.SAMPLES[kind], current_app.extensions["mail"], locale)
    return render_template("mail/staff_preview.html", kind=kind, locale=locale, mail=mail, kinds=outbox.KINDS,
                           locales=render.LOCALES)
