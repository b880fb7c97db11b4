"""Settings, read from the environment once, when the app is created.

Every setting has a development default, so `make run` needs no set-up. At start (`create_app`, and
gunicorn's master before any worker) `check` refuses what cannot run: an unknown SERVICE_ENV, a URL setting
that is not http(s) (https in production, `service/urls.py`), in production a secret missing or left at its
development default; every problem in one ConfigError, printed without a traceback (exit status 2).
docs/configuration.md is generated from SETTINGS (`python -m service.config_docs`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NamedTuple

import click

from service.urls import http_url

DEV_SECRET = "dev-insecure-secret-change-me"  # noqa: S105 - the development default, refused in production
DEV_WEBHOOK_SECRET = "whsec_dev_insecure"  # noqa: S105
DEV_STRIPE_KEY = "sk_test_dev_insecure"
ENVIRONMENTS = ("development", "test", "production")


class Setting(NamedTuple):
    default: Any
    parse: Callable[[str], Any]  # from the environment's text; ValueError names the problem
    doc: str = ""  # one line for docs/configuration.md


def service_env(value: str) -> str:
    env = value.strip().lower()
    if env not in ENVIRONMENTS:
        raise ValueError(f"must be one of {', '.join(ENVIRONMENTS)}")
    return env


def flag(value: str) -> bool:
    return value.strip().lower() not in ("0", "false", "no", "off")


# name -> Setting(default, parser, meaning). Later features add their settings here, so that
# docs/configuration.md, the parsing and the production check stay in one place.
SETTINGS: dict[str, Setting] = {
    "SERVICE_ENV": Setting(
        "development", service_env,
        "`development`, `test` or `production` (anything else is refused at start); production requires the "
        "secrets below and https URLs"),
    "DATABASE_URL": Setting(
        None, str,
        "SQLAlchemy URL; `postgres://` and `postgresql://` use psycopg 3; empty: the SQLite file "
        "`instance/membership.sqlite3`"),
    "SECRET_KEY": Setting(
        DEV_SECRET, str,
        "Signs sessions, member tokens and reader ids; at least 32 characters in production"),
    "STRIPE_API_KEY": Setting(DEV_STRIPE_KEY, str, "Stripe secret key (`sk_live_...`, or a restricted `rk_live_...`)"),
    "STRIPE_WEBHOOK_SECRET": Setting(
        DEV_WEBHOOK_SECRET, str,
        "Webhook signing secret `whsec_...`; several, comma-separated, while rotating (each is accepted)"),
    "STRIPE_API_BASE": Setting("", str, "Another Stripe API server (the tests' fake Stripe); empty: Stripe itself"),
    "STRIPE_PRICES": Setting(
        "", str,
        "Plans on sale, `plan=price_id` pairs, comma-separated, e.g. `monthly=price_1,yearly=price_2`; "
        "`plan.eur=price_3` prices a plan in another currency; `:flexible` after a price "
        "(`monthly=price_1:flexible`) lets the reader choose the amount"),
    "PLAN_CURRENCY": Setting(
        "usd", str,
        "Currency of STRIPE_PRICES and GIFT_PRICES entries without a `.currency` suffix, and the currency of a"
        " reader whose country's currency is not on sale"),
    "PLAN_MINIMUMS": Setting(
        "usd=500,eur=500,gbp=500,uah=20000", str,
        "Smallest reader-chosen amount per currency, in minor units (`usd=500` is $5.00); the currencies listed"
        " are those flexible plans and one-time contributions are offered in"),
    "PLAN_PRESETS": Setting(
        "", str,
        "Amounts the join page offers for a flexible plan, minor units, e.g. `monthly=500/1000/2500,"
        "monthly.eur=500/1000`; without an entry: 1, 2 and 5 times the minimum"),
    "GIFT_PRICES": Setting(
        "", str,
        "One-time Stripe prices of gift memberships by length in months, e.g. `3=price_a,12=price_b,"
        "12.eur=price_c`; empty: no gifts on sale"),
    "STRIPE_WEBHOOK_TOLERANCE": Setting(
        300, int,
        "Seconds a webhook signature stays valid (older deliveries are refused as replays)"),
    "PUBLIC_BASE_URL": Setting(
        "http://127.0.0.1:5000", str,
        "This service's public URL, used in the links it hands out (https in production)"),
    "SITE_ALLOWED_ORIGINS": Setting(
        "http://127.0.0.1:5000,http://localhost:5000", str,
        "The newsroom site's origins, comma-separated: CORS of the site API, allowed return and redirect URLs"
        " (https in production)"),
    "WIDGET_ALLOWED_ORIGINS": Setting(
        "*", str,
        "Origins that may embed the widget and call its API, comma-separated; `*` for any"),
    "WIDGET_EVENTS_RATE": Setting(
        "120/minute", str,
        "Rate limit of widget beacons per client address (Flask-Limiter syntax, e.g. `120/minute`)"),
    "WIDGET_JS_MAX_AGE": Setting(300, int, "Seconds browsers and CDNs may cache `/widget.js`"),
    "WIDGET_STALE_LIMIT_SECONDS": Setting(
        1800, int,
        "Seconds a count may be stale (database down) before the widget, iframe and fragment stop showing it and "
        "show the appeal without a number (or nothing); a page overrides it with `data-stale-limit`"),
    "MILESTONE_SHOW_DAYS": Setting(
        3, int, "Default number of days a milestone's headline shows after the count crosses it"),
    "PROGRESS_CACHE_SECONDS": Setting(
        2.0, float,
        "Seconds a worker answers the progress document from memory before reading the database again"),
    "PROGRESS_MAX_AGE": Setting(5, int, "`Cache-Control: max-age` of the progress JSON and banner, in seconds"),
    "PROGRESS_STALE_WHILE_REVALIDATE": Setting(
        30, int,
        "`Cache-Control: stale-while-revalidate` of the progress JSON and banner, in seconds"),
    "PROGRESS_SNAPSHOT_DIR": Setting(
        "", str,
        "Folder of the last progress documents, served while the database is down; empty: `instance/progress-"
        "snapshots`; `off`: none"),
    "LOG_LEVEL": Setting("INFO", str, "Level of the root logger: `DEBUG`, `INFO`, `WARNING` or `ERROR`"),
    "RATELIMIT_ENABLED": Setting(True, flag, "Rate limits on; `false`, `0`, `no` or `off` turn every limit off"),
    "RATELIMIT_STORAGE_URI": Setting(
        "memory://", str,
        "Where limit counters live: `memory://` (per process) or `redis://host:6379` (shared by all workers)"),
    # Paywall (service/paywall): access rules, meter, tokens, sign-in mail.
    "GRACE_DAYS": Setting(7, int, "Days a member whose renewal payment failed keeps access"),
    "METER_LIMIT": Setting(3, int, "Member-only articles a reader may open free per meter window"),
    "METER_PERIOD_DAYS": Setting(30, int, "Length of the meter's window, in days"),
    "MEMBER_TOKEN_MAX_AGE_DAYS": Setting(30.0, float, "Days a member token from sign-in or a claim stays valid"),
    "ENTITLEMENT_KEYS": Setting(
        "", str,
        "Ed25519 private key(s), PEM, signing entitlement JWTs: the first signs, all are published in the "
        "JWKS"),
    "ENTITLEMENT_TTL_SECONDS": Setting(600, int, "Seconds an entitlement JWT is valid"),
    "MAGIC_LINK_TTL_MINUTES": Setting(15.0, float, "Minutes a sign-in link stays usable"),
    "MAGIC_LINK_RATE_PER_EMAIL": Setting(
        "5/hour", str, "Sign-in links per e-mail address, counted in the database across workers and hosts "
        "(limits syntax, `;` between several; windows up to a day; empty: no quota)"),
    "MAGIC_LINK_RATE_PER_IP": Setting(
        "20/hour", str,
        "Sign-in link requests per client address (Flask-Limiter syntax)"),
    "CHECKOUT_CLAIM_MAX_AGE_HOURS": Setting(
        24.0, float,
        "Hours after payment a Checkout Session can still be exchanged for a member token"),
    "SMTP_URL": Setting(
        "", str,
        "Mail server: `smtp://host:25`, `smtp+starttls://user:pass@host:587` or `smtps://...`; empty: mail "
        "stays in the outbox table"),
    "SMTP_TIMEOUT": Setting(10.0, float, "Seconds to wait for the mail server"),
    "MAIL_FROM": Setting("Membership <membership@localhost>", str,
                         "From address of member mail (its display name signs the mail)"),
    "MAIL_DISABLED": Setting(
        False, flag,
        "`true`: member mail is written to the outbox but never sent, on purpose; production refuses to start "
        "without SMTP_URL unless this says so"),
    "MEMBER_ACCOUNT_URL": Setting(
        "", str,
        "The site's page where a member signs in and manages their membership (it opens the billing portal, "
        "`POST /v1/billing-portal/sessions`, after sign-in); payment-failed mail links to it; empty: the first "
        "SITE_ALLOWED_ORIGINS origin + `/account` (https in production)"),
    "PAYWALL_CAMPAIGN": Setting(
        "", str,
        "Slug of the campaign whose copy the paywall prompt shows unless an admin chose one on the dashboard "
        "(`/staff/paywall`, per section or for the site); empty: the only running campaign, if exactly one runs"),
    "PAYWALL_JOIN_URL": Setting(
        "", str,
        "Where the paywall prompt leads when the campaign has no call-to-action URL; empty: PUBLIC_BASE_URL +"
        " `/join` (https in production)"),
    "JOIN_PLANS_CACHE_SECONDS": Setting(
        600.0, float,
        "Seconds a worker keeps the plans' amounts and intervals read from Stripe for the join page"),
    "PAYWALL_CACHE_SECONDS": Setting(
        30.0, float,
        "Seconds a worker keeps the section visibility defaults before reading them again"),
    "ACCESS_RATE_LIMIT": Setting(
        "1200/minute", str,
        "Rate limit of `POST /v1/access` per client address (Flask-Limiter syntax)"),
    "ACCESS_MEMBER_CACHE_SECONDS": Setting(5.0, float, "Seconds a worker keeps a member's facts for access decisions"),
    "ACCESS_MEMBER_CACHE_SIZE": Setting(10_000, int, "Members that per-worker cache holds at most"),
    "STAFF_LOGIN_MAX_FAILURES": Setting(5, int, "Failed staff sign-ins in a row before the account is locked"),
    "STAFF_LOCKOUT_MINUTES": Setting(15, int, "Minutes a locked staff account stays locked"),
    "STAFF_LOGIN_RATE_LIMIT": Setting(
        "20 per minute", str,
        "Staff sign-in attempts per client address (Flask-Limiter syntax)"),
    "STAFF_SESSION_HOURS": Setting(12.0, float, "Hours a staff session lasts"),
    "STAFF_DASHBOARD_CACHE_SECONDS": Setting(30.0, float, "Seconds the staff dashboard's aggregates are cached"),
    # Operations (service/ops): limits, proxies, metrics, logs, degradation, body size.
    "RATELIMIT_PROGRESS": Setting(
        "", str,
        "Rate limit of the progress JSON per client address; empty: none (limit it at the edge, see "
        "docs/operations.md)"),
    "RATELIMIT_PUBLIC_WRITE": Setting(
        "120/minute;1200/hour", str,
        "Limit of every write without a limit of its own, per client address"),
    "PROXY_HOPS": Setting(
        0, int,
        "Reverse proxies in front whose X-Forwarded-For and X-Forwarded-Proto are trusted (0: none)"),
    "METRICS_TOKEN": Setting(
        "", str,
        "Bearer token that opens `/metrics` from outside METRICS_ALLOWED_NETWORKS; empty: those networks only"),
    "METRICS_ALLOWED_NETWORKS": Setting(
        "127.0.0.1/32,::1/128", str,
        "Networks (CIDR, comma-separated) that may read `/metrics` without a token"),
    "LOG_FORMAT": Setting("json", str, "`json` (one object per line) or `text`"),
    "LOG_REQUESTS": Setting(
        "except-progress", str,
        "Access lines: `all`, `except-progress`, `errors` (4xx, 5xx and slow requests) or `off`"),
    "ACCESS_FAIL_MODE": Setting(
        "open", str,
        "Access decisions while the database is down: `open` (granted) or `closed` (503)"),
    "DB_RETRY_AFTER": Setting(5, int, "`Retry-After` seconds of a 503 while the database is down"),
    "DB_CONNECT_TIMEOUT": Setting(5, int, "Seconds to wait for a PostgreSQL connection"),
    "HSTS_MAX_AGE": Setting(31_536_000, int, "`Strict-Transport-Security` max-age in production, in seconds"),
    "MAX_CONTENT_LENGTH": Setting(1024 * 1024, int, "Largest request body, in bytes (larger: 413)"),
    # Data rights (service/privacy): erasure and retention (`flask --app service purge`, docs/operations.md).
    "ERASE_STRIPE_CUSTOMER": Setting(
        False, flag,
        "`true`: erasing a member also deletes their Stripe customers (Stripe then cancels their subscriptions)"),
    "ERASURE_LINK_TTL_MINUTES": Setting(60.0, float, "Minutes the mailed link that confirms an erasure stays usable"),
    "RETENTION_METER_READS_DAYS": Setting(
        0, int,
        "Days meter reads are kept; 0: METER_PERIOD_DAYS (the meter needs them that long: less is refused)"),
    "RETENTION_SIGNIN_LINKS_DAYS": Setting(
        30, int, "Days sign-in links (used or not) are kept, then deleted; at least 1 (the sign-in quota reads them)"),
    "RETENTION_MAIL_BODY_DAYS": Setting(
        30, int, "Days the subject and body of mail are kept; then blanked (address, time and state stay)"),
    "RETENTION_WEBHOOK_PAYLOAD_DAYS": Setting(
        90, int,
        "Days the raw body of an applied or ignored Stripe event is kept; then blanked (id, type, outcome stay)"),
    "RETENTION_WIDGET_DAYS": Setting(
        0, int,
        "Days widget impression and click counters are kept; 0: always (they hold no personal data)"),
}

# Settings that must not keep their development default in production (the value: that default).
SECRETS = {
    "SECRET_KEY": DEV_SECRET,
    "STRIPE_API_KEY": DEV_STRIPE_KEY,
    "STRIPE_WEBHOOK_SECRET": DEV_WEBHOOK_SECRET,
    "ENTITLEMENT_KEYS": "",  # Ed25519 PEM key(s); without them entitlements would not survive a restart
}
MIN_SECRET_KEY_LENGTH = 32
# URL settings checked with service.urls.http_url (https in production): name -> (a list?, may be empty?)
URL_SETTINGS = {
    "PUBLIC_BASE_URL": (False, False),
    "PAYWALL_JOIN_URL": (False, True),
    "MEMBER_ACCOUNT_URL": (False, True),
    "STRIPE_API_BASE": (False, True),
    "SITE_ALLOWED_ORIGINS": (True, True),
    "WIDGET_ALLOWED_ORIGINS": (True, True),  # `*`: any origin
}


class ConfigError(click.ClickException, RuntimeError):
    """The configuration cannot run the service (raised at start-up, naming every problem). A
    ClickException, so that the `flask` CLI prints the message, not a traceback, and exits 2."""

    exit_code = 2

    def __init__(self, problems: str | list[str]) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        if len(self.problems) == 1:
            message = self.problems[0]
        else:
            message = f"{len(self.problems)} problems with the configuration:\n" + "\n".join(
                f"  - {p}" for p in self.problems)
        super().__init__(message)


def from_environment(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Every setting from the environment (its default when unset or empty); all values that do not
    parse are named in one ConfigError."""
    environ = os.environ if environ is None else environ
    settings: dict[str, Any] = {}
    problems = []
    for name, entry in SETTINGS.items():
        default, parse = entry[0], entry[1]
        raw = environ.get(name)
        if raw is None or raw == "":
            settings[name] = default
            continue
        try:
            settings[name] = parse(raw)
        except ValueError as exc:
            shown = "(hidden)" if name in SECRETS else repr(raw)
            problems.append(f"{name}={shown} is not valid: {exc}")
    if problems:
        raise ConfigError(problems)
    return settings


