"""Paywall: reader and member tokens, magic links, metering and access decisions, JWKS."""


def init_app(app) -> None:  # noqa: ANN001
    """Registers this package's blueprints, CLI commands and hooks."""
