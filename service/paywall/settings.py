"""The paywall's settings (its slice of app.config, parsed once at start-up) and a per-process TTL value."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from service import urls
from service.paywall import quota


@dataclass(frozen=True)
class Settings:
    """The paywall's slice of app.config, parsed once at start-up."""

    secret: str
    grace_days: int
    meter_limit: int
    meter_period_days: int
    member_token_max_age: timedelta
    entitlement_ttl: timedelta
    magic_link_ttl: timedelta
    checkout_claim_max_age: timedelta
    allowed_origins: tuple[str, ...]
    public_base_url: str
    join_url: str
    campaign_slug: str
    smtp_url: str
    mail_from: str
    smtp_timeout: float
    cache_seconds: float
    member_cache_seconds: float
    member_cache_size: int
    signin_quota: quota.Quota = ()  # MAGIC_LINK_RATE_PER_EMAIL, kept in the database (paywall/quota.py)

    @classmethod
    def from_config(cls, cfg: Any) -> Settings:
        origins = tuple(o for o in (urls.origin(x) for x in str(cfg["SITE_ALLOWED_ORIGINS"]).split(",")) if o)
        base = str(cfg["PUBLIC_BASE_URL"]).rstrip("/")
        return cls(
            secret=str(cfg["SECRET_KEY"]), grace_days=int(cfg["GRACE_DAYS"]), meter_limit=int(cfg["METER_LIMIT"]),
            meter_period_days=int(cfg["METER_PERIOD_DAYS"]),
            member_token_max_age=timedelta(days=float(cfg["MEMBER_TOKEN_MAX_AGE_DAYS"])),
            entitlement_ttl=timedelta(seconds=int(cfg["ENTITLEMENT_TTL_SECONDS"])),
            magic_link_ttl=timedelta(minutes=float(cfg["MAGIC_LINK_TTL_MINUTES"])),
            checkout_claim_max_age=timedelta(hours=float(cfg["CHECKOUT_CLAIM_MAX_AGE_HOURS"])),
            allowed_origins=origins, public_base_url=base,
            join_url=str(cfg["PAYWALL_JOIN_URL"]) or base + "/join", campaign_slug=str(cfg["PAYWALL_CAMPAIGN"]),
            smtp_url=str(cfg["SMTP_URL"]), mail_from=str(cfg["MAIL_FROM"]), smtp_timeout=float(cfg["SMTP_TIMEOUT"]),
            cache_seconds=float(cfg["PAYWALL_CACHE_SECONDS"]),
            member_cache_seconds=float(cfg["ACCESS_MEMBER_CACHE_SECONDS"]),
            member_cache_size=int(cfg["ACCESS_MEMBER_CACHE_SIZE"]),
            signin_quota=quota.parse(str(cfg["MAGIC_LINK_RATE_PER_EMAIL"])),
        )


class TTLValue:
    """One value per process, reloaded every `ttl` seconds (section defaults, the paywall's campaign)."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._value: Any = None
        self._expires = 0.0
        self._lock = threading.Lock()

    def get(self, load: Callable[[], Any]) -> Any:
        if time.monotonic() < self._expires:
            return self._value
        with self._lock:
            if time.monotonic() >= self._expires:
                self._value = load()
                self._expires = time.monotonic() + self.ttl
        return self._value

    def clear(self) -> None:
        self._expires = 0.0
