"""Security headers, cookies, body size limit and no stack traces to clients in production."""


import pytest

from tests.conftest import TEST_CONFIG


def test_json_responses_get_the_strict_headers(client):
    r = client.get("/healthz")
    h = r.headers
    assert h["X-Content-Type-Options"] == "nosniff"
    assert h["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert h["Content-Security-Policy"].startswith("default-src 'none'")
    assert "frame-ancestors 'none'" in h["Content-Security-Policy"]
    assert h["X-Frame-Options"] == "DENY"
    assert h["Cross-Origin-Resource-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in h  # only in production


def test_problem_responses_get_them_too(client):
    r = client.get("/no/such/path")
    assert r.status_code == 404 and r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["X-Request-ID"]


def test_progress_may_be_read_cross_origin(client, demo_campaign):
    r = client.get("/v1/campaigns/members-25k/progress")
    assert r.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
    assert r.headers["Content-Security-Policy"].startswith("default-src 'none'")


def test_html_pages_get_a_same_origin_policy_and_no_framing(app, client):
    @app.route("/_test/page")
    def page():
        return "<!doctype html><title>x</title>"

    r = client.get("/_test/page")
    csp = r.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert r.headers["X-Frame-Options"] == "DENY"


class TestEmbed:
    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "WIDGET_ALLOWED_ORIGINS": "https://news.example"}

    def test_embed_page_headers(self, app, client):
        @app.route("/embed/_test")
        def embed():
            return "<!doctype html><title>embed</title>"

        @app.route("/embed/_own_csp")
        def own():
            return "<p>own</p>", 200, {"Content-Security-Policy": "default-src 'none'; frame-ancestors *"}

        r = client.get("/embed/_test")  # a framable page whose view forgot its policy: no framing at all
        assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
        assert "X-Frame-Options" not in r.headers
        assert r.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
        r = client.get("/embed/_own_csp")
        assert r.headers["Content-Security-Policy"] == "default-src 'none'; frame-ancestors *"  # the view's wins


def test_request_bodies_over_the_limit_are_413_problems(app, client):
    @app.route("/_test/echo", methods=["POST"])
    def echo():
        from flask import request

        return {"size": len(request.get_data())}

    assert client.post("/_test/echo", data=b"x" * 1000).get_json() == {"size": 1000}
    r = client.post("/_test/echo", data=b"x" * (1024 * 1024 + 1), content_type="application/json")
    assert r.status_code == 413 and r.mimetype == "application/problem+json"
    assert r.get_json()["status"] == 413
    # also on routes that never read the body, and before routing decides anything
    r = client.post("/v1/campaigns/x/progress", data=b"x" * (2 * 1024 * 1024))
    assert r.status_code == 413


def production_config(**extra):
    """TEST_CONFIG with SERVICE_ENV=production and a real-looking value for every required secret."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    from service.config import SECRETS

    cfg = {**TEST_CONFIG, "SERVICE_ENV": "production", "TESTING": False,
           "PUBLIC_BASE_URL": "https://membership.news.example", "SITE_ALLOWED_ORIGINS": "https://news.example",
           "SMTP_URL": "smtp+starttls://mailer:pw@mail.news.example:587"}
    for name, dev_default in SECRETS.items():
        if not cfg.get(name) or cfg[name] == dev_default:
            cfg[name] = "production-test-value-0123456789abcdef"
    if "ENTITLEMENT_KEYS" in SECRETS:
        key = ed25519.Ed25519PrivateKey.generate()
        cfg["ENTITLEMENT_KEYS"] = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                    serialization.NoEncryption()).decode()
    return {**cfg, **extra}


@pytest.fixture
def production_app(database_url, clock):
    from service import create_app

    app = create_app(production_config(database_url=database_url, clock=clock))

    @app.route("/_test/boom")
    def boom():
        raise RuntimeError("internal detail: password=hunter2 at /srv/app/secret.py")

    @app.route("/_test/cookie")
    def cookie():
        from flask import make_response

        response = make_response({"ok": True})
        response.set_cookie("reader", "abc", httponly=True, samesite="Lax")
        return response

    with app.app_context():
        yield app
        from service.extensions import db

        db.session.remove()
        db.engine.dispose()


def test_production_hides_stack_traces(production_app):
    production_app.debug = True  # even a debug flag left on must not leak the trace
    r = production_app.test_client().get("/_test/boom")
    assert r.status_code == 500 and r.mimetype == "application/problem+json"
    text = r.get_data(as_text=True)
    assert "hunter2" not in text and "Traceback" not in text and "RuntimeError" not in text
    assert r.get_json()["title"] == "Internal server error"


def test_production_sends_hsts_and_secure_cookies(production_app):
    client = production_app.test_client()
    r = client.get("/healthz")
    assert r.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert production_app.config["SESSION_COOKIE_SECURE"] is True
    assert production_app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert production_app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    cookie = client.get("/_test/cookie").headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie


def test_production_refuses_an_unknown_access_fail_mode(database_url):
    from service import create_app
    from service.config import ConfigError

    with pytest.raises(ConfigError, match="ACCESS_FAIL_MODE"):
        create_app({**TEST_CONFIG, "DATABASE_URL": database_url, "ACCESS_FAIL_MODE": "maybe"})


def test_cors_only_where_the_widget_needs_it(client, demo_campaign):
    origin = {"Origin": "https://elsewhere.example"}
    assert client.get("/v1/campaigns/members-25k/progress", headers=origin).headers.get("Access-Control-Allow-Origin")
    assert "Access-Control-Allow-Origin" not in client.get("/healthz", headers=origin).headers
    assert "Access-Control-Allow-Origin" not in client.get("/readyz", headers=origin).headers


def test_the_widgets_own_embed_page_keeps_its_policy_and_may_be_framed(client, demo_campaign):
    r = client.get("/embed/campaigns/members-25k")
    assert r.status_code == 200, "the widget's embed page must be there"
    assert "frame-ancestors" in r.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" not in r.headers["Content-Security-Policy"]
    assert "X-Frame-Options" not in r.headers
    assert r.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
