"""Seeding for the bench: the demo campaign plus N sign-ups, with the staff dashboard's seeder
(service/campaigns/seed.py: one Core `executemany` per batch, then `count_storage.recount()`).

The bench first had its own generator; the dashboard's seeder turned out as fast (200,000 members
in about 7 s either way on the bench machine) and gives realistic daily sign-up curves, so it is used.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime


def seed(app, members: int, log=print) -> dict:  # noqa: ANN001
    """Create the demo campaign (if missing) and `members` sign-ups; returns timings in seconds."""
    from service.campaigns import demo
    from service.campaigns import seed as signups
    from service.campaigns.models import Campaign
    from service.extensions import db

    with app.app_context():
        session = db.session
        campaign = session.query(Campaign).filter_by(slug=demo.SLUG).one_or_none()
        if campaign is None:
            campaign = demo.create_demo(session, datetime.now(UTC), join_url="http://127.0.0.1/join")
            session.commit()
        t0 = time.perf_counter()
        count = signups.seed_signups(session, campaign, members, datetime.now(UTC))
        session.commit()
        elapsed = time.perf_counter() - t0
        log(f"seeded {members:,} members (insert and recount) in {elapsed:.1f} s: count {count:,}")
        return {"members": members, "seed_s": round(elapsed, 2), "count": count}
