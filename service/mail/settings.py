"""The mail package's slice of app.config, parsed once at start-up."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from email.utils import parseaddr
from typing import Any

from service import urls
from service.config import csv

MAX_ATTEMPTS = 8  # temporary failures retried with back-off: 1, 2, 4, ... 64 minutes (about 2 hours in all)
FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=1)


@dataclass(frozen=True)
class MailSettings:
    smtp_url: str
    mail_from: str
    smtp_timeout: float
    disabled: bool
    public_base_url: str
    join_url: str
    account_url: str
    grace_days: int
    max_attempts: int = MAX_ATTEMPTS

    @property
    def sending(self) -> bool:
        """Whether mail leaves the outbox (an SMTP server is set and mail is not switched off)."""
        return bool(self.smtp_url) and not self.disabled

    @property
    def sender_name(self) -> str:
        """The display name of MAIL_FROM: who signs the mail."""
        return parseaddr(self.mail_from)[0] or "Membership"

    @property
    def lease(self) -> timedelta:
        """How long a sender may hold a mail before another may take it (well over one SMTP exchange)."""
        return timedelta(seconds=max(60.0, 6 * self.smtp_timeout))

    @classmethod
    def from_config(cls, cfg: Any) -> MailSettings:
        base = str(cfg["PUBLIC_BASE_URL"]).rstrip("/")
        site = next((o for o in (urls.origin(x) for x in csv(str(cfg.get("SITE_ALLOWED_ORIGINS") or ""))) if o), base)
        return cls(smtp_url=str(cfg["SMTP_URL"]), mail_from=str(cfg["MAIL_FROM"]),
                   smtp_timeout=float(cfg["SMTP_TIMEOUT"]), disabled=bool(cfg["MAIL_DISABLED"]),
                   public_base_url=base, join_url=str(cfg["PAYWALL_JOIN_URL"]) or base + "/join",
                   account_url=str(cfg["MEMBER_ACCOUNT_URL"]) or site + "/account",
                   grace_days=int(cfg["GRACE_DAYS"]))
