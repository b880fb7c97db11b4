"""`flask --app service staff ...`: create and list staff accounts; unlock, disable, enable one, change its
password or role. Every change is audited with `--by` (default: the operating-system user); a password
change, a role change and disabling end the person's sessions on every server."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select

from service import clock
from service.cli_support import by_option, domain_errors
from service.extensions import db
from service.staff import accounts
from service.staff.models import ROLES, StaffUser

staff_cli = AppGroup("staff", help="Staff accounts for the dashboard.")


@staff_cli.command("create")
@click.option("--email", required=True)
@click.option("--role", type=click.Choice(ROLES), default="viewer", show_default=True,
              help="viewer reads; editor also edits copy and adjustments; admin also tokens and payments")
@click.option("--password", default=None,
              help=f"At least {accounts.MIN_PASSWORD_LENGTH} characters (prompted, with confirmation, if not given)")
@by_option
@domain_errors
def create(email, role, password, by):  # noqa: ANN001,ANN201
    """Create a staff account."""
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    user = accounts.create(db.session, email=email, role=role, password=password, by=by, now=clock.now())
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
        if u.locked_until and u.locked_until > clock.now():
            locked = f"  locked until {u.locked_until:%Y-%m-%d %H:%M} UTC"
        if u.disabled_at:
            locked += f"  disabled since {u.disabled_at:%Y-%m-%d %H:%M} UTC"
        last = f"{u.last_login_at:%Y-%m-%d %H:%M}" if u.last_login_at else "never"
        click.echo(f"{u.email:<40} {u.role:<7} last sign-in {last}{locked}")


@staff_cli.command("unlock")
@click.option("--email", required=True)
@by_option
@domain_errors
def unlock(email, by):  # noqa: ANN001,ANN201
    """Lift a sign-in lock-out after repeated failures."""
    user = accounts.find(db.session, email)
    accounts.unlock(db.session, user, by=by, now=clock.now())
    db.session.commit()
    click.echo(f"Unlocked {user.email}.")


@staff_cli.command("disable")
@click.option("--email", required=True)
@by_option
@domain_errors
def disable(email, by):  # noqa: ANN001,ANN201
    """Stop an account from signing in and end its sessions now (e.g. someone left)."""
    user = accounts.find(db.session, email)
    accounts.disable(db.session, user, by=by, now=clock.now())
    db.session.commit()
    click.echo(f"Disabled {user.email}; its sessions have ended.")


@staff_cli.command("enable")
@click.option("--email", required=True)
@by_option
@domain_errors
def enable(email, by):  # noqa: ANN001,ANN201
    """Let a disabled account sign in again."""
    user = accounts.find(db.session, email)
    accounts.enable(db.session, user, by=by, now=clock.now())
    db.session.commit()
    click.echo(f"Enabled {user.email}.")


@staff_cli.command("set-password")
@click.option("--email", required=True)
@click.option("--password", default=None,
              help=f"At least {accounts.MIN_PASSWORD_LENGTH} characters (prompted, with confirmation, if not given)")
@by_option
@domain_errors
def set_password(email, password, by):  # noqa: ANN001,ANN201
    """Change an account's password; its sessions end (sign in again with the new one)."""
    user = accounts.find(db.session, email)
    if password is None:
        password = click.prompt("New password", hide_input=True, confirmation_prompt=True)
    accounts.change_password(db.session, user, password=password, by=by, now=clock.now())
    db.session.commit()
    click.echo(f"Changed the password of {user.email}; its sessions have ended.")


@staff_cli.command("set-role")
@click.option("--email", required=True)
@click.option("--role", type=click.Choice(ROLES), required=True)
@by_option
@domain_errors
def set_role(email, role, by):  # noqa: ANN001,ANN201
    """Change an account's role; its sessions end (it signs in again with the new role)."""
    user = accounts.find(db.session, email)
    accounts.change_role(db.session, user, role=role, by=by, now=clock.now())
    db.session.commit()
    click.echo(f"{user.email} is now {role}; its sessions have ended.")


token_cli = AppGroup("token", help="Staff API tokens (Authorization: Bearer mst_…).")


@token_cli.command("create")
@click.option("--email", required=True, help="The admin who creates it (as at /staff/tokens; audited)")
@click.option("--name", required=True, help="What uses the token, e.g. experiments-bot")
@domain_errors
def create_token(email, name):  # noqa: ANN001,ANN201
    """Create a staff API token for an admin account and print it (it is shown only once)."""
    from service.errors import Forbidden
    from service.staff import api_tokens

    user = accounts.find(db.session, email)
    if user.disabled_at is not None or not user.can("admin"):
        raise Forbidden(f"Only an enabled admin account creates API tokens; {user.email} is "
                        f"{'disabled' if user.disabled_at else user.role}.")
    row, token = api_tokens.create_token(db.session, name=name, staff=user, now=clock.now())
    db.session.commit()
    click.echo(f"Created API token {row.prefix}… ({row.name}) for {user.email}; it is shown once:", err=True)
    click.echo(token)


staff_cli.add_command(token_cli)


def init_app(app) -> None:  # noqa: ANN001
    app.cli.add_command(staff_cli)
