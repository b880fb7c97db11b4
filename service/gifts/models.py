"""The gifts table: one row per paid gift membership Checkout Session."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base


class Gift(Base):
    """A gift membership: bought with a payment-mode Checkout (metadata `kind: gift`), recorded once per
    Checkout Session from `checkout.session.completed`.

    The code that redeems it is a bearer secret: it is made when the gift is mailed to the recipient and
    only its SHA-256 (`code_hash`) is stored (a re-send makes a new code, and the old link stops working).
    `delivered_at` is set in the transaction that mails the code (once per delivery); `redeemed_at`,
    `member_id`, `starts_at` and `ends_at` when the recipient redeems it (once: an atomic update);
    `refunded_at` when its payment was refunded (by staff, or a `charge.refunded` webhook): a refunded
    gift cannot be redeemed, and a redeemed one that is refunded no longer grants its months.
    """

    __tablename__ = "gifts"

    id: Mapped[int] = mapped_column(primary_key=True)
    checkout_session_id: Mapped[str] = mapped_column(String(255), unique=True)
    payment_intent: Mapped[str] = mapped_column(String(255), default="", index=True)
    buyer_customer: Mapped[str] = mapped_column(String(255), default="")
    buyer_email: Mapped[str] = mapped_column(String(320), default="")
    buyer_name: Mapped[str] = mapped_column(String(200), default="")
    recipient_email: Mapped[str] = mapped_column(String(320))
    recipient_name: Mapped[str] = mapped_column(String(200), default="")
    message: Mapped[str] = mapped_column(Text, default="")
    months: Mapped[int]
    deliver_on: Mapped[date] = mapped_column(index=True)
    locale: Mapped[str] = mapped_column(String(35), default="")
    amount: Mapped[int] = mapped_column(BigInteger, default=0)  # minor units of `currency`
    currency: Mapped[str] = mapped_column(String(3), default="")
    campaign: Mapped[str] = mapped_column(String(64), default="")  # where it was bought (attribution only)
    purchased_at: Mapped[datetime]
    code_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    delivered_at: Mapped[datetime | None]
    deliveries: Mapped[int] = mapped_column(default=0)
    redeemed_at: Mapped[datetime | None]
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), index=True)
    starts_at: Mapped[datetime | None]
    ends_at: Mapped[datetime | None]
    refunded_at: Mapped[datetime | None]
    refund_id: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    @property
    def state(self) -> str:
        """refunded | redeemed | delivered | pending (bought, not mailed yet)."""
        if self.refunded_at is not None:
            return "refunded"
        if self.redeemed_at is not None:
            return "redeemed"
        return "delivered" if self.delivered_at is not None else "pending"
