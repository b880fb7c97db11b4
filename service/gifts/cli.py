"""`flask --app service gifts deliver|list|resend|refund`."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from service.cli_support import by_option, domain_errors
from service.clock import now
from service.extensions import db
from service.gifts import delivery, refunds
from service.gifts.models import Gift
from service.mail import send_after_commit
from service.staff import audit

gifts_cli = AppGroup("gifts", help="Gift memberships: delivery, re-sending and refunds.")


def _settings():  # noqa: ANN202
    return current_app.extensions["paywall"].settings


@gifts_cli.command("deliver")
def deliver() -> None:
    """Mail every gift whose delivery day has come, then end gift memberships whose period is over. Run it
    periodically (e.g. every 15 minutes from cron); two runs at once mail each gift once."""
    at = now()

    def progress(gift: Gift, outcome: str) -> None:
        click.echo(f"gift {gift.id} (for delivery on {gift.deliver_on}): {outcome}")

    out = delivery.deliver_due(db.session, _settings(), at, progress)
    click.echo(f"{out.due} due, {out.delivered} delivered, {out.taken} delivered by another run; "
               f"{out.ended} gift memberships ended (mail goes out with `flask mail send-pending`)")


@gifts_cli.command("list")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000))
def list_gifts(limit: int) -> None:
    """The newest gifts with their state (codes are never shown: only their hash is stored)."""
    counts = refunds.summary(db.session)
    click.echo(", ".join(f"{k} {v}" for k, v in counts.items()))
    for g in refunds.recent(db.session, limit):
        click.echo(f"{g.id}\t{g.state}\t{g.months} months\t{g.recipient_email}\tdeliver {g.deliver_on}\t"
                   f"{g.amount} {g.currency.upper()}\tbought by {g.buyer_email or '?'}")


@gifts_cli.command("resend")
@click.argument("gift_id", type=int)
@by_option
@domain_errors
def resend(gift_id: int, by: str) -> None:
    """Mail an unredeemed gift again, with a new link (the old one stops working)."""
    gift = refunds.get(db.session, gift_id)
    delivery.resend(db.session, _settings(), gift, now())
    audit.record(db.session, actor=by, action="gift.resend", target=f"gift:{gift.id}", now=now())
    db.session.commit()
    send_after_commit()
    click.echo(f"gift {gift.id}: sent again to {gift.recipient_email}")


@gifts_cli.command("refund")
@click.argument("gift_id", type=int)
@by_option
@domain_errors
def refund(gift_id: int, by: str) -> None:
    """Refund an unredeemed gift in full through Stripe; its link stops working."""
    gift = refunds.refund(db.session, current_app.extensions["stripe"], refunds.get(db.session, gift_id), now())
    audit.record(db.session, actor=by, action="gift.refund", target=f"gift:{gift.id}",
                 details={"refund": gift.refund_id}, now=now())
    db.session.commit()
    click.echo(f"gift {gift.id}: refunded ({gift.refund_id})")


def init_app(app: Flask) -> None:
    app.cli.add_command(gifts_cli)
