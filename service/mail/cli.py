"""`flask --app service mail send-pending`: the periodic job that sends what requests left in the outbox."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from service.cli_support import progress
from service.clock import now
from service.extensions import db
from service.mail import outbox, send

mail_cli = AppGroup("mail", help="Member mail: send what is pending in the outbox.")


@mail_cli.command("send-pending")
@click.option("--limit", default=1000, show_default=True, type=click.IntRange(1, 100_000),
              help="Mails to try at most in this run")
def send_pending(limit: int) -> None:
    """Send the outbox's due mail: new, waiting for a retry, or left by a sender that crashed (its lease
    expired). Run it every minute or so (cron, systemd timer); runs at once never send one mail twice."""
    settings = current_app.extensions["mail"]
    at = now()
    total = min(limit, send.due_count(db.session, at))
    summary = send.Summary()
    for outcome in progress(send.deliver_each(db.session, settings, at, limit=limit), total=total,
                            label="mail", every=100):
        summary.add(outcome)
    counts = outbox.counts(db.session)
    db.session.commit()
    click.echo(f"Sent {summary.sent:,}, retrying later {summary.retrying:,}, failed {summary.failed:,}, "
               f"taken by another sender {summary.busy:,}.")
    if not settings.sending:
        reason = "MAIL_DISABLED=true" if settings.disabled else "SMTP_URL is not set"
        click.echo(f"Mail is not sent ({reason}): {summary.kept:,} rendered and kept in the outbox.")
    click.echo(f"Outbox: {counts['sent']:,} sent, {counts['pending']:,} pending, {counts['failed']:,} failed.")


def init_app(app: Flask) -> None:
    app.cli.add_command(mail_cli)
