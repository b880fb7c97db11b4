"""Paywall: reader and member tokens, magic links, metering and access decisions, JWKS."""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)


def init_app(app) -> None:  # noqa: ANN001
    """Settings, entitlement keys, caches, blueprints and CLI commands of the paywall."""
    from service.config import ConfigError
    from service.extensions import api
    from service.paywall import cli, services, tokens, views

    settings = services.Settings.from_config(app.config)
    pem = app.config.get("ENTITLEMENT_KEYS") or ""
    if pem:
        try:
            keys = tokens.KeyRing.from_pem(pem)
        except tokens.KeyConfigError as exc:
            raise ConfigError(str(exc)) from exc
    else:
        if app.config.get("SERVICE_ENV") == "production":
            raise ConfigError("ENTITLEMENT_KEYS is not set; it is required when SERVICE_ENV=production")
        keys = tokens.KeyRing.generate()
        if app.config.get("SERVICE_ENV") == "development":
            log.warning("ENTITLEMENT_KEYS is not set: using a key generated for this process only "
                        "(entitlements stop verifying on restart); set it in production")
    app.extensions["paywall"] = services.Context(
        settings=settings, keys=keys, sections=services.TTLValue(settings.cache_seconds),
        campaign=services.TTLValue(settings.cache_seconds), progress_cache=app.extensions.get("progress_cache"))
    try:
        api.spec.components.security_scheme(
            "memberToken", {"type": "http", "scheme": "bearer", "description": "Member token from sign-in"})
    except Exception:  # noqa: BLE001,S110 - already registered by an earlier app in this process
        pass
    api.register_blueprint(views.blp)
    api.register_blueprint(views.jwks_blp)
    cli.init_app(app)
