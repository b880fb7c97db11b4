"""`flask --app service member token|meter purge|outbox|paywall section ...|paywall keygen`."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import select

from service.cli_support import domain_errors, progress
from service.clock import now
from service.extensions import db
from service.mail.models import OutboxMessage
from service.paywall import member_access, meter, sections, signin, tokens
from service.paywall.access import Context

member_cli = AppGroup("member", help="Members: tokens for support staff and tests.")
meter_cli = AppGroup("meter", help="The paywall's meter: purge expired reads.")
paywall_cli = AppGroup("paywall", help="Paywall settings: section defaults, entitlement keys.")
section_cli = AppGroup("section", help="Default visibility of a section's articles.")
paywall_cli.add_command(section_cli)


def _ctx() -> Context:
    return current_app.extensions["paywall"]


@member_cli.command("token")
@click.argument("email")
@domain_errors
def member_token(email: str) -> None:
    """Print a member token for EMAIL (it grants that member's access; treat it like a password)."""
    member = member_access.member_by_email(db.session, email)
    click.echo(member_access.member_token(_ctx().settings, member, now()))


@meter_cli.command("purge")
@click.option("--batch-size", default=1000, show_default=True, type=click.IntRange(1, 100_000))
def meter_purge(batch_size: int) -> None:
    """Delete reads older than METER_PERIOD_DAYS, in batches (run daily, e.g. from cron)."""
    period = _ctx().settings.meter_period_days
    at = now()
    total = meter.count_expired_reads(db.session, at, period)
    db.session.rollback()

    def batches():  # noqa: ANN202
        while True:
            n = meter.purge_expired_batch(db.session, at, period, batch_size)
            db.session.commit()
            if n == 0:
                return
            yield n

    deleted = sum(progress(batches(), total=-(-total // batch_size) if total else 0, label="batches", every=10))
    click.echo(f"Purged {deleted:,} expired meter reads (older than {period} days) in batches of {batch_size:,}.")


@paywall_cli.command("purge-links")
def purge_links() -> None:
    """Delete sign-in links that expired more than a day ago (run daily with `meter purge`)."""
    n = signin.purge_used_links(db.session, now())
    db.session.commit()
    click.echo(f"Deleted {n:,} expired sign-in links.")


@click.command("outbox")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 10_000))
def outbox(limit: int) -> None:
    """Print the newest mail kept in the outbox (when SMTP_URL is not set)."""
    rows = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)).all()
    if not rows:
        click.echo("The outbox is empty.")
        return
    for m in reversed(rows):
        click.echo(f"--- #{m.id} {m.created_at:%Y-%m-%d %H:%M:%S} UTC {m.kind} ({m.status})\nTo: {m.to_addr}\n"
                   f"Subject: {m.subject}\n\n{m.body}")
    click.echo(f"{len(rows)} message(s).")


@section_cli.command("set")
@click.argument("name")
@click.argument("visibility", type=click.Choice(["public", "members"]))
@domain_errors
def section_set(name: str, visibility: str) -> None:
    """Articles of section NAME are public or members-only unless the website says otherwise."""
    sections.set_section_default(db.session, name, visibility, now())
    db.session.commit()
    click.echo(f"Section '{name.strip()}' defaults to {visibility} (workers pick it up within "
               f"{_ctx().settings.cache_seconds:g}s).")


@section_cli.command("unset")
@click.argument("name")
@domain_errors
def section_unset(name: str) -> None:
    """Remove a section's default (its articles are members-only again)."""
    sections.set_section_default(db.session, name, None, now())
    db.session.commit()
    click.echo(f"Section '{name.strip()}' has no default now (members).")


@section_cli.command("list")
def section_list() -> None:
    """List section defaults."""
    rows = sorted(sections.section_defaults(db.session).items())
    if not rows:
        click.echo("No section defaults: every article is members-only unless the website says otherwise.")
    for name, visibility in rows:
        click.echo(f"{name:<40} {visibility}")


@paywall_cli.command("keygen")
def keygen() -> None:
    """Print a new Ed25519 private key (PEM) for ENTITLEMENT_KEYS, and its kid."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    click.echo(tokens.pem_of(key), nl=False)
    click.echo(f"kid: {tokens.thumbprint(key.public_key())}", err=True)


def init_app(app: Flask) -> None:
    existing = app.cli.commands.get("member")
    if isinstance(existing, click.Group) and existing is not member_cli:  # payments may own a `member` group
        existing.add_command(member_cli.commands["token"])
    else:
        app.cli.add_command(member_cli)
    app.cli.add_command(meter_cli)
    app.cli.add_command(outbox)
    app.cli.add_command(paywall_cli)
