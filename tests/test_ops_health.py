"""GET /healthz and GET /readyz: liveness without the database, readiness with it."""

import pytest

from service.ops import health
from tests.support import Statements

DEAD_DB = "postgresql+psycopg://postgres@127.0.0.1:1/x"


def test_healthz_is_ok_without_touching_the_database(app, client):
    from service.extensions import db

    with Statements(db.engine) as s:
        r = client.get("/healthz")
    assert r.status_code == 200 and r.get_json() == {"status": "ok"}
    assert s.sql == []


def test_readyz_is_ok_when_the_database_is_at_head(client):
    from service import MIGRATIONS_DIR

    r = client.get("/readyz")
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["status"] == "ok" and body["database"] == "ok"
    assert set(body["migration"]) == health.head_revisions(MIGRATIONS_DIR)


def test_readyz_is_503_when_migrations_are_behind(client, monkeypatch):
    monkeypatch.setattr(health, "head_revisions", lambda _dir: frozenset({"9999_future"}))
    r = client.get("/readyz")
    assert r.status_code == 503 and r.mimetype == "application/problem+json"
    body = r.get_json()
    assert "migrations not at head" in body["detail"] and body["head"] == ["9999_future"]
    assert body["database"] == "ok"


@pytest.fixture
def dead_app(app_config):
    from service import create_app

    dead = create_app({**app_config, "DATABASE_URL": DEAD_DB, "DB_CONNECT_TIMEOUT": 2})
    with dead.app_context():
        yield dead
        from service.extensions import db

        db.session.remove()
        db.engine.dispose()


def test_readyz_is_503_when_the_database_is_unreachable_and_healthz_still_200(dead_app):
    client = dead_app.test_client()
    r = client.get("/readyz")
    assert r.status_code == 503 and r.mimetype == "application/problem+json"
    assert r.get_json()["database"] == "unreachable"
    assert "database unreachable" in r.get_json()["detail"]
    assert client.get("/healthz").status_code == 200


def test_head_revision_comes_from_the_migrations_directory():
    from service import MIGRATIONS_DIR

    heads = health.head_revisions(MIGRATIONS_DIR)
    assert len(heads) == 1


def test_health_endpoints_are_documented():
    from pathlib import Path

    import yaml

    spec = yaml.safe_load((Path(__file__).resolve().parent.parent / "openapi.yaml").read_text())
    assert "/healthz" in spec["paths"] and "/readyz" in spec["paths"]
    assert "503" in spec["paths"]["/readyz"]["get"]["responses"]
