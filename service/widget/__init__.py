"""Widget: widget.js, the iframe page, the server-rendered fragment, conversion events."""


def init_app(app) -> None:  # noqa: ANN001
    """Registers this package's blueprints, CLI commands and hooks."""
    from service.widget import models  # noqa: F401 - the table is part of the metadata
