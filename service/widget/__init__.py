"""Widget: widget.js, the iframe page, the server-rendered fragment, conversion events."""


def init_app(app) -> None:  # noqa: ANN001
    """Registers this package's blueprints, CLI commands and hooks, and what ops needs to know of them."""
    from service.config import csv
    from service.extensions import api
    from service.ops import registry
    from service.widget import assets, cli, models, views  # noqa: F401 - models: the table is in the metadata

    app.extensions["widget_js"] = assets.build_widget_js(stale_limit=app.config["WIDGET_STALE_LIMIT_SECONDS"])
    api.register_blueprint(views.blp)
    app.register_blueprint(views.pages)
    cli.init_app(app)

    ops = registry.of(app)
    # CORS only where a browser on another site posts: the beacons (campaigns register their progress JSON).
    ops.cors[r"^/v1/campaigns/[^/]+/events$"] = registry.public_cors(csv(app.config["WIDGET_ALLOWED_ORIGINS"]))
    # Other sites load the script and frame the iframe page; the page sets its own CSP (frame-ancestors).
    ops.cross_origin_prefixes += [views.EMBED_PREFIX, "/widget"]
    ops.cross_origin_endpoints.add("widget.record_event")  # beacons from other sites: CORP cross-origin
    ops.framable_prefixes.append(views.EMBED_PREFIX)
    # The database down and no snapshot: the appeal without a number, not a 503 problem inside a host's page.
    ops.fallbacks["widget.banner_html"] = ops.fallbacks["widget_pages.embed"] = views.appeal_fallback
