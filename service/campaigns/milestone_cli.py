"""`flask --app service campaign milestone ...` and `campaign stretch-goal`: milestones and the stretch goal,
audited with `--by` (staff keeps the audit log, as `campaign adjust`)."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from service.campaigns import services
from service.cli_support import by_option, domain_errors
from service.clock import now
from service.extensions import db

milestone_cli = AppGroup("milestone", help="Milestones a campaign celebrates on the way to its goal.")


def _staff():  # noqa: ANN202
    from service.staff import milestone_admin

    return milestone_admin


def _done() -> None:
    db.session.commit()
    current_app.extensions["progress_cache"].clear()


def _headlines(values: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for value in values:
        locale, sep, text = value.partition("=")
        if not sep or not locale.strip():
            raise click.BadParameter(f"'{value}': write LOCALE=HEADLINE, e.g. en='We passed {{milestone}}!'",
                                     param_hint="--headline")
        out[locale.strip()] = text
    return out


@milestone_cli.command("add")
@click.option("--slug", required=True)
@click.option("--at", required=True, type=click.IntRange(min=1), help="The count to celebrate")
@click.option("--headline", "headlines", multiple=True, metavar="LOCALE=TEMPLATE",
              help="Its headline in a locale (repeat per locale); other locales get the built-in one")
@click.option("--show-days", type=click.IntRange(0, 365), default=None,
              help="Days the headline shows after the count crosses it (default MILESTONE_SHOW_DAYS)")
@by_option
@domain_errors
def add(slug, at, headlines, show_days, by):  # noqa: ANN001,ANN201
    """Add a milestone (reached at once if the count is there already)."""
    campaign = services.get_campaign(db.session, slug)
    days = show_days if show_days is not None else current_app.config["MILESTONE_SHOW_DAYS"]
    row = _staff().add(db.session, campaign, at=at, headlines=_headlines(headlines), show_days=days, actor=by,
                       now=now())
    _done()
    click.echo(f"Milestone {row.id} at {row.at:,} for {slug}, headline shown {row.show_days} days after it is reached")


@milestone_cli.command("list")
@click.option("--slug", required=True)
@domain_errors
def list_milestones(slug):  # noqa: ANN001,ANN201
    """List milestones and crossings."""
    o = _staff().overview(db.session, services.get_campaign(db.session, slug))
    goal = f"goal {o['goal']:,}" + (f" (stretch; was {o['original_goal']:,})" if o["original_goal"] else "")
    click.echo(f"{slug}: count {o['count']:,}, {goal}")
    for m in o["milestones"]:
        reached = m["reached_at"].strftime("%Y-%m-%d %H:%M UTC") if m["reached_at"] else "not yet"
        click.echo(f"  {m['id']:>4}  {m['at']:>11,}  {m['show_days']:>3} days  reached {reached}  "
                   + "; ".join(f"{k}: {v}" for k, v in m["headlines"].items()))


@milestone_cli.command("remove")
@click.option("--slug", required=True)
@click.option("--id", "milestone_id", required=True, type=int)
@by_option
@domain_errors
def remove(slug, milestone_id, by):  # noqa: ANN001,ANN201
    """Remove a milestone."""
    row = _staff().remove(db.session, services.get_campaign(db.session, slug), milestone_id, actor=by, now=now())
    _done()
    click.echo(f"Milestone {row.at:,} removed from {slug}")


@click.command("stretch-goal")
@click.option("--slug", required=True)
@click.option("--goal", required=True, type=click.IntRange(min=1))
@by_option
@domain_errors
def stretch_goal(slug, goal, by):  # noqa: ANN001,ANN201
    """After the goal is reached, set a larger one (the banner goes into overtime)."""
    campaign = services.get_campaign(db.session, slug)
    _staff().stretch(db.session, campaign, goal=goal, actor=by, now=now())
    _done()
    click.echo(f"{slug}: stretch goal {campaign.goal:,} (the goal was {campaign.original_goal:,})")
