"""`flask --app service campaign ...` and `flask --app service demo`."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import func, select

from service.campaigns import admin, count_storage, demo, services
from service.campaigns.models import Campaign
from service.cli_support import DATE, by_option, domain_errors
from service.clock import now
from service.extensions import db
from service.urls import https_required

campaign_cli = AppGroup("campaign", help="Create, list and adjust campaigns.")


@campaign_cli.command("create")
@click.option("--slug", required=True)
@click.option("--title", required=True)
@click.option("--goal", required=True, type=click.IntRange(min=1))
@click.option("--starts", required=True, type=DATE)
@click.option("--ends", required=True, type=DATE)
@click.option("--timezone", default="UTC", show_default=True, help="IANA time zone of the window's days")
@click.option("--locale", default="en", show_default=True, help="Default locale of the copy")
@click.option("--count-mode", type=click.Choice(["net", "gross"]), default="net", show_default=True)
@click.option("--join-url", default="", help="Where the call to action links (an http(s) URL; https in production)")
@domain_errors
def create(slug, title, goal, starts, ends, timezone, locale, count_mode, join_url):  # noqa: ANN001,ANN201
    """Create a campaign (counts members who already paid inside its window)."""
    campaign = services.create_campaign(db.session, slug=slug, title=title, goal=goal, starts=starts, ends=ends,
                                        timezone=timezone, locale=locale, count_mode=count_mode,
                                        join_url=join_url, now=now(),
                                        require_https=https_required(current_app.config))
    db.session.commit()
    click.echo(f"Created campaign {campaign.slug}: goal {campaign.goal:,}, {starts} to {ends} ({timezone}), "
               f"count {campaign.count:,}")


@campaign_cli.command("list")
def list_campaigns():  # noqa: ANN201
    """List campaigns with their counts."""
    rows = db.session.scalars(select(Campaign).order_by(Campaign.starts_at, Campaign.slug)).all()
    if not rows:
        click.echo("No campaigns. Create one with `flask --app service campaign create` or `flask --app service demo`.")
        return
    click.echo(f"{'slug':<24} {'count':>9} {'goal':>9}  {'mode':<5} first day .. last day (time zone)")
    for c in rows:
        first, last = admin.local_days(c)  # the days as staff entered them, in the campaign's own zone
        archived = "  archived" if c.archived_at is not None else ""
        click.echo(f"{c.slug:<24} {c.count:>9,} {c.goal:>9,}  {c.count_mode:<5} "
                   f"{first:%Y-%m-%d} .. {last:%Y-%m-%d} ({c.timezone}){archived}")


@campaign_cli.command("adjust")
@click.option("--slug", required=True)
@click.option("--delta", required=True, type=int, help="Signed number of members to add (or remove)")
@click.option("--reason", required=True)
@by_option
@domain_errors
def adjust(slug, delta, reason, by):  # noqa: ANN001,ANN201
    """Add a signed count adjustment, e.g. sign-ups taken offline (written to the staff audit log)."""
    from service.staff import adjustments as staff

    campaign = services.get_campaign(db.session, slug)
    raw = campaign.members_counted + campaign.adjustments_total  # the count before it is floored at 0
    if raw + delta < 0:
        click.echo(f"Warning: this adjustment takes the count of {slug} below zero ({raw:,} -> {raw + delta:,});"
                   " it shows as 0 until members make up the difference.", err=True)
    staff.add_adjustment(db.session, campaign, delta=delta, reason=reason, actor=by, via="cli", now=now())
    db.session.commit()
    click.echo(f"Adjusted {slug} by {delta:+,}: count is now {campaign.count:,}")


@campaign_cli.command("recount")
@click.option("--slug", default=None, help="One campaign (default: all)")
@domain_errors
def recount(slug):  # noqa: ANN001,ANN201
    """Rebuild counters and daily roll-ups from the members table."""
    campaigns = [services.get_campaign(db.session, slug)] if slug else db.session.scalars(select(Campaign)).all()
    for c in campaigns:
        before = c.count
        after = count_storage.recount(db.session, c, now())
        db.session.commit()
        click.echo(f"{c.slug}: {before:,} -> {after:,}")


@click.command("demo")
@click.option("--signups", type=click.IntRange(min=0, max=5_000_000), default=0,
              help="Also seed N realistic sign-ups (spread over the campaign, ~8% cancelled)")
@click.option("--more", is_flag=True, help="Seed even if the campaign has seeded sign-ups already")
@domain_errors
def demo_command(signups, more):  # noqa: ANN001,ANN201
    """Create the demo campaign members-25k if no campaign exists; --signups N brings it to life."""
    has_any = db.session.scalar(select(func.count(Campaign.id)))
    if has_any:
        click.echo("A campaign exists already; the demo campaign was not created.")
        existing = db.session.scalar(select(Campaign).where(Campaign.slug == demo.SLUG))
        if existing is not None and demo.rebase_join_url(existing, current_app.config["PUBLIC_BASE_URL"]):
            db.session.commit()  # `make run PORT=...`: the call to action follows the port
            click.echo(f"The demo campaign's join URL is now {existing.join_url}.")
    else:
        c = demo.create_demo(db.session, now(), join_url=current_app.config["PUBLIC_BASE_URL"] + "/demo/join")
        db.session.commit()
        click.echo(f"Created demo campaign {c.slug} (goal {c.goal:,}, {c.starts_at:%Y}).")
    if signups:
        import time

        from service.campaigns import seed
        from service.cli_support import progress

        target = db.session.scalar(select(Campaign).where(Campaign.slug == demo.SLUG)) or db.session.scalar(
            select(Campaign).order_by(Campaign.created_at.desc()))
        seeded = seed.next_number(db.session) - 1
        if seeded and not more:  # `make run` asks every time: seed once
            click.echo(f"{seeded:,} seeded sign-ups exist already; add --more to seed {signups:,} more.")
            return
        started = time.monotonic()
        count = seed.seed_signups(db.session, target, signups, now(),
                                  progress=lambda items, total, label: progress(items, total, label, every=1))
        db.session.commit()
        click.echo(f"Seeded {signups:,} sign-ups into {target.slug} in {time.monotonic() - started:.1f}s: "
                   f"count is now {count:,}.")


def init_app(app) -> None:  # noqa: ANN001
    from service.campaigns import cli_admin  # campaign edit|archive|unarchive|delete

    cli_admin.register(campaign_cli)
    from service.campaigns.variant_cli import variant_cli  # campaign variant add|list|stop|run|weight|promote|delete

    campaign_cli.add_command(variant_cli)
    from service.campaigns.milestone_cli import milestone_cli, stretch_goal  # campaign milestone|stretch-goal

    campaign_cli.add_command(milestone_cli)
    campaign_cli.add_command(stretch_goal)
    app.cli.add_command(campaign_cli)
    app.cli.add_command(demo_command)
