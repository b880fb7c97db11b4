"""Member, Subscription and the membership status history.

Every write of a member row goes through service/members/records.py; payments writes subscriptions
(Stripe's facts about them); campaigns, the paywall and staff read them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.db import Base


class Member(Base):
    """One person, identified by normalised email (one count per person, whatever the Stripe customers).

    `first_paid_at` is the time of the first successful membership payment: the sign-up that counts.
    `ended_at` is set while the membership has ended (canceled and the paid period over, or unpaid) and
    cleared if the person joins again. `first_payment_reversed_at` is set when that first payment was
    fully refunded or lost in a dispute. `token_version` is bumped when membership is lost (cancel,
    refund) or on sign-out everywhere, so older member tokens stop granting access. `plan`, `locale`
    and `source` are attribution from checkout ('' when unknown) and key the campaign roll-ups.

    Trust (service/members/identity.py): `email_verified_at` is when the member first signed in with a
    mailed link; `created_by_customer` the Stripe customer whose checkout created the member (None: made
    otherwise, or before this was recorded); `provisional_until` bounds the access of a member created by
    a checkout claim before any membership webhook. `stripe_customer_id` is the customer of record (what
    the billing portal opens): only the creating customer takes it by itself; another is adopted when
    the member signs in with a link.
    """

    __tablename__ = "members"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    stripe_customer_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    status: Mapped[str] = mapped_column(String(32), default="pending")
    # Facts the campaign counters depend on: active_history loads the old value before a change,
    # so the counter hook can always compute before/after (service/campaigns/counter.py).
    plan: Mapped[str] = mapped_column(String(64), default="", active_history=True)
    locale: Mapped[str] = mapped_column(String(35), default="", active_history=True)
    source: Mapped[str] = mapped_column(String(200), default="", active_history=True)
    first_paid_at: Mapped[datetime | None] = mapped_column(index=True, active_history=True)
    ended_at: Mapped[datetime | None] = mapped_column(active_history=True)
    first_payment_reversed_at: Mapped[datetime | None] = mapped_column(active_history=True)
    token_version: Mapped[int] = mapped_column(default=1)
    email_verified_at: Mapped[datetime | None]
    created_by_customer: Mapped[str | None] = mapped_column(String(255))
    provisional_until: Mapped[datetime | None]
    # Gift facts (service/gifts, 0013): the first redemption of a gift still standing (the joining fact of
    # a member who never paid), when the gift membership ends, and when it did (set once it has passed).
    gift_redeemed_at: Mapped[datetime | None] = mapped_column(index=True, active_history=True)
    gift_until: Mapped[datetime | None] = mapped_column(active_history=True)
    gift_ended_at: Mapped[datetime | None] = mapped_column(active_history=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    subscriptions: Mapped[list[Subscription]] = relationship(back_populates="member")

    def __repr__(self) -> str:
        return f"<Member {self.id} {self.status}>"


class Subscription(Base):
    __tablename__ = "subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    stripe_id: Mapped[str] = mapped_column(String(255), unique=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    status: Mapped[str] = mapped_column(String(32))
    price_id: Mapped[str] = mapped_column(String(255), default="")
    plan: Mapped[str] = mapped_column(String(64), default="")
    current_period_end: Mapped[datetime | None]
    cancel_at_period_end: Mapped[bool] = mapped_column(Boolean, default=False)
    canceled_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # Added by payments (0002): the Stripe customer, the status of the newest snapshot applied and its
    # version (Stripe `created` time and event id), the newest renewal failure, and checkout attribution.
    customer_id: Mapped[str] = mapped_column(String(255), default="", index=True)
    stripe_status: Mapped[str] = mapped_column(String(32), default="")
    last_event_at: Mapped[datetime | None]
    last_event_id: Mapped[str] = mapped_column(String(255), default="")
    payment_failed_at: Mapped[datetime | None]
    stripe_created_at: Mapped[datetime | None]
    campaign: Mapped[str] = mapped_column(String(64), default="")
    locale: Mapped[str] = mapped_column(String(35), default="")
    source: Mapped[str] = mapped_column(String(200), default="")
    reader_id: Mapped[str] = mapped_column(String(255), default="")
    # Added by campaigns (0010): the experiment arm of the checkout (campaigns.models.CONTROL or a variant id).
    variant_id: Mapped[int | None] = mapped_column(default=None)

    member: Mapped[Member] = relationship(back_populates="subscriptions")



class MemberStatusChange(Base):
    """History of a member's membership status (from -> to), with what caused it.

    `at` is when it happened (for payments: the Stripe event's `created`, or the reconciliation time);
    `cause` is the Stripe event id, or `reconcile:<run id>` (the column keeps its name `stripe_event_id`).
    The staff dashboard reads `member_status_changes`; its name and columns are stable.
    """

    __tablename__ = "member_status_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[str] = mapped_column(String(32))
    to_status: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(index=True)
    cause: Mapped[str] = mapped_column("stripe_event_id", String(255), default="")
    recorded_at: Mapped[datetime]
