"""`flask --app service staff ...`: create and list staff accounts, unlock one."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select

from service.cli_support import domain_errors, now
from service.extensions import db
from service.members.models import normalize_email
from service.staff import services
from service.staff.models import ROLES, StaffUser

staff_cli = AppGroup("staff", help="Staff accounts for the dashboard.")


@staff_cli.command("create")
@click.option("--email", required=True)
@click.option("--role", type=click.Choice(ROLES), default="viewer", show_default=True,
              help="viewer reads; editor also edits copy and adjustments; admin also tokens and payments")
@click.option("--password", default=None,
              help=f"At least {services.MIN_PASSWORD_LENGTH} characters (prompted, with confirmation, if not given)")
@domain_errors
def create(email, role, password):  # noqa: ANN001,ANN201
    """Create a staff account."""
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    user = services.create_staff(db.session, email=email, role=role, password=password, now=now())
    db.session.commit()
    click.echo(f"Created staff account {user.email} ({user.role}). Sign in at /staff/login.")


@staff_cli.command("list")
def list_staff():  # noqa: ANN201
    """List staff accounts."""
    rows = db.session.scalars(select(StaffUser).order_by(StaffUser.email)).all()
    if not rows:
        click.echo("No staff accounts. Create one with `flask --app service staff create`.")
        return
    for u in rows:
        locked = ""
        if u.locked_until and u.locked_until > now():
            locked = f"  locked until {u.locked_until:%Y-%m-%d %H:%M} UTC"
        last = f"{u.last_login_at:%Y-%m-%d %H:%M}" if u.last_login_at else "never"
        click.echo(f"{u.email:<40} {u.role:<7} last sign-in {last}{locked}")


@staff_cli.command("unlock")
@click.option("--email", required=True)
@domain_errors
def unlock(email):  # noqa: ANN001,ANN201
    """Lift a sign-in lock-out after repeated failures."""
    user = db.session.scalar(select(StaffUser).where(StaffUser.email == normalize_email(email)))
    if user is None:
        raise click.ClickException(f"no staff account {email}")
    user.locked_until, user.failed_logins = None, 0
    db.session.commit()
    click.echo(f"Unlocked {user.email}.")


def init_app(app) -> None:  # noqa: ANN001
    app.cli.add_command(staff_cli)
