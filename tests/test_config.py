"""Configuration comes from the environment; production refuses missing or development secrets."""

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from service import create_app
from service.config import DEV_SECRET, ConfigError, from_environment

PEM = ed25519.Ed25519PrivateKey.generate().private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
PROD = {
    "SERVICE_ENV": "production",
    "SECRET_KEY": "s" * 40,
    "STRIPE_API_KEY": "sk_live_realistic",
    "STRIPE_WEBHOOK_SECRET": "whsec_realistic",
    "ENTITLEMENT_KEYS": PEM,
    "PUBLIC_BASE_URL": "https://membership.news.example",
    "SITE_ALLOWED_ORIGINS": "https://news.example,https://www.news.example",
    "SMTP_URL": "smtp+starttls://mailer:pw@mail.news.example:587",
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


def test_a_complete_production_configuration_starts(tmp_path):
    app = create_app({**prod_env(), "DATABASE_URL": f"sqlite:///{tmp_path}/x.sqlite3"})
    assert app.config["SERVICE_ENV"] == "production"


@pytest.mark.parametrize("value", ["prod", "staging", "dev"])
def test_service_env_must_be_development_test_or_production(tmp_path, value):
    with pytest.raises(ConfigError, match="SERVICE_ENV='.*' is not valid: must be one of development, test, prod"):
        from_environment({"SERVICE_ENV": value})
    with pytest.raises(ConfigError, match="SERVICE_ENV"):
        create_app({"SERVICE_ENV": value, "DATABASE_URL": f"sqlite:///{tmp_path}/x.sqlite3"})
    assert from_environment({"SERVICE_ENV": " Production "})["SERVICE_ENV"] == "production"


def test_every_missing_or_development_secret_is_named_in_one_message():
    from service.config import check_environment

    with pytest.raises(ConfigError) as caught:
        check_environment({"SERVICE_ENV": "production", "STRIPE_API_KEY": "sk_test_dev_insecure"})
    message = str(caught.value)
    for name in ("SECRET_KEY", "STRIPE_API_KEY", "STRIPE_WEBHOOK_SECRET", "ENTITLEMENT_KEYS", "PUBLIC_BASE_URL",
                 "SITE_ALLOWED_ORIGINS", "SMTP_URL"):
        assert name in message
    assert message.startswith("8 problems with the configuration:")
    assert caught.value.exit_code == 2


@pytest.mark.parametrize(("value", "problems"), [
    (" whsec_new , whsec_old ", []),
    ("whsec_new,", ["STRIPE_WEBHOOK_SECRET entry 2 of 2 is empty"]),
    ("whsec_new, ,whsec_dev_insecure", ["entry 2 of 3 is empty", "entry 3 of 3 still has its development default"]),
    ("whsec_new,sk_live_wrong_thing", ["entry 2 of 2 does not start with whsec_"]),
    ("  ", ["STRIPE_WEBHOOK_SECRET is not set"]),
    ("whsec_dev_insecure", ["STRIPE_WEBHOOK_SECRET still has its development default"]),
])
def test_each_webhook_secret_is_trimmed_and_checked(value, problems):
    from service.config import secret_problems

    found = [p for p in secret_problems({**PROD, "STRIPE_WEBHOOK_SECRET": value}) if "WEBHOOK" in p]
    assert len(found) == len(problems)
    for want, got in zip(problems, found, strict=True):
        assert want in got
    assert "sk_live_wrong_thing" not in " ".join(found)  # secret values are never shown


@pytest.mark.parametrize(("name", "value", "fragment"), [
    ("PUBLIC_BASE_URL", "http://membership.news.example", "must start with https://"),
    ("PAYWALL_JOIN_URL", "http://news.example/join", "must start with https://"),
    ("PAYWALL_JOIN_URL", "javascript:alert(1)", "must start with https://"),
    ("SITE_ALLOWED_ORIGINS", "https://news.example,http://news.example", "entry 'http://news.example'"),
    ("WIDGET_ALLOWED_ORIGINS", "https://user:pw@partner.example", "credentials"),
    ("STRIPE_API_BASE", "http://127.0.0.1:12111", "must start with https://"),
])
def test_production_url_settings_use_the_shared_url_rule_with_https(tmp_path, name, value, fragment):
    with pytest.raises(ConfigError, match=name) as caught:
        create_app({**prod_env(**{name: value}), "DATABASE_URL": f"sqlite:///{tmp_path}/x.sqlite3"})
    assert fragment in str(caught.value)


def test_development_url_settings_may_be_http_but_must_be_urls():
    from service.config import check

    check({**from_environment({}), "WIDGET_ALLOWED_ORIGINS": "*", "PAYWALL_JOIN_URL": "http://127.0.0.1:5000/join"})
    with pytest.raises(ConfigError, match="PAYWALL_JOIN_URL"):
        check({**from_environment({}), "PAYWALL_JOIN_URL": "//news.example/join"})


def test_every_setting_has_a_description_and_docs_configuration_md_matches_the_table():
    """docs/configuration.md is generated from SETTINGS: a setting added, renamed, re-defaulted or
    re-described without `python -m service.config_docs` fails here."""
    from service.config import SETTINGS
    from service.config_docs import PATH, configuration_markdown

    undocumented = [name for name, entry in SETTINGS.items() if len(entry) < 3 or not entry[2].strip()]
    assert not undocumented, f"give these settings a one-line description in service/config.py: {undocumented}"
    assert PATH.read_text(encoding="utf-8") == configuration_markdown(), "run: python -m service.config_docs"
    for name in SETTINGS:
        assert f"| `{name}` |" in PATH.read_text(encoding="utf-8")
