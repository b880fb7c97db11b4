"""`flask --app service campaign edit|archive|unarchive|delete`: campaign administration from the command line
(campaigns/admin.py through staff/campaign_admin.py, so each change is in the dashboard's audit log)."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from service.campaigns import services
from service.cli_support import DATE, by_option, domain_errors
from service.clock import now
from service.errors import Invalid
from service.extensions import db
from service.urls import https_required


def _staff():  # noqa: ANN202 - staff writes the audit log; imported late (campaigns loads before staff)
    from service.staff import campaign_admin

    return campaign_admin


def _field_errors(fn):  # noqa: ANN001,ANN202
    """Invalid: each field's sentence on a line of its own (domain_errors prints the rest)."""

    def wrapper(*args, **kwargs):  # noqa: ANN002,ANN003,ANN202
        try:
            return fn(*args, **kwargs)
        except Invalid as exc:
            db.session.rollback()
            lines = [m for ms in (exc.extra.get("errors") or {}).values() for m in ms] or [exc.detail]
            raise click.ClickException("the campaign was not changed:\n  " + "\n  ".join(lines)) from exc

    wrapper.__name__, wrapper.__doc__ = fn.__name__, fn.__doc__
    return wrapper


def register(group: AppGroup) -> None:  # noqa: C901 - four small commands
    @group.command("edit")
    @click.option("--slug", required=True)
    @click.option("--title", default=None)
    @click.option("--goal", type=int, default=None)
    @click.option("--starts", type=DATE, default=None, help="First day (in the campaign's time zone)")
    @click.option("--ends", type=DATE, default=None, help="Last day (in the campaign's time zone)")
    @click.option("--timezone", default=None, help="IANA time zone; the first and last days stay the same")
    @click.option("--locale", "default_locale", default=None, help="Default locale of the copy")
    @click.option("--count-mode", type=click.Choice(["net", "gross"]), default=None)
    @click.option("--join-url", default=None, help="Where the call to action links; '' for the paywall's")
    @by_option
    @domain_errors
    @_field_errors
    def edit(slug, by, **values):  # noqa: ANN001,ANN003,ANN202
        """Change a campaign's title, goal, days, time zone, locale, counting mode or join URL (a change of
        days, time zone or counting mode recounts and says by how much the count moved)."""
        campaign = services.get_campaign(db.session, slug)
        outcome = _staff().edit(db.session, campaign, values, actor=by, now=now(), via="cli",
                                require_https=https_required(current_app.config))
        db.session.commit()
        current_app.extensions["progress_cache"].clear()
        click.echo(outcome.summary())

    @group.command("archive")
    @click.option("--slug", required=True)
    @by_option
    @domain_errors
    def archive(slug, by):  # noqa: ANN001,ANN202
        """Archive a campaign: its progress JSON, banner and embed answer 410 (the widget hides itself) and the
        paywall never shows it."""
        campaign = services.get_campaign(db.session, slug)
        changed = _staff().set_archived(db.session, campaign, True, actor=by, now=now(), via="cli")
        db.session.commit()
        current_app.extensions["progress_cache"].clear()
        click.echo(f"Archived {slug}." if changed else f"{slug} was archived already.")

    @group.command("unarchive")
    @click.option("--slug", required=True)
    @by_option
    @domain_errors
    def unarchive(slug, by):  # noqa: ANN001,ANN202
        """Bring an archived campaign back."""
        campaign = services.get_campaign(db.session, slug)
        changed = _staff().set_archived(db.session, campaign, False, actor=by, now=now(), via="cli")
        db.session.commit()
        current_app.extensions["progress_cache"].clear()
        click.echo(f"Unarchived {slug}." if changed else f"{slug} was not archived.")

    @group.command("delete")
    @click.option("--slug", required=True)
    @click.option("--force", is_flag=True, help="Delete even though members are counted in it")
    @by_option
    @domain_errors
    def delete(slug, force, by):  # noqa: ANN001,ANN202
        """Delete a campaign with its copy, adjustments and roll-ups (refused while members are counted in
        it, unless --force; archiving keeps the history). Written to the audit log."""
        campaign = services.get_campaign(db.session, slug)
        facts = _staff().delete(db.session, campaign, actor=by, now=now(), force=force, via="cli")
        db.session.commit()
        current_app.extensions["progress_cache"].clear()
        click.echo(f"Deleted {slug} (it counted {facts['count']:,}).")
