"""Demo sign-ups: N realistic members spread over a campaign, so a new install shows a living dashboard.

The shape of a drive: a launch spike that decays over the first weeks, a weekly rhythm (quiet
weekends), a slow rise toward the deadline and a final push in its last days; about 8% of members
later cancel. Rows go in with bulk INSERTs (members/records.py insert_many: Core executemany, in
batches), bypassing the ORM's per-row flush hook, so the campaign's counters are rebuilt with
`count_storage.recount()` at the end.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from itertools import accumulate

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.campaigns import count_storage
from service.campaigns.models import Campaign
from service.errors import Invalid
from service.members import records
from service.members.models import Member

EMAIL_DOMAIN = "example.invalid"
SEEDED_SOURCE = "seeded"  # every seeded sign-up's source starts with it: the dashboard keeps them out of the funnel
BATCH = 25_000
ENDED_SHARE = 0.08
PLANS = (("monthly", 0.72), ("yearly", 0.28))
LOCALES = (("en", 0.64), ("uk", 0.36))
SOURCES = (
    ("newsletter", 0.22), ("article:/investigations/city-budget", 0.14), ("article:/explainers/elections", 0.10),
    ("article:/climate/river-report", 0.07), ("article:/culture/festival-diary", 0.05),
    ("referrer:social", 0.12), ("referrer:search", 0.09), ("referrer:partner-site", 0.04),
    ("homepage", 0.10), ("", 0.07),
)


def day_weights(first: datetime, days: int, total_days: int) -> list[float]:
    """Relative sign-ups per day: launch spike, weekly rhythm, rise to the deadline, final push."""
    weights = []
    for i in range(days):
        day = first + timedelta(days=i)
        launch = 6.0 * math.exp(-i / 6.0)
        rise = 0.6 * i / max(1, total_days)
        push = 4.0 * math.exp(-(total_days - 1 - i) / 4.0)
        weekly = (1.0, 1.05, 1.0, 0.95, 0.9, 0.6, 0.55)[day.weekday()]
        weights.append((1.0 + launch + rise + push) * weekly)
    return weights


def _pick(rng: random.Random, table: tuple[tuple[str, float], ...], k: int) -> list[str]:
    return rng.choices([v for v, _ in table], weights=[w for _, w in table], k=k)


def rows(campaign: Campaign, n: int, now: datetime, start_number: int = 1,
         seed: int = 2025) -> Iterator[list[dict]]:
    """Batches of member rows (plain dicts for a Core insert), first paid from the campaign's start to now.

    Rows come in time order (how many on each day first, then each day's times sorted), with emails
    numbered in the same order and zero-padded: the first_paid_at and email indexes then only grow
    at their end, which makes a million inserts markedly cheaper than in random order."""
    rng = random.Random(seed + start_number)  # noqa: S311 - demo data, reproducible, not secret
    starts = campaign.starts_at
    until = min(now, campaign.ends_at)
    span_s = (until - starts).total_seconds()
    days = max(1, math.ceil(span_s / 86400))
    total_days = max(days, math.ceil((campaign.ends_at - starts).total_seconds() / 86400))
    per_day = Counter(rng.choices(range(days), cum_weights=list(accumulate(day_weights(starts, days, total_days))),
                                  k=n))
    number = start_number
    batch: list[dict] = []
    for day in range(days):
        k = per_day.get(day, 0)
        if not k:
            continue
        day_start = day * 86400
        width = min(86400.0, span_s - day_start)
        for offset in sorted(day_start + rng.random() * width for _ in range(k)):
            paid = starts + timedelta(seconds=offset)
            ended = None
            if rng.random() < ENDED_SHARE:
                ended = paid + timedelta(days=rng.uniform(3, 120))
                if ended >= now:
                    ended = None
            batch.append({"email": f"seed-{number:07d}@{EMAIL_DOMAIN}", "status": "canceled" if ended else "active",
                          "first_paid_at": paid, "ended_at": ended, "token_version": 1, "created_at": paid,
                          "updated_at": ended or paid})
            number += 1
            if len(batch) == BATCH:
                yield _attribute(rng, batch)
                batch = []
    if batch:
        yield _attribute(rng, batch)


def _attribute(rng: random.Random, batch: list[dict]) -> list[dict]:
    """Plan, locale and source, drawn with their shares (the source marked seeded: `seeded:newsletter`)."""
    k = len(batch)
    for row, plan, locale, source in zip(batch, _pick(rng, PLANS, k), _pick(rng, LOCALES, k), _pick(rng, SOURCES, k),
                                         strict=True):
        row["plan"], row["locale"] = plan, locale
        row["source"] = f"{SEEDED_SOURCE}:{source}" if source else SEEDED_SOURCE
    return batch


def next_number(session: Session) -> int:
    """Seeded members are numbered; a second run continues after the first (emails stay unique)."""
    taken = session.scalar(select(func.count(Member.id)).where(Member.email.like(f"seed-%@{EMAIL_DOMAIN}")))
    return int(taken or 0) + 1


def seed_signups(session: Session, campaign: Campaign, n: int, now: datetime,
                 progress: Callable[[Iterable, int, str], Iterable] | None = None) -> int:
    """Insert n seeded members and rebuild the campaign's counters; returns the campaign's new count."""
    now = now.astimezone(UTC)
    if now <= campaign.starts_at:
        raise Invalid(f"campaign {campaign.slug} has not started yet: there is no past to seed sign-ups into.")
    start = next_number(session)
    batches: Iterable[list[dict]] = rows(campaign, n, now, start_number=start)
    nbatches = math.ceil(n / BATCH)
    if progress is not None:
        batches = progress(batches, nbatches, f"Seeding {n:,} sign-ups ({BATCH:,} a batch)")
    for batch in batches:
        records.insert_many(session, batch)  # one executemany per batch
    return count_storage.recount(session, campaign, now)

