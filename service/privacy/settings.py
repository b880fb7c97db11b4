"""Privacy settings, parsed once at app creation: erasure and retention ages (service/config.py documents them)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any


@dataclass(frozen=True)
class Retention:
    """Ages after which `flask purge` removes data; None: kept."""

    meter_reads: timedelta
    signin_links: timedelta
    mail_bodies: timedelta
    webhook_payloads: timedelta
    widget_counters: timedelta | None


@dataclass(frozen=True)
class PrivacySettings:
    erase_stripe_customer: bool
    erasure_link_ttl: timedelta
    retention: Retention


def _days(config: Mapping[str, Any], name: str, minimum: int) -> int:
    value = int(config.get(name) or 0)
    if value < minimum:
        raise ValueError(f"{name}={value} is too small: at least {minimum}")
    return value


def settings_from(config: Mapping[str, Any]) -> PrivacySettings:
    """Raises ValueError naming a setting that cannot work (e.g. meter reads kept shorter than the meter)."""
    period = int(config.get("METER_PERIOD_DAYS") or 30)
    meter = int(config.get("RETENTION_METER_READS_DAYS") or 0) or period
    if meter < period:
        raise ValueError(f"RETENTION_METER_READS_DAYS={meter} is shorter than METER_PERIOD_DAYS={period}: "
                         "the meter would forget reads it still counts")
    widget = _days(config, "RETENTION_WIDGET_DAYS", 0)
    return PrivacySettings(
        erase_stripe_customer=bool(config.get("ERASE_STRIPE_CUSTOMER")),
        erasure_link_ttl=timedelta(minutes=float(config.get("ERASURE_LINK_TTL_MINUTES") or 60)),
        retention=Retention(
            meter_reads=timedelta(days=meter),
            signin_links=timedelta(days=_days(config, "RETENTION_SIGNIN_LINKS_DAYS", 1)),
            mail_bodies=timedelta(days=_days(config, "RETENTION_MAIL_BODY_DAYS", 0)),
            webhook_payloads=timedelta(days=_days(config, "RETENTION_WEBHOOK_PAYLOAD_DAYS", 0)),
            widget_counters=timedelta(days=widget) if widget else None,
        ),
    )
