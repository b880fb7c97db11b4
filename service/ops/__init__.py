"""Operations: health and readiness, metrics, logging, rate limits, security headers."""


def init_app(app) -> None:  # noqa: ANN001
    """Registers this package's blueprints, CLI commands and hooks."""
