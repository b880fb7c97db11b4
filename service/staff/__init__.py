"""Staff: accounts, the campaign dashboard, SVG charts, copy editor, exports, staff API."""

from datetime import timedelta


def init_app(app) -> None:  # noqa: ANN001
    """Registers the staff pages, the exports and stats API, the `staff` CLI and the session cookie."""
    from service.extensions import api
    from service.staff import api as staff_api
    from service.staff import cli, views
    from service.staff.cache import AggregateCache

    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(hours=float(app.config["STAFF_SESSION_HOURS"]))
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    if app.config.get("SERVICE_ENV") == "production":
        app.config["SESSION_COOKIE_SECURE"] = True
    from service.staff import health_pages, template_helpers  # noqa: F401 - payments health page, `of_goal`

    app.extensions["staff_dashboard_cache"] = AggregateCache(ttl=float(app.config["STAFF_DASHBOARD_CACHE_SECONDS"]))
    from service.staff import (
        campaign_pages,  # noqa: F401 - campaign settings and the paywall's campaign
        experiment_pages,  # noqa: F401 - the variants section and experiment table
        experiments_api,
        milestone_pages,  # noqa: F401 - the dashboard's milestones section
        milestones_api,
    )

    app.register_blueprint(views.bp)
    api.spec.components.security_scheme(
        "staffToken", {"type": "http", "scheme": "bearer",
                       "description": "A staff API token (mst_…) created by an admin at /staff/tokens"})
    api.spec.components.security_scheme(
        "staffSession", {"type": "apiKey", "in": "cookie", "name": app.config.get("SESSION_COOKIE_NAME", "session"),
                         "description": "The session cookie of a staff member signed in at /staff/login"})
    api.register_blueprint(staff_api.exports)
    api.register_blueprint(staff_api.stats_api)
    api.register_blueprint(experiments_api.blp)
    api.register_blueprint(milestones_api.blp)
    from service.staff import campaigns_api

    api.register_blueprint(campaigns_api.blp)
    cli.init_app(app)
    from service.ops import registry

    registry.of(app).write_default_exempt.add("staff.replay_webhook")  # signed-in staff, as before issue 12
