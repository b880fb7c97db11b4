"""Trust in operations: text the database cannot store is a 4xx, logs carry no secrets, production
refuses a configuration that would run it with development secrets or plain-http URLs."""

from __future__ import annotations

import pytest

from service.api import NUL_MESSAGE, SURROGATE_MESSAGE, unstorable_text

ACCESS = "/v1/access"


# --- unstorable text (NUL, unpaired surrogates) ---------------------------------------------------


def test_unstorable_text_names_each_field_and_accepts_real_text():
    assert unstorable_text({"article": {"id": "ok \U0001F600 ü"}, "tags": ["a", "b"]}) is None
    assert unstorable_text({"article": {"id": "a\x00b"}, "tags": ["a", "\ud800"], "n": 1}) == {
        "article": {"id": [NUL_MESSAGE]}, "tags": {"1": [SURROGATE_MESSAGE]}}
    assert unstorable_text({"\udc00": 1}) == {"\\udc00": [SURROGATE_MESSAGE]}


@pytest.mark.parametrize(("raw", "field", "message"), [
    (b'{"article": {"id": "a\\u0000b"}}', ("article", "id"), NUL_MESSAGE),
    (b'{"article": {"id": "x"}, "reader_id": "\\ud800"}', ("reader_id",), SURROGATE_MESSAGE),
    (b'{"article": {"id": "x"}, "member_token": "\\udfff\\u0000"}', ("member_token",), SURROGATE_MESSAGE),
])
def test_an_access_request_with_unstorable_text_is_a_422_naming_the_field(client, raw, field, message):
    """Before: SQLite stored the NUL (200), PostgreSQL refused it, and an unpaired surrogate in reader_id
    was a 500 (UnicodeEncodeError while checking its signature)."""
    r = client.post(ACCESS, data=raw, content_type="application/json")
    assert r.status_code == 422 and r.mimetype == "application/problem+json"
    errors = r.get_json()["errors"]["json"]
    for name in field:
        errors = errors[name]
    assert errors == [message]


def test_a_valid_surrogate_pair_is_ordinary_text(client):
    r = client.post(ACCESS, data=b'{"article": {"id": "smile-\\ud83d\\ude00"}}', content_type="application/json")
    assert r.status_code == 200


@pytest.mark.parametrize("url", ["/v1/campaigns/members%00/progress", "/v1/campaigns/members-25k/progress?locale=%00",
                                 "/v1/auth/magic-links/tok%00en", "/healthz?x=a%00"])
def test_a_nul_in_a_path_or_query_is_a_400_before_any_view(client, url):
    r = client.get(url)
    assert r.status_code == 400 and r.mimetype == "application/problem+json"
    assert "NUL" in r.get_json()["detail"]


# --- logs carry no secrets ------------------------------------------------------------------------

MAGIC_TOKEN = "mlSECRETmagic0123456789abcdef"
SESSION_ID = "cs_test_SECRETsession42"
MEMBER_TOKEN = "mtSECRETmember.0123.abcdef"
READER_ID = "rdSECRETreader.sig0123"


@pytest.fixture
def log_stream(app):
    import io
    import logging

    from service.ops import logs

    stream = io.StringIO()
    handler = logs.configure("INFO", "json", stream=stream)
    yield stream
    logging.getLogger().removeHandler(handler)


def access_lines(stream) -> list[dict]:
    import json

    return [r for r in map(json.loads, stream.getvalue().splitlines()) if r["logger"] == "service.access"]


@pytest.fixture
def app_config(app_config):
    return {**app_config, "STRIPE_API_BASE": "http://127.0.0.1:9", "LOG_REQUESTS": "all"}  # Stripe: a closed port


def test_the_magic_link_token_in_the_path_is_not_logged(client, log_stream):
    r = client.get(f"/v1/auth/magic-links/{MAGIC_TOKEN}")
    assert r.status_code == 410
    [line] = access_lines(log_stream)
    assert line["path"] == "/v1/auth/magic-links/[redacted]" and line["status"] == 410
    assert MAGIC_TOKEN not in log_stream.getvalue()


def test_the_checkout_session_id_of_a_claim_is_not_logged(client, log_stream):
    r = client.post(f"/v1/checkout/sessions/{SESSION_ID}/claim")
    assert r.status_code == 502  # Stripe cannot be asked: the claim is refused, and logged
    [line] = access_lines(log_stream)
    assert line["path"] == "/v1/checkout/sessions/[redacted]/claim"
    assert SESSION_ID not in log_stream.getvalue() and "SECRETsession" not in log_stream.getvalue()


def test_member_tokens_and_reader_ids_are_not_logged_from_headers_queries_or_bodies(client, log_stream):
    r = client.post(f"/v1/access?member_token={MEMBER_TOKEN}&reader_id={READER_ID}&locale=uk",
                    json={"article": {"id": "a1"}, "member_token": MEMBER_TOKEN, "reader_id": READER_ID},
                    headers={"Authorization": f"Bearer {MEMBER_TOKEN}"})
    assert r.status_code == 200
    r = client.get(f"/v1/members/me?token={MEMBER_TOKEN}", headers={"Authorization": f"Bearer {MEMBER_TOKEN}"})
    assert r.status_code == 401
    access, me = access_lines(log_stream)
    assert access["path"] == "/v1/access"
    assert access["query"] == "member_token=[redacted]&reader_id=[redacted]&locale=uk"
    assert me["query"] == "token=[redacted]"
    text = log_stream.getvalue()
    assert "SECRETmember" not in text and "SECRETreader" not in text


