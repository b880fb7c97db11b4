"""Test set-up: the real migrations run once per session; each test gets a fresh database.

SQLite (default): the migrated database file is copied for each test. PostgreSQL (DATABASE_URL set to
postgresql+psycopg://...): the schema is rebuilt from empty once, and every table is truncated before
each test. Each test also gets its own app, a frozen clock and no network.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from service import create_app
from service.clock import Clock

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "tests" / "artifacts"
ENV_DB = os.environ.get("DATABASE_URL", "")
ON_POSTGRES = ENV_DB.startswith(("postgresql", "postgres:"))

TEST_CONFIG = {
    "TESTING": True,
    "SERVICE_ENV": "test",
    "SECRET_KEY": "test-secret-key-0123456789abcdef0123456789",
    "STRIPE_API_KEY": "sk_test_123",
    "STRIPE_WEBHOOK_SECRET": "whsec_test_secret",
    "PUBLIC_BASE_URL": "http://127.0.0.1:5000",
    "SITE_ALLOWED_ORIGINS": "https://news.example,http://127.0.0.1:5000",
    "WIDGET_ALLOWED_ORIGINS": "*",
    "PROGRESS_CACHE_SECONDS": 0.0,
    "PROGRESS_SNAPSHOT_DIR": "off",  # app_config gives each test a folder of its own
}


def _pg_url() -> str:
    url = ENV_DB
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            url = "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


def _upgrade(url: str) -> None:
    from flask_migrate import upgrade

    app = create_app({**TEST_CONFIG, "DATABASE_URL": url})
    with app.app_context():
        upgrade()
        from service.extensions import db

        db.engine.dispose()


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database migrated from empty to head: a SQLite file to copy, or the PostgreSQL URL."""
    if ON_POSTGRES:
        url = _pg_url()
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA public CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA public"))
        engine.dispose()
        _upgrade(url)
        return url
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    _upgrade(f"sqlite:///{path}")
    return str(path)


def fresh_database_url(template_db: str, tmp_path: Path) -> str:
    if ON_POSTGRES:
        engine = sa.create_engine(template_db)
        with engine.begin() as conn:
            tables = [r[0] for r in conn.execute(sa.text(
                "SELECT tablename FROM pg_tables WHERE schemaname='public' AND tablename <> 'alembic_version'"))]
            if tables:
                conn.execute(sa.text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
        engine.dispose()
        return template_db
    path = tmp_path / "test.sqlite3"
    shutil.copyfile(template_db, path)
    return f"sqlite:///{path}"


@pytest.fixture
def clock() -> Clock:
    c = Clock()
    c.set(datetime(2025, 6, 1, 12, 0, tzinfo=UTC))
    return c


@pytest.fixture
def database_url(template_db: str, tmp_path: Path) -> str:
    return fresh_database_url(template_db, tmp_path)


@pytest.fixture
def app_config(database_url: str, clock: Clock, tmp_path: Path) -> dict:
    """Override in a test module (or update in a test) to change settings before the app is built."""
    return {**TEST_CONFIG, "DATABASE_URL": database_url, "CLOCK": clock,
            "PROGRESS_SNAPSHOT_DIR": str(tmp_path / "progress-snapshots")}  # a test's own, never instance/


@pytest.fixture
def app(app_config: dict):
    app = create_app(app_config)
    ctx = app.app_context()
    ctx.push()
    yield app
    from service.extensions import db

    db.session.remove()
    db.engine.dispose()
    ctx.pop()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def session(app):
    from service.extensions import db

    return db.session


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def fake_stripe():
    """A fake Stripe API on 127.0.0.1; use with the `stripe_app_config` pattern below."""
    from tests.fakestripe import FakeStripe

    server = FakeStripe().start()
    yield server
    server.stop()


@pytest.fixture
def demo_campaign(app, session, clock):
    """The demo campaign members-25k on 1 March 2025 at 09:00 UTC, count 0."""
    from service.campaigns import demo

    clock.set(datetime(2025, 3, 1, 9, 0, tzinfo=UTC))
    c = demo.create_demo(session, clock.now(), join_url="https://news.example/join")
    session.commit()
    return c


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def browser() -> Iterator:
    """Debian's Chromium driven by Playwright (never a downloaded browser). Skipped when it is missing,
    unless REQUIRE_BROWSER=1 (CI), where that is a failure."""
    if not CHROMIUM.exists():
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail("REQUIRE_BROWSER=1 but /usr/bin/chromium is missing (apt-get install chromium)")
        pytest.skip("/usr/bin/chromium is missing (apt-get install chromium); set REQUIRE_BROWSER=1 to fail instead")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()
