"""Explicit wiring: ops knows no feature (features register with service/ops/registry.py), the campaign count is
kept by the app's own sessions and the SQLite pragmas are set on the app's own engine, not on SQLAlchemy's
global Session and Engine classes."""

import ast
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from service.members.models import Member
from tests import factories

OPS = Path(__file__).resolve().parent.parent / "service" / "ops"
FEATURES = ("campaigns", "widget", "paywall", "payments", "staff", "members")


def imported_modules(path: Path) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
            out.update(f"{node.module}.{alias.name}" for alias in node.names)
    return out


def test_ops_imports_no_feature_package():
    files = sorted(OPS.glob("*.py"))
    assert len(files) > 5
    found = {f"{path.name}: {module}" for path in files for module in imported_modules(path)
             if any(module == f"service.{f}" or module.startswith(f"service.{f}.") for f in FEATURES)}
    assert not found, sorted(found)


def test_features_register_what_ops_needs(app):
    registered = app.extensions["ops_registry"]
    assert registered.fast_route is not None and registered.fast_route.endpoint in app.view_functions
    assert set(registered.fallbacks) <= set(app.view_functions)
    assert registered.write_default_exempt <= set(app.view_functions)
    assert set(registered.optional_limits) <= set(app.view_functions)


def test_the_count_is_kept_by_the_apps_sessions_not_by_every_session(app, session, clock):
    from service.extensions import db

    campaign = factories.campaign(session, clock.now())
    session.commit()
    paid = datetime(2025, 3, 1, tzinfo=UTC)
    with Session(db.engine) as other:  # a session the app did not make (a script's, another library's)
        other.add(Member(email="outside@example.org", status="active", plan="monthly", first_paid_at=paid,
                         created_at=clock.now(), updated_at=clock.now()))
        other.commit()
    session.refresh(campaign)
    assert campaign.count == 0
    factories.member(session, clock.now(), first_paid_at=paid)  # the app's session: counted
    session.commit()
    assert campaign.count == 1


def test_sqlite_pragmas_are_set_on_the_apps_engine_only(app, database_url):
    from service.extensions import db

    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite only: PostgreSQL has no pragmas to set")
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    other = sa.create_engine(database_url)
    try:
        with other.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 0
    finally:
        other.dispose()
