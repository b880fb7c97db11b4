"""Gift rules (pure: no Flask, no database): what a paid gift checkout says, the code, and the gift period.

- A gift is a payment-mode Checkout Session this service started with metadata `kind: gift` (keys
  `campaign`, `gift_months`, `gift_recipient_email`, `gift_deliver_on` YYYY-MM-DD, and optionally
  `gift_recipient_name`, `gift_message`, `locale`), complete and paid.
- The code is a bearer secret (it makes its holder a member): 144 random bits, mailed to the recipient;
  only its SHA-256 is stored.
- Gift months run from redemption, or, for someone already a member, from the end of what they have:
  after their gift period still running, and after the paid period their running subscription has
  reached (the gift does not pause a subscription: a member who keeps paying gets the gift months after
  the paid period they had when they redeemed it).
"""

from __future__ import annotations

import calendar
import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

MAX_MONTHS = 36  # the checkout offers 3, 6 and 12; anything in 1..36 that Stripe says was paid is honoured
CODE_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
PAID = ("paid", "no_payment_required")


@dataclass(frozen=True)
class Purchase:
    """What a paid gift checkout says (amount in minor units of `currency`)."""

    checkout_session_id: str
    payment_intent: str
    buyer_customer: str
    buyer_email: str
    buyer_name: str
    recipient_email: str
    recipient_name: str
    message: str
    months: int
    deliver_on: date
    locale: str
    amount: int
    currency: str
    campaign: str


def _ref(value: Any) -> str:
    return str(value.get("id") or "") if isinstance(value, dict) else str(value or "")


def is_gift_checkout(cs: dict[str, Any]) -> bool:
    metadata = cs.get("metadata") if isinstance(cs.get("metadata"), dict) else {}
    return metadata.get("kind") == "gift" and cs.get("mode") == "payment"


def purchase_of(cs: dict[str, Any], at: datetime) -> Purchase | None:
    """The gift a completed, paid gift Checkout Session bought; None when it is not one or says too little
    to deliver (no recipient address, months out of range). `at`: the event's time (default delivery day)."""
    if not is_gift_checkout(cs) or cs.get("status") != "complete" or cs.get("payment_status") not in PAID:
        return None
    md = cs["metadata"]
    email = str(md.get("gift_recipient_email") or "").strip().lower()
    try:
        months = int(str(md.get("gift_months") or ""))
    except ValueError:
        return None
    if "@" not in email or len(email) > 320 or not 1 <= months <= MAX_MONTHS or not cs.get("id"):
        return None
    details = cs.get("customer_details") if isinstance(cs.get("customer_details"), dict) else {}
    buyer = str(details.get("email") or cs.get("customer_email") or "").strip().lower()
    return Purchase(
        checkout_session_id=str(cs["id"])[:255], payment_intent=_ref(cs.get("payment_intent"))[:255],
        buyer_customer=_ref(cs.get("customer"))[:255], buyer_email=buyer[:320],
        buyer_name=str(details.get("name") or "")[:200], recipient_email=email,
        recipient_name=str(md.get("gift_recipient_name") or "")[:200], message=str(md.get("gift_message") or "")[:1000],
        months=months, deliver_on=parse_day(md.get("gift_deliver_on")) or at.date(),
        locale=str(md.get("locale") or "")[:35], amount=int(cs.get("amount_total") or 0),
        currency=str(cs.get("currency") or "")[:3].lower(), campaign=str(md.get("campaign") or "")[:64])


def parse_day(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value or ""))
    except ValueError:
        return None


def new_code() -> str:
    return secrets.token_urlsafe(18)  # 144 bits, 24 URL-safe characters


def code_hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def well_formed(code: str | None) -> bool:
    return bool(code) and CODE_RE.match(code or "") is not None


def add_months(when: datetime, months: int) -> datetime:
    """The same time `months` calendar months later (the 31st becomes the month's last day)."""
    index = when.month - 1 + months
    year, month = when.year + index // 12, index % 12 + 1
    return when.replace(year=year, month=month, day=min(when.day, calendar.monthrange(year, month)[1]))


def gift_period(now: datetime, months: int, gift_until: datetime | None, paid_until: datetime | None
                ) -> tuple[datetime, datetime]:
    """(starts_at, ends_at) of a gift redeemed now by someone whose gift runs until `gift_until` and whose
    running subscription is paid until `paid_until` (None: nothing running)."""
    start = max(t for t in (now, gift_until, paid_until) if t is not None)
    return start, add_months(start, months)


def is_due(deliver_on: date, today: date) -> bool:
    """A gift is mailed on its delivery day, or at once when that day is today or past."""
    return deliver_on <= today
