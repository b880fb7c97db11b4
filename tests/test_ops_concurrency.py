"""Several connections at once (PostgreSQL in CI; SQLite serialises them): the campaign counter stays
exact while members join, end and adjustments are made concurrently."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from service.campaigns import count_storage, services
from service.campaigns.models import Campaign
from tests import factories

THREADS = 6
ROUNDS = 8


def test_counter_is_exact_under_concurrent_joins_ends_and_adjustments(app, session, clock):
    from service.extensions import db

    clock.set(datetime(2025, 6, 1, 12, 0, tzinfo=UTC))
    campaign = factories.campaign(session, clock.now())
    session.commit()
    slug, now = campaign.slug, clock.now()
    barrier = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            with app.app_context():
                s = db.session
                barrier.wait(timeout=30)
                mine = []
                for i in range(ROUNDS):
                    m = factories.member(s, now, email=f"t{n}-{i}@example.org",
                                         first_paid_at=now - timedelta(days=1 + i % 3), plan="monthly")
                    s.commit()
                    mine.append(m)
                    if i % 2 == 1:  # every other round, an earlier member of this thread ends
                        mine[i - 1].ended_at = now
                        mine[i - 1].status = "canceled"
                        s.commit()
                    c = services.get_campaign(s, slug)
                    services.adjust(s, c, delta=1, reason=f"thread {n}", who="test", now=now)
                    s.commit()
                s.remove()
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads), "a worker hung"
    assert not errors, errors

    session.expire_all()
    c = session.get(Campaign, campaign.id)
    joined, ended, adjusted = THREADS * ROUNDS, THREADS * (ROUNDS // 2), THREADS * ROUNDS
    assert c.members_counted == joined - ended
    assert c.adjustments_total == adjusted
    assert c.count == joined - ended + adjusted
    # the incremental counter equals a full recount from the members table
    assert count_storage.recount(session, c, now) == c.count
    session.commit()
