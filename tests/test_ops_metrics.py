"""GET /metrics: Prometheus text, restricted to allowed networks or a bearer token."""


import pytest

from service.ops import metrics

PROGRESS = "/v1/campaigns/members-25k/progress"


def sample(text: str, name: str, **labels: str) -> float:
    want = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    prefix = f"{name}{{{want}}} " if labels else f"{name} "
    for line in text.splitlines():
        if line.startswith(prefix):
            return float(line.split()[-1])
    return 0.0


def scrape(client, **kw) -> str:
    r = client.get("/metrics", **kw)
    assert r.status_code == 200, r.data
    assert r.mimetype == "text/plain"
    return r.get_data(as_text=True)


def test_requests_are_counted_by_url_rule_and_status(client, demo_campaign):
    before = scrape(client)
    rule = "/v1/campaigns/<slug>/progress"
    for _ in range(3):
        assert client.get(PROGRESS).status_code == 200
    assert client.get("/v1/campaigns/nope/progress").status_code == 404
    after = scrape(client)
    ok = dict(endpoint=rule, method="GET", status="200")
    assert sample(after, "http_requests_total", **ok) - sample(before, "http_requests_total", **ok) == 3
    nf = dict(endpoint=rule, method="GET", status="404")
    assert sample(after, "http_requests_total", **nf) - sample(before, "http_requests_total", **nf) == 1
    count = "http_request_duration_seconds_count"
    assert sample(after, count, endpoint=rule) - sample(before, count, endpoint=rule) == 4
    assert 'endpoint="/v1/campaigns/nope/progress"' not in after  # raw paths never become labels


def test_unmatched_paths_share_one_label(client):
    client.get("/no/such/thing/1")
    client.get("/no/such/thing/2")
    text = scrape(client)
    assert sample(text, "http_requests_total", endpoint="<unmatched>", method="GET", status="404") >= 2
    assert "/no/such/thing" not in text


def test_progress_cache_hits_and_misses(app, client, demo_campaign):
    app.extensions["progress_cache"].ttl = 60
    before = scrape(client)
    for _ in range(4):
        client.get(PROGRESS)
    after = scrape(client)
    assert sample(after, "progress_cache_misses_total") - sample(before, "progress_cache_misses_total") == 1
    assert sample(after, "progress_cache_hits_total") - sample(before, "progress_cache_hits_total") == 3


def test_current_count_per_campaign(client, session, clock, demo_campaign):
    from service.campaigns import services

    services.adjust(session, demo_campaign, delta=42, reason="festival", who="t", now=clock.now())
    session.commit()
    text = scrape(client)
    assert sample(text, "campaign_members", campaign="members-25k") == 42
    assert sample(text, "campaign_goal", campaign="members-25k") == 25_000
    assert sample(text, "database_up") == 1


def test_webhook_events_by_type_and_outcome(client):
    before = scrape(client)
    metrics.record_webhook("invoice.paid", "applied")
    metrics.record_webhook("invoice.paid", "applied")
    metrics.record_webhook("invoice.paid", "duplicate")
    after = scrape(client)
    applied = dict(type="invoice.paid", outcome="applied")
    assert sample(after, "webhook_events_total", **applied) - sample(before, "webhook_events_total", **applied) == 2
    dup = dict(type="invoice.paid", outcome="duplicate")
    assert sample(after, "webhook_events_total", **dup) - sample(before, "webhook_events_total", **dup) == 1


def test_metrics_refused_from_other_networks(client):
    r = client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert r.status_code == 403 and r.mimetype == "application/problem+json"


def test_metrics_refused_through_an_uncounted_proxy(client):
    r = client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
    assert r.status_code == 403


class TestToken:
    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "METRICS_TOKEN": "s3cret-scrape-token", "METRICS_ALLOWED_NETWORKS": ""}

    def test_token_opens_metrics_from_anywhere(self, client):
        outside = {"REMOTE_ADDR": "203.0.113.9"}
        assert client.get("/metrics", environ_base=outside).status_code == 403
        bad = {"Authorization": "Bearer wrong"}
        assert client.get("/metrics", environ_base=outside, headers=bad).status_code == 403
        good = {"Authorization": "Bearer s3cret-scrape-token"}
        assert client.get("/metrics", environ_base=outside, headers=good).status_code == 200

    def test_no_network_is_allowed_when_the_list_is_empty(self, client):
        assert client.get("/metrics").status_code == 403


class TestNetworksBehindProxy:
    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "PROXY_HOPS": 1, "METRICS_ALLOWED_NETWORKS": "10.0.0.0/8"}

    def test_client_address_from_the_trusted_proxy(self, client):
        assert client.get("/metrics", headers={"X-Forwarded-For": "10.1.2.3"}).status_code == 200
        assert client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 403


def test_address_matching():
    nets = metrics.parse_networks("127.0.0.1/32,::1/128,10.0.0.0/8")
    assert metrics.address_allowed("127.0.0.1", nets) and metrics.address_allowed("::1", nets)
    assert metrics.address_allowed("::ffff:10.2.3.4", nets)
    assert not metrics.address_allowed("192.0.2.1", nets) and not metrics.address_allowed("junk", nets)
    assert not metrics.address_allowed(None, nets)


def test_an_empty_multiprocess_setting_serves_metrics_from_this_process(database_url):
    """PROMETHEUS_MULTIPROC_DIR="" (how the bench and a plain `flask run` may leave it) means one process:
    whichever feature is set up first, nothing may load prometheus-client before ops has read that setting."""
    import os
    import subprocess
    import sys

    code = ("from service import create_app\n"
            f"app = create_app({{'DATABASE_URL': {database_url!r}, 'SERVICE_ENV': 'test', 'LOG_LEVEL': 'WARNING'}})\n"
            "r = app.test_client().get('/metrics')\n"
            "assert r.status_code == 200 and b'campaign_members' in r.data, r.data\n")
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": ""}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)  # noqa: S603
    assert done.returncode == 0, done.stderr[-2000:]
