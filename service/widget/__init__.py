"""Widget: widget.js, the iframe page, the server-rendered fragment, conversion events."""


def init_app(app) -> None:  # noqa: ANN001
    """Registers this package's blueprints, CLI commands and hooks."""
    from flask_cors import CORS

    from service.config import csv
    from service.extensions import api
    from service.widget import assets, cli, models, views  # noqa: F401 - models: the table is in the metadata

    app.extensions["widget_js"] = assets.build_widget_js()
    api.register_blueprint(views.blp)
    app.register_blueprint(views.pages)
    cli.init_app(app)

    # CORS only where a browser on another site reads or posts: the public progress JSON and the beacons.
    origins = csv(app.config["WIDGET_ALLOWED_ORIGINS"])
    wildcard = not origins or "*" in origins
    CORS(app, resources={r"^/v1/campaigns/[^/]+/(progress|events)$": {
        "origins": "*" if wildcard else origins,
        "send_wildcard": wildcard,  # '*' rather than the echoed Origin: no Vary, one cached copy
        "supports_credentials": False,
        "methods": ["GET", "HEAD", "POST", "OPTIONS"],
        "allow_headers": ["Content-Type"],
        "max_age": 86400,
    }})
