"""The progress fast path answers cache hits without Flask, with exactly the headers Flask produced."""

import pytest

from service.ops.fastpath import FastPath

PROGRESS = "/v1/campaigns/members-25k/progress"


@pytest.fixture
def app_config(app_config):
    return {**app_config, "PROGRESS_CACHE_SECONDS": 60.0,
            "WIDGET_ALLOWED_ORIGINS": "https://news.example,https://other.example"}


@pytest.fixture
def flask_calls(app):
    """How many requests reached Flask's request handling."""
    calls = []
    app.before_request_funcs.setdefault(None, []).append(lambda: calls.append(1) and None)
    return calls


def comparable(response):
    return sorted((k, v) for k, v in response.headers.items() if k not in ("X-Request-ID",))


def test_a_cache_hit_skips_flask_with_the_same_answer(app, client, demo_campaign, flask_calls):
    assert isinstance(app.wsgi_app, FastPath)
    first = client.get(PROGRESS + "?locale=uk")
    second = client.get(PROGRESS + "?locale=uk")
    assert len(flask_calls) == 1
    assert second.status_code == 200 and second.data == first.data
    assert comparable(second) == comparable(first)
    assert second.headers["X-Request-ID"] != first.headers["X-Request-ID"]
    assert "Content-Security-Policy" in second.headers and second.headers["ETag"]


def test_request_ids_are_echoed_or_made(client, demo_campaign, flask_calls):
    client.get(PROGRESS)
    assert client.get(PROGRESS, headers={"X-Request-ID": "abc-123"}).headers["X-Request-ID"] == "abc-123"
    made = client.get(PROGRESS, headers={"X-Request-ID": "bad id with spaces"}).headers["X-Request-ID"]
    assert made != "bad id with spaces" and len(made) == 32
    assert len(flask_calls) == 1


def test_cors_answers_follow_the_origin(client, demo_campaign, flask_calls):
    for _ in range(2):
        allowed = client.get(PROGRESS, headers={"Origin": "https://news.example"})
        assert allowed.headers["Access-Control-Allow-Origin"] == "https://news.example"
        other = client.get(PROGRESS, headers={"Origin": "https://other.example"})
        assert other.headers["Access-Control-Allow-Origin"] == "https://other.example"
        foreign = client.get(PROGRESS, headers={"Origin": "https://evil.example"})
        assert "Access-Control-Allow-Origin" not in foreign.headers
    assert len(flask_calls) == 3  # one per origin, then from the record


def test_conditional_and_other_requests_go_through_flask(client, demo_campaign, flask_calls):
    etag = client.get(PROGRESS).headers["ETag"]
    assert client.get(PROGRESS, headers={"If-None-Match": etag}).status_code == 304
    assert client.head(PROGRESS).status_code == 200
    assert client.get("/v1/campaigns/nope/progress").status_code == 404
    assert client.get("/v1/campaigns/nope/progress").status_code == 404
    assert len(flask_calls) == 5


def test_a_new_cache_entry_is_served_by_flask_first(app, client, demo_campaign, flask_calls):
    client.get(PROGRESS)
    client.get(PROGRESS)
    app.extensions["progress_cache"].clear()  # as when the entry expires
    client.get(PROGRESS)
    client.get(PROGRESS)
    assert len(flask_calls) == 2


def test_fast_hits_are_counted_in_the_metrics(client, demo_campaign):
    from prometheus_client import REGISTRY

    def served() -> float:
        return REGISTRY.get_sample_value("http_requests_total", {
            "endpoint": "/v1/campaigns/<slug>/progress", "method": "GET", "status": "200"}) or 0.0

    before = served()
    for _ in range(3):
        client.get(PROGRESS)
    assert served() - before == 3


@pytest.mark.parametrize("setting", [{"LOG_REQUESTS": "all"}, {"RATELIMIT_PROGRESS": "100/minute"}])
def test_settings_that_need_every_request_in_flask_turn_it_off(app_config, setting):
    from service import create_app

    app = create_app({**app_config, **setting})
    assert not isinstance(app.wsgi_app, FastPath)
    from service.extensions import db

    with app.app_context():
        db.engine.dispose()


# --- the invariant: a fast answer is Flask's answer to the same request ---------------------------------

HEADER_VARIANTS = [
    {}, {"Origin": "https://news.example"}, {"Origin": "https://other.example"}, {"Origin": "https://evil.example"},
    {"Cookie": "session=abc.def"}, {"Cookie": "reader=1; member_token=x"}, {"Accept-Encoding": "gzip, br"},
    {"Accept": "text/html"}, {"Accept-Language": "uk"}, {"X-Forwarded-For": "198.51.100.7"},
    {"Authorization": "Bearer mst_x"}, {"X-Request-ID": "abc-123"}, {"User-Agent": "curl/8"},
    {"Cache-Control": "no-cache"}, {"Referer": "https://news.example/a"},
    {"Origin": "https://news.example", "Cookie": "session=x", "Accept-Language": "en"},
    {"Accept-Language": "uk-UA,uk;q=0.9,en;q=0.8"}, {"Accept-Language": "de;q=0.5, uk"}, {"Accept-Language": "*"},
]
QUERIES = ["", "locale=uk", "locale=uk-UA", "locale=en&utm_source=x", "_=123", "locale=", "locale=zz",
           "a=1&locale=uk&b=2", "locale=UK&locale=en"]


def _answer(wsgi, query: str, headers: dict) -> tuple:
    from werkzeug.test import EnvironBuilder

    environ = EnvironBuilder(path=PROGRESS, query_string=query, headers=headers).get_environ()
    started: list = []
    body = b"".join(wsgi(environ, lambda status, hdrs, exc_info=None: started.extend([status, hdrs])))
    status, hdrs = started
    return status, sorted((k, v) for k, v in hdrs if k != "X-Request-ID"), body


def mismatches(app, flask_calls) -> tuple[list, int]:
    """Every (query, headers) asked twice through the whole stack (the second time mostly answered by the fast
    path from a record another variant may have made) and once straight to Flask; the differences, and how
    many answers the fast path gave."""
    fast, flask_only = app.wsgi_app, app.wsgi_app.wsgi_app
    found, fast_answers = [], 0
    for _ in range(2):
        for query in QUERIES:
            for headers in HEADER_VARIANTS:
                before = len(flask_calls)
                got = _answer(fast, query, headers)
                fast_answers += len(flask_calls) == before
                expected = _answer(flask_only, query, headers)
                if got != expected:
                    found.append((query, headers, got[:2], expected[:2]))
    return found, fast_answers


def test_a_fast_answer_is_flasks_answer_to_the_same_request(app, demo_campaign, flask_calls):
    found, fast_answers = mismatches(app, flask_calls)
    assert not found, found[:3]
    assert fast_answers > len(QUERIES) * len(HEADER_VARIANTS)  # most second answers came from the fast path


def test_the_invariant_check_catches_a_header_that_depends_on_the_request(app, demo_campaign, flask_calls):
    from flask import request

    @app.after_request
    def by_accept(response):  # a header that depends on something other than the entry, Origin and its key
        response.headers["X-Accept"] = request.headers.get("Accept", "*/*")
        return response

    found, _ = mismatches(app, flask_calls)
    assert found
    assert all(dict(got[1]).get("X-Accept") != dict(expected[1]).get("X-Accept")
               for _query, _headers, got, expected in found)
