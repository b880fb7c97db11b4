"""`flask --app service campaign variant ...`: copy variants of a campaign (experiments), audited with `--by`."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from service.campaigns import services, variants
from service.campaigns.models import STAGES
from service.cli_support import by_option, domain_errors
from service.clock import now
from service.extensions import db
from service.urls import https_required

variant_cli = AppGroup("variant", help="Variants of a campaign's copy: A/B tests of the banner.")


def _staff():  # noqa: ANN202 - staff keeps the audit log (as `campaign adjust`)
    from service.staff import experiments

    return experiments


def _done() -> None:
    db.session.commit()
    current_app.extensions["progress_cache"].clear()


@variant_cli.command("add")
@click.option("--slug", required=True)
@click.option("--name", required=True)
@click.option("--weight", required=True, type=click.IntRange(1, 99), help="Percent of readers who see it")
@click.option("--locale", required=True)
@click.option("--stage", required=True, type=click.Choice(STAGES))
@click.option("--headline", required=True)
@click.option("--body", required=True)
@click.option("--cta-label", required=True)
@click.option("--cta-url", default="", help="Empty: the campaign's join URL")
@by_option
@domain_errors
def add(slug, name, weight, locale, stage, headline, body, cta_label, cta_url, by):  # noqa: ANN001,ANN201,PLR0913
    """Start a variant of a stage's copy in a locale (checked like the copy itself)."""
    campaign = services.get_campaign(db.session, slug)
    row = _staff().add_variant(db.session, campaign, actor=by, now=now(),
                               require_https=https_required(current_app.config), name=name, weight=weight,
                               locale=locale, stage=stage, headline=headline, body=body, cta_label=cta_label,
                               cta_url=cta_url)
    _done()
    click.echo(f"Variant {row.id} ({row.name}) runs for {row.weight}% of readers of {slug} "
               f"({row.stage}, {row.locale}).")


@variant_cli.command("list")
@click.option("--slug", required=True)
@domain_errors
def list_variants(slug):  # noqa: ANN001,ANN201
    """List a campaign's variants."""
    rows = variants.list_for(db.session, services.get_campaign(db.session, slug))
    if not rows:
        click.echo(f"{slug} has no variants. Add one with `flask --app service campaign variant add`.")
    for v in rows:
        click.echo(f"{v.id:>5} {v.name:<24} {v.stage:<12} {v.locale:<6} {v.weight:>3}% {v.status:<9} {v.headline}")


def _change(slug: str, variant_id: int, by: str, message: str, **change: object) -> None:
    campaign = services.get_campaign(db.session, slug)
    row = variants.get(db.session, campaign, variant_id)
    _staff().change_variant(db.session, campaign, row, actor=by, now=now(),
                            require_https=https_required(current_app.config), **change)
    _done()
    click.echo(message.format(v=row))


@variant_cli.command("stop")
@click.option("--slug", required=True)
@click.option("--id", "variant_id", required=True, type=int)
@by_option
@domain_errors
def stop(slug, variant_id, by):  # noqa: ANN001,ANN201
    """Stop showing a variant (its figures stay)."""
    _change(slug, variant_id, by, "Stopped variant {v.id} ({v.name}).", status="stopped")


@variant_cli.command("run")
@click.option("--slug", required=True)
@click.option("--id", "variant_id", required=True, type=int)
@by_option
@domain_errors
def run(slug, variant_id, by):  # noqa: ANN001,ANN201
    """Show a stopped variant again."""
    _change(slug, variant_id, by, "Variant {v.id} ({v.name}) runs again.", status="running")


@variant_cli.command("weight")
@click.option("--slug", required=True)
@click.option("--id", "variant_id", required=True, type=int)
@click.option("--weight", required=True, type=click.IntRange(1, 99))
@by_option
@domain_errors
def weight(slug, variant_id, weight, by):  # noqa: ANN001,ANN201
    """Change the percent of readers who see a variant."""
    _change(slug, variant_id, by, "Variant {v.id} ({v.name}) now runs for {v.weight}% of readers.", weight=weight)


@variant_cli.command("promote")
@click.option("--slug", required=True)
@click.option("--id", "variant_id", required=True, type=int)
@by_option
@domain_errors
def promote(slug, variant_id, by):  # noqa: ANN001,ANN201
    """Make a variant's text the stage's copy; the stage's experiment ends."""
    _change(slug, variant_id, by, "Variant {v.id} ({v.name}) is now the {v.stage} copy in {v.locale}.", promote=True)


@variant_cli.command("delete")
@click.option("--slug", required=True)
@click.option("--id", "variant_id", required=True, type=int)
@by_option
@domain_errors
def delete(slug, variant_id, by):  # noqa: ANN001,ANN201
    """Delete a variant and its figures (stop it to keep them)."""
    campaign = services.get_campaign(db.session, slug)
    row = variants.get(db.session, campaign, variant_id)
    name = row.name
    _staff().delete_variant(db.session, campaign, row, actor=by, now=now())
    _done()
    click.echo(f"Deleted variant {variant_id} ({name}).")
