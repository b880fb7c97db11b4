"""Readiness checks (no Flask): the database answers, and its schema is at the migrations' head."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import sqlalchemy as sa
from sqlalchemy.engine import Connection


@lru_cache(maxsize=4)
def head_revisions(migrations_dir: str) -> frozenset[str]:
    """The head revision(s) of the migrations directory, read once per process."""
    from alembic.script import ScriptDirectory

    return frozenset(ScriptDirectory(migrations_dir).get_heads())


@dataclass(frozen=True)
class Readiness:
    ready: bool
    database: str  # "ok" | "unreachable"
    current: frozenset[str]
    head: frozenset[str]
    detail: str = ""


def check(connection_factory, migrations_dir: str) -> Readiness:  # noqa: ANN001 - a callable returning a Connection
    """`SELECT 1`, then the alembic_version rows against the head revision(s)."""
    head = head_revisions(migrations_dir)
    try:
        with connection_factory() as conn:
            conn: Connection
            conn.execute(sa.text("SELECT 1"))
            try:
                current = frozenset(r[0] for r in conn.execute(sa.text("SELECT version_num FROM alembic_version")))
            except sa.exc.DBAPIError:
                current = frozenset()
    except (sa.exc.DBAPIError, sa.exc.TimeoutError) as exc:
        return Readiness(False, "unreachable", frozenset(), head,
                         f"database unreachable: {type(getattr(exc, 'orig', exc)).__name__}")
    if current != head:
        return Readiness(False, "ok", current, head,
                         f"migrations not at head: database at {sorted(current) or 'none'}, "
                         f"code expects {sorted(head)}; run `flask --app service db upgrade`")
    return Readiness(True, "ok", current, head)
