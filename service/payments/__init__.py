"""Payments: Stripe Checkout, the webhook ledger and event application, reconciliation."""


def init_app(app) -> None:  # noqa: ANN001
    """Registers this package's blueprints, CLI commands and hooks."""
    from service.payments.gateway import build_client

    app.extensions["stripe"] = build_client(app.config)
