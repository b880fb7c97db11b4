"""Member mail: an outbox keyed by the fact that caused each mail, templates in the reader's locale,
sending with retries, the `mail` CLI and the staff page (previews and counts).

Who writes mail: members/records.py `apply_state` (welcome, membership ended: member_mail.state_changed),
payments' invoice.payment_failed handler (member_mail.payment_failed), the paywall's sign-in
(member_mail.sign_in), gifts (member_mail.gift_received / gift_purchased). Each writes in the caller's
transaction; a view that commits such a transaction then calls `send_after_commit()`, which sends what
that request enqueued (bounded); what it could not send is retried by the next `flask mail send-pending`
(run it every minute or so from cron or a systemd timer).
"""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)
AFTER_COMMIT_LIMIT = 5  # mails one request sends itself at most; the periodic job sends the rest


def send_after_commit() -> None:
    """In a view, after `db.session.commit()`: render and send the mail this request enqueued. Never
    raises: the facts are committed whatever the mail server says, and a mail not sent now stays pending."""
    from flask import current_app

    from service import clock
    from service.extensions import db
    from service.mail import outbox, send

    keys = outbox.pending_keys(db.session)
    if not keys:
        return
    try:
        send.deliver(db.session, current_app.extensions["mail"], clock.now(), keys=keys,
                     limit=AFTER_COMMIT_LIMIT)
    except Exception:  # noqa: BLE001 - logged; the mail stays pending for `mail send-pending`
        db.session.rollback()
        log.exception("sending mail after commit failed; it stays in the outbox")


def init_app(app) -> None:  # noqa: ANN001
    """Mail settings (SMTP_URL checked), the `mail` CLI and the staff mail page."""
    from service.config import ConfigError
    from service.mail import cli, views
    from service.mail.send import SmtpSettings
    from service.mail.settings import MailSettings

    settings = MailSettings.from_config(app.config)
    if settings.smtp_url:
        try:
            SmtpSettings.parse(settings.smtp_url)
        except ValueError as exc:
            raise ConfigError(str(exc)) from exc
    app.extensions["mail"] = settings
    app.register_blueprint(views.bp)
    cli.init_app(app)
