"""Shared pieces of the reliability suite: a demo-seeded database and a dump of every table."""

from __future__ import annotations

import pytest
import sqlalchemy as sa


@pytest.fixture
def app_config(app_config):
    # Fuzzing and storms send many requests from one address: limits would turn them into 429s.
    # Stripe's API is a closed local port (a documented 502), never the network; tests that need
    # answers from Stripe point STRIPE_API_BASE at the fake_stripe fixture instead.
    return {**app_config, "RATELIMIT_ENABLED": False, "STRIPE_API_BASE": "http://127.0.0.1:9"}


def dump_tables(engine: sa.Engine) -> dict[str, list[tuple]]:
    """Every row of every table (except alembic's), sorted: equal dumps mean an unchanged database."""
    out: dict[str, list[tuple]] = {}
    key = str(engine.url)
    if key not in _reflected:
        meta = sa.MetaData()
        meta.reflect(bind=engine)
        _reflected[key] = [t for name, t in sorted(meta.tables.items()) if name != "alembic_version"]
    with engine.connect() as conn:
        for table in _reflected[key]:
            out[table.name] = sorted((tuple(r) for r in conn.execute(sa.select(table))), key=repr)
    return out


_reflected: dict[str, list[sa.Table]] = {}  # the schema is the same in every test of a session
