"""`flask --app service member export|erase EMAIL` (support staff) and `flask --app service purge` (retention)."""

from __future__ import annotations

import json

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from service.cli_support import by_option, domain_errors, progress
from service.clock import now
from service.extensions import db
from service.privacy import erasure, retention
from service.privacy.export import export

member_cli = AppGroup("member", help="Members: tokens, data export and erasure for support staff.")


@member_cli.command("export")
@click.argument("email")
@click.option("--output", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write the JSON to this file (mode 600) instead of standard output")
@domain_errors
def member_export(email: str, output: str | None) -> None:
    """Everything the service holds about the member with EMAIL, as JSON (what GET /v1/members/me/export gives)."""
    document = export(db.session, erasure.member_by_email(db.session, email), now())
    text = json.dumps(document, indent=2, ensure_ascii=False, sort_keys=True)
    db.session.rollback()
    if output is None:
        click.echo(text)
        return
    import os

    fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # personal data: owner only
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text + "\n")
    click.echo(f"Wrote the export of member {document['member_id']} to {output}.", err=True)


@member_cli.command("erase")
@click.argument("email")
@by_option
@click.option("--yes", is_flag=True, help="Do not ask for confirmation")
@domain_errors
def member_erase(email: str, by: str, yes: bool) -> None:
    """Erase the personal data of the member with EMAIL (audit-logged under --by, without the data)."""
    member = erasure.member_by_email(db.session, email)
    if not yes:
        click.confirm(f"Erase the personal data of member {member.id}? This cannot be undone", abort=True)
    result = erasure.erase_audited(db.session, current_app.extensions["stripe"], current_app.extensions["privacy"],
                                   current_app.extensions["payments_settings"].erasure_key, member, now(),
                                   actor=by, how="support (flask member erase)")
    db.session.commit()
    rows = ", ".join(f"{table} {n}" for table, n in sorted(result.rows.items())) or "none"
    click.echo(f"Erased member {result.member_id}: rows changed or deleted: {rows}; Stripe customers deleted: "
               f"{len(result.stripe_customers_deleted)}.")


@click.command("purge")
@click.option("--batch-size", default=1000, show_default=True, type=click.IntRange(1, 100_000))
@click.option("--dry-run", is_flag=True, help="Only count what would be purged")
def purge(batch_size: int, dry_run: bool) -> None:
    """Purge what is older than its RETENTION_* limit (run daily, e.g. from cron; see docs/operations.md)."""
    settings, at = current_app.extensions["privacy"], now()
    summary = []
    for step in retention.steps(settings.retention):
        total = retention.pending(db.session, step, at)
        db.session.rollback()
        if dry_run or not total:
            summary.append(f"  {step.describe()}: {total:,} {'to purge' if dry_run else 'purged'}")
            continue
        batches = retention.purge_batches(db.session, step, at, batch_size)
        done = sum(progress(batches, total=-(-total // batch_size), label=step.name, every=10))
        summary.append(f"  {step.describe()}: {done:,} purged")
    click.echo(("Would purge (dry run):\n" if dry_run else "Purged:\n") + "\n".join(summary))


def init_app(app: Flask) -> None:
    existing = app.cli.commands.get("member")
    if isinstance(existing, click.Group) and existing is not member_cli:  # the paywall's `member` group
        for name, command in member_cli.commands.items():
            existing.add_command(command, name)
    else:
        app.cli.add_command(member_cli)
    app.cli.add_command(purge)
