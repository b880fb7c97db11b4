"""Rate limits from configuration; a 429 is problem+json with Retry-After."""


import pytest

PROGRESS = "/v1/campaigns/members-25k/progress"


@pytest.fixture
def app_config(app_config):
    return {**app_config, "RATELIMIT_PROGRESS": "3/minute", "RATELIMIT_PUBLIC_WRITE": "2/minute"}


@pytest.fixture
def write_routes(app):
    @app.route("/_test/write", methods=["GET", "POST"])
    def write():
        return {"ok": True}


def test_progress_limit_gives_a_429_problem_with_retry_after(client, demo_campaign):
    for _ in range(3):
        r = client.get(PROGRESS)
        assert r.status_code == 200
        assert r.headers["X-RateLimit-Limit"] == "3"
    r = client.get(PROGRESS)
    assert r.status_code == 429 and r.mimetype == "application/problem+json"
    body = r.get_json()
    assert body["status"] == 429 and body["title"] == "Too Many Requests"
    assert 0 < int(r.headers["Retry-After"]) <= 60
    assert r.headers["X-Request-ID"] and r.headers["X-Content-Type-Options"] == "nosniff"


def test_limits_are_per_client_address(client, demo_campaign):
    for _ in range(3):
        client.get(PROGRESS)
    assert client.get(PROGRESS).status_code == 429
    assert client.get(PROGRESS, environ_base={"REMOTE_ADDR": "192.0.2.7"}).status_code == 200


def test_writes_get_the_default_limit_reads_and_webhooks_do_not(client, write_routes):
    assert [client.post("/_test/write").status_code for _ in range(3)] == [200, 200, 429]
    assert all(client.get("/_test/write").status_code == 200 for _ in range(5))
    # Stripe's webhook endpoint (exempt: payments registers it with ops); unsigned, so a 400 each time
    assert [client.post("/v1/webhooks/stripe", data=b"{}").status_code for _ in range(5)] == [400] * 5


def test_health_endpoints_are_never_limited(client):
    assert all(client.get("/healthz").status_code == 200 for _ in range(10))


class TestBehindProxy:
    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "PROXY_HOPS": 1}

    def test_the_forwarded_client_address_is_the_key(self, client, demo_campaign):
        a = {"X-Forwarded-For": "198.51.100.1"}
        b = {"X-Forwarded-For": "198.51.100.2"}
        assert [client.get(PROGRESS, headers=a).status_code for _ in range(4)] == [200, 200, 200, 429]
        assert client.get(PROGRESS, headers=b).status_code == 200


class TestDisabled:
    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "RATELIMIT_PROGRESS": ""}

    def test_an_empty_setting_means_no_limit(self, client, demo_campaign):
        assert all(client.get(PROGRESS).status_code == 200 for _ in range(6))


class TestRedis:
    @pytest.fixture
    def app_config(self, app_config):
        # Nothing listens on port 1: the storage is unreachable, requests must still be served.
        return {**app_config, "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:1/0"}

    def test_redis_uri_reaches_flask_limiter_and_a_dead_redis_does_not_fail_requests(self, app, client,
                                                                                      demo_campaign):
        from limits.storage import RedisStorage

        from service.extensions import limiter

        assert app.config["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:1/0"
        assert isinstance(limiter.storage, RedisStorage)
        assert client.get(PROGRESS).status_code == 200


def test_a_views_own_retry_after_on_503_is_kept(app, client):
    from service.errors import Unavailable

    @app.route("/_test/busy", methods=["POST"])
    def busy():
        raise Unavailable("Stripe is not answering")

    @app.after_request
    def add_retry(response):
        if response.status_code == 503:
            response.headers["Retry-After"] = "30"
        return response

    r = client.post("/_test/busy")
    assert r.status_code == 503 and int(r.headers["Retry-After"]) >= 30


def test_ok_responses_carry_no_retry_after(client, write_routes):
    r = client.post("/_test/write")
    assert r.status_code == 200 and "X-RateLimit-Limit" in r.headers
    assert "Retry-After" not in r.headers
