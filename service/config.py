"""Settings, read from the environment once, when the app is created.

Every setting has a development default so that `make run` works with no set-up; with
`SERVICE_ENV=production` the secrets below must be set to real values or the app refuses to
start and names the missing one.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

DEV_SECRET = "dev-insecure-secret-change-me"  # noqa: S105 - the development default, refused in production
DEV_WEBHOOK_SECRET = "whsec_dev_insecure"  # noqa: S105
DEV_STRIPE_KEY = "sk_test_dev_insecure"

# name -> (default, parser). Later features add their settings here, so that the README table,
# the parsing and the production check stay in one place.
SETTINGS: dict[str, tuple[Any, Any]] = {
    "SERVICE_ENV": ("development", str),
    "DATABASE_URL": (None, str),  # None: SQLite under instance/
    "SECRET_KEY": (DEV_SECRET, str),
    "STRIPE_API_KEY": (DEV_STRIPE_KEY, str),
    "STRIPE_WEBHOOK_SECRET": (DEV_WEBHOOK_SECRET, str),
    "STRIPE_API_BASE": ("", str),
    "STRIPE_PRICES": ("", str),
    "STRIPE_WEBHOOK_TOLERANCE": (300, int),  # seconds a webhook signature stays valid
    "PUBLIC_BASE_URL": ("http://127.0.0.1:5000", str),
    "SITE_ALLOWED_ORIGINS": ("http://127.0.0.1:5000,http://localhost:5000", str),
    "WIDGET_ALLOWED_ORIGINS": ("*", str),
    "WIDGET_EVENTS_RATE": ("120/minute", str),
    "WIDGET_JS_MAX_AGE": (300, int),
    "PROGRESS_CACHE_SECONDS": (2.0, float),
    "PROGRESS_MAX_AGE": (5, int),
    "PROGRESS_STALE_WHILE_REVALIDATE": (30, int),
    "LOG_LEVEL": ("INFO", str),
    "RATELIMIT_ENABLED": (True, lambda v: v.strip().lower() not in ("0", "false", "no", "off")),
    "RATELIMIT_STORAGE_URI": ("memory://", str),
    # Paywall (service/paywall): access rules, meter, tokens, sign-in mail.
    "GRACE_DAYS": (7, int),
    "METER_LIMIT": (3, int),
    "METER_PERIOD_DAYS": (30, int),
    "MEMBER_TOKEN_MAX_AGE_DAYS": (30.0, float),
    "ENTITLEMENT_KEYS": ("", str),
    "ENTITLEMENT_TTL_SECONDS": (600, int),
    "MAGIC_LINK_TTL_MINUTES": (15.0, float),
    "MAGIC_LINK_RATE_PER_EMAIL": ("5/hour", str),
    "MAGIC_LINK_RATE_PER_IP": ("20/hour", str),
    "CHECKOUT_CLAIM_MAX_AGE_HOURS": (24.0, float),
    "SMTP_URL": ("", str),
    "SMTP_TIMEOUT": (10.0, float),
    "MAIL_FROM": ("Membership <membership@localhost>", str),
    "PAYWALL_CAMPAIGN": ("", str),
    "PAYWALL_JOIN_URL": ("", str),
    "PAYWALL_CACHE_SECONDS": (30.0, float),
    "ACCESS_RATE_LIMIT": ("1200/minute", str),
    "ACCESS_MEMBER_CACHE_SECONDS": (5.0, float),
    "ACCESS_MEMBER_CACHE_SIZE": (10_000, int),
    "STAFF_LOGIN_MAX_FAILURES": (5, int),
    "STAFF_LOCKOUT_MINUTES": (15, int),
    "STAFF_LOGIN_RATE_LIMIT": ("20 per minute", str),
    "STAFF_SESSION_HOURS": (12.0, float),
    "STAFF_DASHBOARD_CACHE_SECONDS": (30.0, float),
    # Operations (service/ops): limits, proxies, metrics, logs, degradation, body size.
    "RATELIMIT_PROGRESS": ("", str),  # off: limit the hot progress JSON at the edge (see README)
    "RATELIMIT_PUBLIC_WRITE": ("120/minute;1200/hour", str),
    "PROXY_HOPS": (0, int),
    "METRICS_TOKEN": ("", str),
    "METRICS_ALLOWED_NETWORKS": ("127.0.0.1/32,::1/128", str),
    "LOG_FORMAT": ("json", str),
    "LOG_REQUESTS": ("except-progress", str),  # all | except-progress | errors | off
    "ACCESS_FAIL_MODE": ("open", str),
    "DB_RETRY_AFTER": (5, int),
    "DB_CONNECT_TIMEOUT": (5, int),
    "HSTS_MAX_AGE": (31_536_000, int),
    "MAX_CONTENT_LENGTH": (1024 * 1024, int),
}

# Settings that must not keep their development default in production.
SECRETS = {
    "SECRET_KEY": DEV_SECRET,
    "STRIPE_API_KEY": DEV_STRIPE_KEY,
    "STRIPE_WEBHOOK_SECRET": DEV_WEBHOOK_SECRET,
    "ENTITLEMENT_KEYS": "",  # Ed25519 PEM key(s); without them entitlements would not survive a restart
}


class ConfigError(RuntimeError):
    """The configuration cannot run the service (raised at start-up, with the setting named)."""


def from_environment(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    environ = os.environ if environ is None else environ
    settings: dict[str, Any] = {}
    for name, (default, parse) in SETTINGS.items():
        raw = environ.get(name)
        if raw is None or raw == "":
            settings[name] = default
            continue
        try:
            settings[name] = parse(raw)
        except ValueError as exc:
            raise ConfigError(f"{name}={raw!r} is not valid: {exc}") from exc
    return settings


def finalize(settings: dict[str, Any], instance_path: str) -> dict[str, Any]:
    """Derive the Flask/SQLAlchemy settings and check production secrets."""
    url = settings.get("DATABASE_URL") or f"sqlite:///{Path(instance_path) / 'membership.sqlite3'}"
    if url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgres://")
    elif url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    settings["DATABASE_URL"] = url
    settings["SQLALCHEMY_DATABASE_URI"] = url
    settings.setdefault("SQLALCHEMY_ENGINE_OPTIONS", engine_options(url, settings.get("DB_CONNECT_TIMEOUT") or 5))
    if settings.get("SERVICE_ENV") == "production":
        check_production(settings)
    return settings


def engine_options(url: str, connect_timeout: int = 5) -> dict[str, Any]:
    if url.startswith("sqlite"):
        # Writers wait for each other (busy timeout) instead of failing with "database is locked".
        return {"connect_args": {"timeout": 15, "check_same_thread": False}}
    # connect_timeout: an unreachable server fails a request in seconds (degraded answers), not minutes.
    return {"pool_pre_ping": True, "pool_size": 5, "max_overflow": 5, "pool_timeout": 5,
            "connect_args": {"connect_timeout": connect_timeout}}


def check_production(settings: Mapping[str, Any]) -> None:
    for name, dev_default in SECRETS.items():
        value = settings.get(name)
        if not value:
            raise ConfigError(f"{name} is not set; it is required when SERVICE_ENV=production")
        if value == dev_default:
            raise ConfigError(f"{name} still has its development default; set a real secret for production")
        if name == "SECRET_KEY" and len(str(value)) < 32:  # checked here so the order of SECRETS decides
            raise ConfigError("SECRET_KEY is too short for production (at least 32 characters)")


def csv(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]
