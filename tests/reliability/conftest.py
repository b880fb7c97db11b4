"""Shared pieces of the reliability suite: a demo-seeded database and a dump of every table."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from service.campaigns import demo


@pytest.fixture
def app_config(app_config):
    # Fuzzing and storms send many requests from one address: limits would turn them into 429s.
    return {**app_config, "RATELIMIT_ENABLED": False}


@pytest.fixture
def demo_campaign(app, session, clock):
    clock.set(datetime(2025, 3, 1, 9, 0, tzinfo=UTC))
    c = demo.create_demo(session, clock.now(), join_url="https://news.example/join")
    session.commit()
    return c


def dump_tables(engine: sa.Engine) -> dict[str, list[tuple]]:
    """Every row of every table (except alembic's), sorted: equal dumps mean an unchanged database."""
    out: dict[str, list[tuple]] = {}
    meta = sa.MetaData()
    meta.reflect(bind=engine)
    with engine.connect() as conn:
        for name, table in sorted(meta.tables.items()):
            if name == "alembic_version":
                continue
            rows = conn.execute(sa.select(table)).all()
            out[name] = sorted((tuple(r) for r in rows), key=repr)
    return out
