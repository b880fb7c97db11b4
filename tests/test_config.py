"""Configuration comes from the environment; production refuses missing or development secrets."""

import pytest

from service import create_app
from service.config import DEV_SECRET, ConfigError, from_environment

PROD = {
    "SERVICE_ENV": "production",
    "SECRET_KEY": "s" * 40,
    "STRIPE_API_KEY": "sk_live_realistic",
    "STRIPE_WEBHOOK_SECRET": "whsec_realistic",
}


def prod_env(**overrides):
    env = {**PROD, **overrides}
    return {k: v for k, v in env.items() if v is not None}


def test_defaults_in_development():
    settings = from_environment({})
    assert settings["SERVICE_ENV"] == "development"
    assert settings["SECRET_KEY"] == DEV_SECRET
    assert settings["PROGRESS_CACHE_SECONDS"] == 2.0


def test_values_are_parsed_from_the_environment():
    settings = from_environment({"PROGRESS_MAX_AGE": "7", "RATELIMIT_ENABLED": "false"})
    assert settings["PROGRESS_MAX_AGE"] == 7 and settings["RATELIMIT_ENABLED"] is False


def test_a_malformed_number_names_the_setting():
    with pytest.raises(ConfigError, match="PROGRESS_MAX_AGE"):
        from_environment({"PROGRESS_MAX_AGE": "soon"})


@pytest.mark.parametrize("name", ["SECRET_KEY", "STRIPE_API_KEY", "STRIPE_WEBHOOK_SECRET"])
def test_production_refuses_a_missing_secret_and_names_it(monkeypatch, tmp_path, name):
    for k, v in prod_env().items():
        monkeypatch.setenv(k, v)
    monkeypatch.delenv(name)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/x.sqlite3")
    with pytest.raises(ConfigError, match=name):
        create_app()


@pytest.mark.parametrize("name, dev_value", [
    ("SECRET_KEY", DEV_SECRET),
    ("STRIPE_API_KEY", "sk_test_dev_insecure"),
    ("STRIPE_WEBHOOK_SECRET", "whsec_dev_insecure"),
])
def test_production_refuses_development_defaults(tmp_path, name, dev_value):
    with pytest.raises(ConfigError, match=name):
        create_app({**prod_env(**{name: dev_value}), "DATABASE_URL": f"sqlite:///{tmp_path}/x.sqlite3"})


def test_production_refuses_a_short_secret_key(tmp_path):
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app({**prod_env(SECRET_KEY="short"), "DATABASE_URL": f"sqlite:///{tmp_path}/x.sqlite3"})


def test_postgres_urls_use_psycopg_3():
    from service.config import finalize

    s = finalize({"DATABASE_URL": "postgres://u:p@db/membership"}, "/tmp")
    assert s["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u:p@db/membership"


def test_default_database_is_sqlite_under_instance():
    from service.config import finalize

    s = finalize({"DATABASE_URL": None}, "/srv/app/instance")
    assert s["SQLALCHEMY_DATABASE_URI"] == "sqlite:////srv/app/instance/membership.sqlite3"
