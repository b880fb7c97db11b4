"""`flask --app service webhooks replay ...` and `flask --app service stripe reconcile ...`."""

from __future__ import annotations

import json
from collections import Counter

import click
from flask import current_app
from flask.cli import AppGroup

from service import clock
from service.cli_support import DATE, domain_errors, progress
from service.extensions import db
from service.payments import ledger, reconciliation

webhooks_cli = AppGroup("webhooks", help="The Stripe webhook ledger.")
stripe_cli = AppGroup("stripe", help="Stripe reconciliation.")


@webhooks_cli.command("replay")
@click.option("--failed", is_flag=True, help="Re-apply every event whose status is failed")
@click.argument("event_ids", nargs=-1)
@domain_errors
def replay(failed, event_ids):  # noqa: ANN001,ANN201
    """Re-apply stored events (from their stored payloads) and print what happened to each."""
    if not failed and not event_ids:
        raise click.UsageError("give --failed or one or more event ids")
    totals: Counter[str] = Counter()
    for result in ledger.replay(db.session, failed=failed, event_ids=event_ids,
                                settings=current_app.extensions["payments_settings"], now=clock.now()):
        totals[result.outcome] += 1
        line = f"{result.event_id} {result.type or '-'}: {result.outcome}"
        if result.error:
            line += f" ({result.error[:200]})"
        click.echo(line)
    summary = ", ".join(f"{n} {k}" for k, n in sorted(totals.items())) or "nothing to replay"
    click.echo(f"Replayed {sum(totals.values())} event(s): {summary}")
    if totals.get("failed") or totals.get("missing"):
        raise SystemExit(1)


@stripe_cli.command("reconcile")
@click.option("--since", type=DATE, default=None, help="Only subscriptions created on or after this day (UTC)")
@click.option("--dry-run", is_flag=True, help="Print what would change; write nothing but the run record")
@domain_errors
def reconcile(since, dry_run):  # noqa: ANN001,ANN201
    """List subscriptions from Stripe (all statuses, all pages) and repair local state that differs; then
    record paid one-time payments (contributions, gifts) that no webhook recorded."""
    run = reconciliation.reconcile(
        db.session, current_app.extensions["stripe"], current_app.extensions["payments_settings"],
        since=since, dry_run=dry_run, now=clock.now(), echo=click.echo,
        progress=lambda items: progress(items, None, "subscriptions", every=500), clock=clock.now)
    verb = "would change" if dry_run else "changed"
    click.echo(f"Reconciliation {run.id}: examined {run.examined} subscription(s), {verb} {run.changed}"
               + (" (dry run: nothing written)" if dry_run else ""))
    payments = json.loads(run.summary or "{}").get("payments", {})
    click.echo(f"One-time payments: examined {payments.get('examined', 0)} payment-mode Checkout Session(s), "
               f"{'would record' if dry_run else 'recorded'} {len(payments.get('recorded', []))}")


def init_app(app) -> None:  # noqa: ANN001
    app.cli.add_command(webhooks_cli)
    app.cli.add_command(stripe_cli)
