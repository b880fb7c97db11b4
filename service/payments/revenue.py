"""Money received over a window, per currency, never summed across currencies (read side; no Flask).

- Memberships: paid membership invoices (`membership_invoices`, amount > 0) whose payment time falls in the
  window, renewals included; `refunded` is the part of it whose payment was later fully refunded or lost
  in a dispute (`stripe_payments`).
- Contributions: one-time contributions paid in the window; `refunded` likewise.

Amounts are integers in the currency's minor units (money.exponent); `shown` is a display string.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import case, exists, func, select
from sqlalchemy.orm import Session

from service.payments import money
from service.payments.models import Contribution, MembershipInvoice, StripePayment


def _rows(rows: Any, locale: str) -> list[dict[str, Any]]:
    out = []
    for currency, payments, amount, refunded in rows:
        amount, refunded = int(amount or 0), int(refunded or 0)
        out.append({"currency": currency or "", "payments": int(payments or 0), "amount": amount,
                    "refunded": refunded, "net": amount - refunded,
                    "shown": money.format_amount(amount - refunded, currency or "usd", locale),
                    "refunded_shown": money.format_amount(refunded, currency or "usd", locale)})
    return sorted(out, key=lambda r: (-r["payments"], r["currency"]))


def memberships(session: Session, starts: datetime, ends: datetime, locale: str = "en") -> list[dict[str, Any]]:
    """Paid membership invoices in [starts, ends) per currency."""
    t = MembershipInvoice
    reversed_ = exists().where(StripePayment.invoice_id == t.invoice_id, StripePayment.reversed_at.is_not(None))
    rows = session.execute(
        select(t.currency, func.count(t.id), func.sum(t.amount_paid),
               func.sum(case((reversed_, t.amount_paid), else_=0)))
        .where(t.paid_at >= starts, t.paid_at < ends).group_by(t.currency))
    return _rows(rows, locale)


def contributions(session: Session, starts: datetime, ends: datetime, locale: str = "en") -> list[dict[str, Any]]:
    """One-time contributions paid in [starts, ends) per currency."""
    t = Contribution
    rows = session.execute(
        select(t.currency, func.count(t.id), func.sum(t.amount),
               func.sum(case((t.reversed_at.is_not(None), t.amount), else_=0)))
        .where(t.paid_at >= starts, t.paid_at < ends).group_by(t.currency))
    return _rows(rows, locale)
