"""Payments: Stripe Checkout, the webhook ledger and event application, reconciliation."""


def init_app(app) -> None:  # noqa: ANN001
    """Registers this package's blueprints, CLI commands and hooks."""
    from service.config import ConfigError
    from service.extensions import api
    from service.payments import cli, models, views  # noqa: F401 - models register tables
    from service.payments.gateway import build_client
    from service.payments.settings import settings_from

    app.extensions["stripe"] = build_client(app.config)
    try:
        app.extensions["payments_settings"] = settings_from(app.config)
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc
    api.register_blueprint(views.blp)
    from service.campaigns import count_storage
    from service.payments import contributions

    if contributions.recount not in count_storage.RECOUNT_HOOKS:
        count_storage.RECOUNT_HOOKS.append(contributions.recount)
    cli.init_app(app)
    from service.ops import registry

    # Stripe's few addresses send bursts and a 429 only delays delivery: no public write limit.
    registry.of(app).write_default_exempt.add("payments.stripe_webhook")