def finalize(settings: dict[str, Any], instance_path: str) -> dict[str, Any]:
    """Derive the Flask/SQLAlchemy settings and `check` the whole configuration."""
    url = settings.get("DATABASE_URL") or f"sqlite:///{Path(instance_path) / 'membership.sqlite3'}"
    if url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgres://")
    elif url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    settings["DATABASE_URL"] = url
    settings["SQLALCHEMY_DATABASE_URI"] = url
    settings.setdefault("SQLALCHEMY_ENGINE_OPTIONS", engine_options(url, settings.get("DB_CONNECT_TIMEOUT") or 5))
    check(settings)
    return settings


def engine_options(url: str, connect_timeout: int = 5) -> dict[str, Any]:
    if url.startswith("sqlite"):
        # Writers wait for each other (busy timeout) instead of failing with "database is locked".
        return {"connect_args": {"timeout": 15, "check_same_thread": False}}
    # connect_timeout: an unreachable server fails a request in seconds (degraded answers), not minutes.
    return {"pool_pre_ping": True, "pool_size": 5, "max_overflow": 5, "pool_timeout": 5,
            "connect_args": {"connect_timeout": connect_timeout}}


def check_environment(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The settings of this environment, checked (gunicorn's master calls it before forking workers)."""
    settings = from_environment(environ)
    check(settings)
    return settings


def check(settings: Mapping[str, Any]) -> None:
    """One ConfigError naming every problem: SERVICE_ENV, URL settings and, in production, secrets."""
    env = settings.get("SERVICE_ENV", "development")
    if env not in ENVIRONMENTS:
        raise ConfigError(f"SERVICE_ENV={env!r} is not valid: must be one of {', '.join(ENVIRONMENTS)}")
    production = env == "production"
    problems = url_problems(settings, require_https=production)
    if production:
        problems = secret_problems(settings) + problems + mail_problems(settings)
    if problems:
        raise ConfigError(problems)


def check_production(settings: Mapping[str, Any]) -> None:
    """`check` as if SERVICE_ENV were production."""
    check({**settings, "SERVICE_ENV": "production"})


def secret_problems(settings: Mapping[str, Any]) -> list[str]:
    """Each secret missing, left at its development default or unfit for production (values never shown)."""
    problems = []
    for name, dev_default in SECRETS.items():
        value = str(settings.get(name) or "").strip()
        if name == "STRIPE_WEBHOOK_SECRET" and value:
            problems += webhook_secret_problems(value)
        elif not value:
            problems.append(f"{name} is not set; it is required when SERVICE_ENV=production")
        elif value == dev_default:
            problems.append(f"{name} still has its development default; set a real secret for production")
        elif name == "SECRET_KEY" and len(value) < MIN_SECRET_KEY_LENGTH:
            problems.append(f"SECRET_KEY is too short for production (at least {MIN_SECRET_KEY_LENGTH} characters)")
    return problems


def mail_problems(settings: Mapping[str, Any]) -> list[str]:
    """Production sends member mail through SMTP_URL, or says with MAIL_DISABLED=true that it must not."""
    if "SMTP_URL" not in settings or str(settings.get("SMTP_URL") or "").strip() or settings.get("MAIL_DISABLED"):
        return []
    return ["SMTP_URL is not set: member mail (sign-in links, welcome, payment failed) would never leave the "
            "outbox; set SMTP_URL, or MAIL_DISABLED=true to run without mail on purpose"]


def webhook_secret_problems(value: str) -> list[str]:
    """STRIPE_WEBHOOK_SECRET holds one secret or several (comma-separated, while rotating): each one,
    trimmed, must be set, start with `whsec_` and not be the development default."""
    entries = [part.strip() for part in value.split(",")]
    several = len(entries) > 1
    problems = []
    for number, entry in enumerate(entries, 1):
        which = f"STRIPE_WEBHOOK_SECRET entry {number} of {len(entries)}" if several else "STRIPE_WEBHOOK_SECRET"
        if not entry:
            problems.append(f"{which} is empty (remove the extra comma)")
        elif entry == DEV_WEBHOOK_SECRET:
            problems.append(f"{which} still has its development default; set the endpoint's signing secret")
        elif not entry.startswith("whsec_"):
            problems.append(f"{which} does not start with whsec_ (Stripe's webhook signing secrets do)")
    return problems


def url_problems(settings: Mapping[str, Any], *, require_https: bool) -> list[str]:
    problems = []
    for name, (is_list, optional) in URL_SETTINGS.items():
        if name not in settings:  # a partial mapping (a test's); create_app always has every setting
            continue
        value = str(settings.get(name) or "").strip()
        values = csv(value) if is_list else [value] if value else []
        if not values and not optional:
            problems.append(f"{name} is not set; give an absolute URL such as https://example.org")
        for item in values:
            if item == "*" and name == "WIDGET_ALLOWED_ORIGINS":
                continue
            try:
                http_url(item, require_https=require_https)
            except ValueError as exc:
                where = f"{name} entry {item!r}" if is_list else f"{name}={item!r}"
                problems.append(f"{where}: {exc}")
    return problems


def csv(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]
