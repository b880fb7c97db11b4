"""JSON log lines with a request id, and redaction of secrets and e-mail addresses."""

import io
import json
import logging

import pytest

from service.ops import logs


@pytest.fixture
def log_stream(app):
    stream = io.StringIO()
    handler = logs.configure("INFO", "json", stream=stream)
    yield stream
    logging.getLogger().removeHandler(handler)


def lines(stream):
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_request_id_is_generated_and_echoed(client):
    r = client.get("/healthz")
    rid = r.headers["X-Request-ID"]
    assert len(rid) == 32 and int(rid, 16) >= 0
    assert client.get("/healthz").headers["X-Request-ID"] != rid


def test_a_valid_incoming_request_id_is_kept(client):
    r = client.get("/healthz", headers={"X-Request-ID": "edge-1234.abc_X"})
    assert r.headers["X-Request-ID"] == "edge-1234.abc_X"


@pytest.mark.parametrize("bad", ["x" * 129, "has space", "semi;colon", "é", "a\\b"])
def test_an_invalid_request_id_is_replaced(client, bad):
    r = client.get("/healthz", headers={"X-Request-ID": bad})
    assert r.headers["X-Request-ID"] != bad and len(r.headers["X-Request-ID"]) == 32


def test_access_line_is_one_json_object_with_the_request_fields(client, log_stream):
    client.get("/healthz?token=secret-in-query", headers={"X-Request-ID": "req-42"})
    records = [r for r in lines(log_stream) if r["logger"] == "service.access"]
    assert len(records) == 1
    rec = records[0]
    assert rec["request_id"] == "req-42" and rec["method"] == "GET" and rec["path"] == "/healthz"
    assert rec["status"] == 200 and rec["duration_ms"] >= 0 and rec["level"] == "INFO"
    assert rec["timestamp"].endswith("Z")
    assert rec["query"] == "token=[redacted]"  # the query is logged with secret parameters masked
    assert "secret-in-query" not in log_stream.getvalue()


def test_errors_are_logged_with_the_request_id_and_without_secrets(app, client, log_stream):
    @app.route("/_test/boom")
    def boom():
        raise RuntimeError("failed for reader@example.com with sk_live_abcDEF123 and whsec_zzz")

    r = client.get("/_test/boom", headers={"X-Request-ID": "boom-1"})
    assert r.status_code == 500
    errors = [x for x in lines(log_stream) if x["level"] == "ERROR"]
    assert errors and errors[0]["request_id"] == "boom-1"
    text = log_stream.getvalue()
    assert "reader@example.com" not in text and "sk_live_abcDEF123" not in text and "whsec_zzz" not in text
    assert logs.REDACTED in errors[0]["exception"]


@pytest.mark.parametrize("secret", [
    "someone.name+tag@news.example.org",
    "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl",
    "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJyZWFkZXIifQ.abc-def_123",
    "sk_test_51Habc123XYZ",
    "rk_live_abc123",
    "whsec_1234567890abcdef",
    "bearer abc.def-ghi",
])
def test_redaction_filter_masks_secrets(secret):
    stream = io.StringIO()
    handler = logs.configure("INFO", "json", stream=stream)
    try:
        logging.getLogger("service.test").info("value: %s (end)", secret)
        logging.getLogger("service.test").info(f"inline {secret}")
    finally:
        logging.getLogger().removeHandler(handler)
    text = stream.getvalue()
    assert secret not in text
    for part in secret.split():
        if len(part) > 8:
            assert part not in text
    assert text.count(logs.REDACTED) == 2


def test_redaction_keeps_ordinary_text():
    assert logs.redact("campaign members-25k at 1,234 of 25,000") == "campaign members-25k at 1,234 of 25,000"


def test_text_format_for_development(app):
    stream = io.StringIO()
    handler = logs.configure("INFO", "text", stream=stream)
    try:
        logging.getLogger("service.test").info("hello %s", "ops@example.com")
    finally:
        logging.getLogger().removeHandler(handler)
    assert "hello [redacted]" in stream.getvalue()


def test_by_default_progress_hits_are_not_logged_but_everything_else_is(client, log_stream, demo_campaign):
    client.get("/v1/campaigns/members-25k/progress")
    client.get("/v1/campaigns/nope/progress")
    client.get("/healthz")
    paths = [(r["path"], r["status"]) for r in lines(log_stream) if r["logger"] == "service.access"]
    assert paths == [("/v1/campaigns/nope/progress", 404), ("/healthz", 200)]


@pytest.mark.parametrize(("mode", "expected"), [
    ("all", 3), ("true", 3), ("errors", 1), ("off", 0), ("false", 0)])
def test_log_requests_modes(app_config, mode, expected, demo_campaign):
    from service import create_app

    app = create_app({**app_config, "LOG_REQUESTS": mode})
    stream = io.StringIO()
    handler = logs.configure("INFO", "json", stream=stream)
    try:
        client = app.test_client()
        client.get("/v1/campaigns/members-25k/progress")
        client.get("/v1/campaigns/nope/progress")
        client.get("/healthz")
    finally:
        logging.getLogger().removeHandler(handler)
    assert len([r for r in lines(stream) if r["logger"] == "service.access"]) == expected


def test_an_unknown_log_mode_is_refused():
    from service.config import ConfigError

    with pytest.raises(ConfigError, match="LOG_REQUESTS"):
        logs.request_log_mode("verbose")
