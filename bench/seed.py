"""Fast seeding for the bench: the demo campaign plus N members, bulk-inserted with SQLAlchemy Core.

Members are written with one `executemany` per batch (no ORM objects, no flush hook), so the
campaign's counter is rebuilt afterwards with `counter.recount()`, as the counting rule requires for
bulk writes. One million members take well under a minute on SQLite.
"""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert

PLANS = ("monthly", "yearly")
LOCALES = ("en", "uk")
SOURCES = ("", "newsletter", "article", "social")
BATCH = 50_000


def member_rows(n: int, now: datetime, starts: datetime, seed: int = 8):
    """Yield batches of member rows: most paid inside the window, a few ended or refunded."""
    rng = random.Random(seed)
    span = max(1.0, (now - starts).total_seconds() - 60)
    batch = []
    for i in range(n):
        paid = starts + timedelta(seconds=rng.random() * span)
        r = rng.random()
        ended = paid + timedelta(days=30) if r < 0.05 and paid + timedelta(days=30) < now else None
        reversed_at = paid + timedelta(days=2) if 0.05 <= r < 0.06 and paid + timedelta(days=2) < now else None
        batch.append({
            "email": f"bench{i}@example.org", "stripe_customer_id": None,
            "status": "ended" if ended else "active",
            "plan": PLANS[i % 2], "locale": LOCALES[(i // 2) % 2], "source": SOURCES[i % 4],
            "first_paid_at": paid, "ended_at": ended, "first_payment_reversed_at": reversed_at,
            "token_version": 1, "created_at": paid, "updated_at": paid,
        })
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def seed(app, members: int, log=print) -> dict:  # noqa: ANN001
    """Create the demo campaign (if missing) and `members` members; returns timings in seconds."""
    from service.campaigns import counter, demo
    from service.campaigns.models import Campaign
    from service.extensions import db
    from service.members.models import Member

    with app.app_context():
        now = datetime.now(UTC)
        session = db.session
        campaign = session.query(Campaign).filter_by(slug=demo.SLUG).one_or_none()
        if campaign is None:
            campaign = demo.create_demo(session, now, join_url="http://127.0.0.1/join")
            session.commit()
        t0 = time.perf_counter()
        table = Member.__table__
        with db.engine.begin() as conn:
            for batch in member_rows(members, now, campaign.starts_at):
                conn.execute(insert(table), batch)
        t_insert = time.perf_counter() - t0
        t1 = time.perf_counter()
        count = counter.recount(session, campaign, datetime.now(UTC))
        session.commit()
        t_recount = time.perf_counter() - t1
        log(f"seeded {members:,} members in {t_insert:.1f} s, recount in {t_recount:.1f} s: count {count:,}")
        return {"members": members, "insert_s": round(t_insert, 2), "recount_s": round(t_recount, 2),
                "count": count}
