"""Staff: accounts, the campaign dashboard, SVG charts, copy editor, exports, staff API."""


def init_app(app) -> None:  # noqa: ANN001
    """Registers this package's blueprints, CLI commands and hooks."""