def test_request_lines_of_other_servers_are_masked_too(app, log_stream):
    """The development server (werkzeug) and gunicorn write their own request lines through logging."""
    import logging

    logging.getLogger("werkzeug").info(
        '127.0.0.1 - - "GET /v1/auth/magic-links/%s?member_token=%s HTTP/1.1" 302 -', MAGIC_TOKEN, MEMBER_TOKEN)
    logging.getLogger("werkzeug").info('"POST /v1/checkout/sessions/%s/claim HTTP/1.1" 200', "opaque-id-1")
    text = log_stream.getvalue()
    assert MAGIC_TOKEN not in text and MEMBER_TOKEN not in text and "opaque-id-1" not in text
    assert "/v1/auth/magic-links/[redacted]?member_token=[redacted]" in text
    assert "/v1/checkout/sessions/[redacted]/claim" in text


def test_gunicorn_access_log_is_masked(app):
    """gunicorn's own access log (off unless GUNICORN_ACCESSLOG is set) goes through the same redaction."""
    import datetime
    import runpy
    from pathlib import Path
    from types import SimpleNamespace

    from gunicorn.config import Config

    conf = runpy.run_path(str(Path(__file__).resolve().parent.parent / "gunicorn.conf.py"))
    logger = conf["logger_class"](Config())
    environ = {"REQUEST_METHOD": "GET", "RAW_URI": f"/v1/auth/magic-links/{MAGIC_TOKEN}?reader_id={READER_ID}",
               "PATH_INFO": f"/v1/auth/magic-links/{MAGIC_TOKEN}", "QUERY_STRING": f"reader_id={READER_ID}",
               "SERVER_PROTOCOL": "HTTP/1.1", "HTTP_AUTHORIZATION": f"Bearer {MEMBER_TOKEN}"}
    resp = SimpleNamespace(status="302 FOUND", headers=[], sent=0)
    req = SimpleNamespace(headers=[("AUTHORIZATION", f"Bearer {MEMBER_TOKEN}"), ("COOKIE", "session=abc")])
    atoms = logger.atoms(resp, req, environ, datetime.timedelta(seconds=0.01))
    text = repr(atoms)
    assert MAGIC_TOKEN not in text and READER_ID not in text and MEMBER_TOKEN not in text and "abc" not in text
    assert atoms["r"] == "GET /v1/auth/magic-links/[redacted]?reader_id=[redacted] HTTP/1.1"
    assert atoms["{authorization}i"] == atoms["{cookie}i"] == "[redacted]"


# --- production is hard to get wrong: start-up refuses with one message, no traceback ------------

def _production_env(tmp_path, **extra):
    import os

    from service.config import SETTINGS

    env = {k: v for k, v in os.environ.items() if k not in SETTINGS and not k.startswith(("GUNICORN_", "FLASK_"))}
    return {**env, "SERVICE_ENV": "production", "DATABASE_URL": f"sqlite:///{tmp_path}/prod.sqlite3", **extra}


def _run(args, env):
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    return subprocess.run(args, cwd=root, env=env, capture_output=True, text=True, timeout=120, check=False)


def _assert_refused_with_every_problem(result):
    out = result.stdout + result.stderr
    assert result.returncode == 2, out
    assert "Traceback" not in out
    for name in ("SECRET_KEY", "STRIPE_API_KEY", "STRIPE_WEBHOOK_SECRET", "ENTITLEMENT_KEYS", "PUBLIC_BASE_URL"):
        assert name in out
    assert "problems with the configuration" in out


def test_the_cli_refuses_production_without_secrets_in_one_message_and_no_traceback(tmp_path):
    import sys

    result = _run([sys.executable, "-m", "flask", "--app", "service", "db", "current"], _production_env(tmp_path))
    _assert_refused_with_every_problem(result)
    assert result.stderr.startswith("Error: ") and "problems with the configuration:" in result.stderr


def test_gunicorn_refuses_production_without_secrets_before_any_worker(tmp_path):
    import sys

    env = _production_env(tmp_path, GUNICORN_BIND="127.0.0.1:0", GUNICORN_WORKERS="1")
    result = _run([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "service:create_app()"], env)
    _assert_refused_with_every_problem(result)
    assert "membership-service will not start" in result.stderr
    assert "Booting worker" not in result.stderr


def test_make_serve_is_the_production_server_and_refuses_development_secrets(tmp_path):
    import shutil

    env = _production_env(tmp_path)
    del env["SERVICE_ENV"]  # make serve sets it
    result = _run([shutil.which("make") or "make", "-o", "install", "serve"], env)
    assert "production server" in result.stdout and "SERVICE_ENV=production" in result.stdout
    assert result.returncode != 0 and "Traceback" not in result.stdout + result.stderr
    assert "SECRET_KEY still has its development default" in result.stderr
