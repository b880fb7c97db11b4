"""Test data builders. They flush, never commit, unless a test commits itself."""

from __future__ import annotations

import itertools
from datetime import date, datetime

from service.campaigns import services
from service.campaigns.models import Campaign
from service.members.models import Member

_seq = itertools.count(1)


def campaign(session, now: datetime, *, slug: str = "members-25k", goal: int = 25_000,
             starts: date = date(2025, 1, 1), ends: date = date(2025, 12, 31), timezone: str = "UTC",
             count_mode: str = "net", locale: str = "en", title: str = "Drive") -> Campaign:
    return services.create_campaign(session, slug=slug, title=title, goal=goal, starts=starts, ends=ends,
                                    timezone=timezone, locale=locale, count_mode=count_mode, now=now)


def member(session, now: datetime, *, email: str | None = None, first_paid_at: datetime | None = None,
           ended_at: datetime | None = None, reversed_at: datetime | None = None, status: str = "active",
           plan: str = "monthly", locale: str = "en", source: str = "") -> Member:
    m = Member(email=email or f"reader{next(_seq)}@example.org", status=status, plan=plan, locale=locale,
               source=source, first_paid_at=first_paid_at, ended_at=ended_at,
               first_payment_reversed_at=reversed_at, created_at=now, updated_at=now)
    session.add(m)
    session.flush()
    return m


def subscription(session, now: datetime, member: Member, *, status: str = "active",
                 current_period_end: datetime | None = None, cancel_at_period_end: bool = False,
                 plan: str = "monthly", stripe_id: str | None = None):
    from service.members.models import Subscription

    s = Subscription(stripe_id=stripe_id or f"sub_test_{next(_seq)}", member_id=member.id, status=status,
                     plan=plan, current_period_end=current_period_end, cancel_at_period_end=cancel_at_period_end,
                     created_at=now, updated_at=now)
    session.add(s)
    session.flush()
    session.expire(member, ["subscriptions"])
    return s
