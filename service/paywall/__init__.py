"""Paywall: reader and member tokens, magic links, metering and access decisions, JWKS."""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)


def init_app(app) -> None:  # noqa: ANN001
    """Settings, entitlement keys, caches, blueprints and CLI commands of the paywall."""
    from service.config import ConfigError
    from service.extensions import api, db
    from service.paywall import cli, member_cache, tokens, views
    from service.paywall.access import Context
    from service.paywall.settings import Settings, TTLValue

    settings = Settings.from_config(app.config)  # (SMTP_URL: service/mail and config.mail_problems)
    pem = app.config.get("ENTITLEMENT_KEYS") or ""
    if pem:
        try:
            keys = tokens.KeyRing.from_pem(pem)
        except tokens.KeyConfigError as exc:
            raise ConfigError(str(exc)) from exc
    else:
        if app.config.get("SERVICE_ENV") == "production":
            raise ConfigError("ENTITLEMENT_KEYS is not set; it is required when SERVICE_ENV=production")
        keys = _development_keys(app) if app.config.get("SERVICE_ENV") == "development" else tokens.KeyRing.generate()
    ctx = Context(settings=settings, keys=keys, sections=TTLValue(settings.cache_seconds),
                  campaign=TTLValue(settings.cache_seconds), progress_cache=app.extensions.get("progress_cache"))
    member_cache.watch(db.session, ctx.members)  # this app's sessions, not SQLAlchemy's global Session class
    app.extensions["paywall"] = ctx
    try:
        api.spec.components.security_scheme(
            "memberToken", {"type": "http", "scheme": "bearer", "description": "Member token from sign-in"})
    except Exception:  # noqa: BLE001,S110 - already registered by an earlier app in this process
        pass
    api.register_blueprint(views.blp)
    api.register_blueprint(views.jwks_blp)
    cli.init_app(app)
    from service.ops import registry
    from service.paywall import degraded

    degraded.check_config(app.config)  # ACCESS_FAIL_MODE: the access decision while the database is down
    registry.of(app).fallbacks["paywall.access"] = degraded.access_response


def _development_keys(app):  # noqa: ANN001,ANN202
    """Without ENTITLEMENT_KEYS in development: a key generated once and kept in instance/, so that
    every worker and restart publishes the same JWKS. Production refuses to start instead."""
    import os

    from service.paywall import tokens

    path = os.path.join(app.instance_path, "entitlement-dev-key.pem")
    try:
        with open(path) as fh:
            return tokens.KeyRing.from_pem(fh.read())
    except (OSError, tokens.KeyConfigError):
        pass
    keys = tokens.KeyRing.generate()
    try:
        os.makedirs(app.instance_path, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(tokens.pem_of(keys.signing.private))
        log.warning("ENTITLEMENT_KEYS is not set: generated a development key in %s (never use it in production)",
                    path)
    except FileExistsError:  # another worker wrote it first: use theirs
        with open(path) as fh:
            return tokens.KeyRing.from_pem(fh.read())
    except OSError:
        log.warning("ENTITLEMENT_KEYS is not set and instance/ is not writable: using a key for this process only")
    return keys
