"""membership-service: the service behind a newsroom's membership drive.

`create_app(config=None)` builds the Flask app: settings from the environment, overridden by the
`config` mapping (tests pass everything they need there), extensions, feature packages, error handlers.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

from service import config as settings_module
from service.clock import Clock
from service.db import configure_engine

MIGRATIONS_DIR = str(Path(__file__).resolve().parent.parent / "migrations")

# Each feature package exposes init_app(app): its blueprints, CLI commands and hooks.
FEATURES = ("campaigns", "members", "mail", "payments", "paywall", "widget", "join", "staff", "gifts", "privacy",
            "home", "ops")


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    settings = settings_module.from_environment()
    settings.update(config or {})
    settings = settings_module.finalize(settings, app.instance_path)
    app.config.update(settings)
    app.config.update(
        SECRET_KEY=settings["SECRET_KEY"],
        SQLALCHEMY_TRACK_MODIFICATIONS=False,
        API_TITLE="membership-service",
        API_VERSION="1.0.0",
        OPENAPI_VERSION="3.1.0",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        MAX_CONTENT_LENGTH=settings.get("MAX_CONTENT_LENGTH", 1024 * 1024),
    )
    if app.config["DATABASE_URL"].startswith("sqlite"):
        os.makedirs(app.instance_path, exist_ok=True)

    app.extensions["clock"] = settings.get("CLOCK") or Clock()

    from service import errors
    from service.extensions import api, db, limiter, migrate

    db.init_app(app)
    with app.app_context():
        configure_engine(db.engine)  # SQLite pragmas on this app's engine only
    migrate.init_app(app, db, directory=MIGRATIONS_DIR, render_as_batch=True, compare_type=True)
    api.init_app(app, spec_kwargs={"info": {"description": API_DESCRIPTION}})
    from service.ops import ratelimits

    ratelimits.configure(app)  # limits, headers and Redis fallback from configuration (service/ops)
    limiter.init_app(app)
    errors.init_app(app)

    import importlib

    for name in FEATURES:
        importlib.import_module(f"service.{name}").init_app(app)
    return app


API_DESCRIPTION = (
    "Membership drive service of a reader-funded newsroom: campaign progress and banner copy, the "
    "embeddable widget, paywall access decisions, Stripe Checkout and webhooks, and staff tools. "
    "Errors are RFC 9457 problem details (application/problem+json)."
)
