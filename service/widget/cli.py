"""`flask --app service widget info`: the versioned URL and the size of widget.js."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

widget_cli = AppGroup("widget", help="The embeddable widget.")


@widget_cli.command("info")
def info():  # noqa: ANN201
    """Print the embed URLs of widget.js and its size."""
    asset = current_app.extensions["widget_js"]
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    click.echo(f"embed snippet URL : {base}/widget.js (short max-age + ETag)")
    click.echo(f"versioned URL     : {base}/widget/{asset.version}.js (immutable, one year)")
    click.echo(f"size              : {len(asset.body):,} bytes, {len(asset.gzipped):,} gzipped")


def init_app(app) -> None:  # noqa: ANN001
    app.cli.add_command(widget_cli)
