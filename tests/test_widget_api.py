"""The widget's server side: widget.js delivery, the HTML fragment, the iframe page, CORS, beacons."""

from __future__ import annotations

import gzip
import json
import re
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select, update

from service.campaigns import services
from service.campaigns.models import BannerCopy
from service.widget import assets, events, markup
from service.widget.models import WidgetDaily
from tests import factories


def counters(session) -> dict[tuple, int]:
    session.expire_all()
    return {(r.day, r.type, r.locale): r.count for r in session.scalars(select(WidgetDaily))}


# --- widget.js -------------------------------------------------------------------------------------------

def test_widget_js_is_small_and_has_no_placeholders_left(app):
    asset = app.extensions["widget_js"]
    assert len(gzip.compress(asset.body, 9)) <= assets.GZIP_LIMIT
    assert len(asset.gzipped) <= assets.GZIP_LIMIT
    text = asset.body.decode()
    assert "__MW_" not in text
    assert json.dumps(markup.stylesheet()) in text  # the same declarations as the server-rendered fragment
    assert "import " not in text and "require(" not in text  # no dependencies
    assert "innerHTML" not in text and "eval(" not in text  # data only ever becomes text


def test_widget_js_short_cache_with_etag_and_304(client):
    r = client.get("/widget.js")
    assert r.status_code == 200 and r.mimetype == "text/javascript"
    assert r.headers["Cache-Control"] == "public, max-age=300"
    etag = r.headers["ETag"]
    again = client.get("/widget.js", headers={"If-None-Match": etag})
    assert again.status_code == 304


def test_versioned_widget_js_is_immutable(client, app):
    version = app.extensions["widget_js"].version
    r = client.get(f"/widget/{version}.js")
    assert r.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert r.data == client.get("/widget.js").data
    old = client.get("/widget/0123456789abcdef.js")  # a page still pointing at an old version keeps working
    assert old.status_code == 200 and "immutable" not in old.headers["Cache-Control"]


def test_widget_js_gzipped_when_accepted(client, app):
    r = client.get("/widget.js", headers={"Accept-Encoding": "gzip, br"})
    assert r.headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in r.headers["Vary"]
    assert gzip.decompress(r.data) == app.extensions["widget_js"].body


# --- banner.html (no-JS fragment) --------------------------------------------------------------------------

def test_fragment_has_the_bar_with_aria_values(client, demo_campaign):
    r = client.get("/v1/campaigns/members-25k/banner.html?locale=en")
    assert r.status_code == 200 and r.mimetype == "text/html"
    html = r.get_data(as_text=True)
    assert 'role="progressbar"' in html
    assert 'aria-valuemin="0"' in html and 'aria-valuemax="25000"' in html and 'aria-valuenow="0"' in html
    assert 'aria-valuetext="0 out of 25,000 members"' in html
    assert ">0 out of 25,000</p>" in html
    assert 'href="https://news.example/join"' in html
    assert "Help us reach 25,000 members by the end of 2025." in html
    assert "<script" not in html and "<style" not in html  # inline styles only: nothing leaks into the host
    assert "var(--membership-bar-color," in html


def test_fragment_in_ukrainian(client, demo_campaign):
    html = client.get("/v1/campaigns/members-25k/banner.html?locale=uk").get_data(as_text=True)
    assert 'lang="uk"' in html and 'dir="ltr"' in html
    assert "aria-valuetext=\"0 з 25\u00a0000 учасників\"" in html


def test_fragment_is_cacheable_with_etag(client, demo_campaign):
    r = client.get("/v1/campaigns/members-25k/banner.html?locale=en")
    assert "public" in r.headers["Cache-Control"] and "max-age=5" in r.headers["Cache-Control"]
    assert client.get("/v1/campaigns/members-25k/banner.html?locale=en",
                      headers={"If-None-Match": r.headers["ETag"]}).status_code == 304


def test_fragment_escapes_copy_and_drops_unsafe_links(client, session, clock, demo_campaign):
    for stage in ("launch", "scheduled", "momentum", "final_push", "goal_reached", "ended"):
        services.set_copy(session, demo_campaign, locale="en", stage=stage,
                          headline='<img src=x onerror="alert(1)"> {count}', body="a & b <script>x</script>",
                          cta_label="Join \"now\"", now=clock.now())
    # set_copy refuses a javascript: link now; a row stored before that rule may still hold one
    session.execute(update(BannerCopy).values(cta_url="javascript:alert(1)"))
    session.commit()
    html = client.get("/v1/campaigns/members-25k/banner.html?locale=en").get_data(as_text=True)
    assert "<img" not in html and "<script" not in html
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt; 0" in html
    assert "a &amp; b &lt;script&gt;" in html
    assert "javascript:" not in html  # the campaign's join URL rather than a dangerous link
    assert 'href="https://news.example/join"' in html


def test_fragment_unknown_campaign_is_a_problem(client, demo_campaign):
    r = client.get("/v1/campaigns/nope/banner.html")
    assert r.status_code == 404 and r.mimetype == "application/problem+json"


def test_fragment_rtl_locale(client, session, clock):
    c = factories.campaign(session, clock.now(), slug="ar-drive", locale="ar")
    services.set_copy(session, c, locale="ar", stage="launch", headline="{count} من {goal}", body="انضم",
                      cta_label="انضم الآن", cta_url="https://news.example/ar", now=clock.now())
    session.commit()
    html = client.get("/v1/campaigns/ar-drive/banner.html?locale=ar").get_data(as_text=True)
    assert 'dir="rtl"' in html and 'lang="ar"' in html


# --- the iframe page -----------------------------------------------------------------------------------------

def test_embed_page_wraps_the_fragment_and_may_be_framed(client, demo_campaign):
    r = client.get("/embed/campaigns/members-25k?locale=uk")
    assert r.status_code == 200 and r.mimetype == "text/html"
    html = r.get_data(as_text=True)
    fragment = client.get("/v1/campaigns/members-25k/banner.html?locale=uk").get_data(as_text=True)
    assert fragment.strip() in html
    assert '<base target="_top">' in html  # the call to action opens in the embedding page
    csp = r.headers["Content-Security-Policy"]
    assert "frame-ancestors *" in csp
    assert assets.csp_hash(assets.FRAME_SCRIPT) in csp
    assert "X-Frame-Options" not in r.headers
    script = re.search(r"<script[^>]*>(.*?)</script>", html, re.S).group(1)
    assert script == assets.FRAME_SCRIPT  # byte for byte, or the CSP hash would block it


@pytest.mark.parametrize("setting, expected", [
    ("https://news.example, https://blog.news.example", "frame-ancestors https://news.example https://blog.news.example"),
    ("*", "frame-ancestors *"),
])
def test_frame_ancestors_follow_widget_allowed_origins(app, setting, expected):
    from service.config import csv

    assert assets.frame_ancestors(csv(setting)) == expected


def test_embed_unknown_campaign_is_an_empty_404_page(client, demo_campaign):
    r = client.get("/embed/campaigns/nope")
    assert r.status_code == 404 and r.mimetype == "text/html"
    assert "mw-bar" not in r.get_data(as_text=True)


# --- CORS ---------------------------------------------------------------------------------------------

def test_progress_json_allows_any_origin_without_credentials(client, demo_campaign):
    r = client.get("/v1/campaigns/members-25k/progress?locale=en", headers={"Origin": "https://blog.example"})
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in r.headers


def test_cors_is_not_on_other_routes(client, demo_campaign):
    r = client.get("/v1/campaigns/members-25k/banner.html", headers={"Origin": "https://blog.example"})
    assert "Access-Control-Allow-Origin" not in r.headers


class TestListedOrigins:
    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "WIDGET_ALLOWED_ORIGINS": "https://news.example,https://blog.news.example"}

    def test_only_listed_origins(self, client, demo_campaign):
        ok = client.get("/v1/campaigns/members-25k/progress", headers={"Origin": "https://blog.news.example"})
        assert ok.headers["Access-Control-Allow-Origin"] == "https://blog.news.example"
        bad = client.get("/v1/campaigns/members-25k/progress", headers={"Origin": "https://evil.example"})
        assert "Access-Control-Allow-Origin" not in bad.headers

    def test_preflight_for_events(self, client, demo_campaign):
        r = client.options("/v1/campaigns/members-25k/events", headers={
            "Origin": "https://news.example", "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type"})
        assert r.headers["Access-Control-Allow-Origin"] == "https://news.example"
        assert "POST" in r.headers["Access-Control-Allow-Methods"]

    def test_frame_ancestors(self, client, demo_campaign):
        csp = client.get("/embed/campaigns/members-25k").headers["Content-Security-Policy"]
        assert "frame-ancestors https://news.example https://blog.news.example" in csp


# --- conversion events ----------------------------------------------------------------------------------

def test_beacons_are_counted_per_day_type_and_locale(client, session, demo_campaign, clock):
    for _ in range(3):
        assert client.post("/v1/campaigns/members-25k/events",
                           json={"type": "impression", "locale": "en", "path": "/news/a?utm=x"}).status_code == 204
    r = client.post("/v1/campaigns/members-25k/events", data='{"type":"click","locale":"uk-UA","path":"/b"}',
                    content_type="text/plain;charset=UTF-8")  # what sendBeacon sends for a string
    assert r.status_code == 204
    client.post("/v1/campaigns/members-25k/events", json={"type": "impression", "locale": "zz-Fake"})
    clock.set(datetime(2025, 3, 2, 0, 30, tzinfo=UTC))
    client.post("/v1/campaigns/members-25k/events", json={"type": "impression"})
    assert counters(session) == {
        (date(2025, 3, 1), "impression", "en"): 4,  # unknown locales count under the campaign's default
        (date(2025, 3, 1), "click", "uk"): 1,
        (date(2025, 3, 2), "impression", "en"): 1,
    }


def test_nothing_personal_is_stored(session):
    columns = set(WidgetDaily.__table__.columns.keys())
    assert columns == {"id", "campaign_id", "day", "type", "locale", "count"}


def test_day_is_the_campaigns_local_day(client, session, clock):
    factories.campaign(session, clock.now(), slug="kyiv", timezone="Europe/Kyiv")
    session.commit()
    clock.set(datetime(2025, 6, 1, 22, 30, tzinfo=UTC))  # already 2 June in Kyiv
    client.post("/v1/campaigns/kyiv/events", json={"type": "click"})
    assert counters(session) == {(date(2025, 6, 2), "click", "en"): 1}


@pytest.mark.parametrize("body, status", [
    ({"type": "purchase"}, 422),
    ({}, 422),
    ({"type": "click", "locale": "x" * 36}, 422),
    ({"type": "click", "path": "/" * 2001}, 422),
    ({"type": 5}, 422),
])
def test_bad_events_are_422(client, demo_campaign, body, status):
    r = client.post("/v1/campaigns/members-25k/events", json=body)
    assert r.status_code == status and r.mimetype == "application/problem+json"


def test_malformed_body_is_4xx(client, demo_campaign):
    r = client.post("/v1/campaigns/members-25k/events", data="{not json", content_type="text/plain")
    assert 400 <= r.status_code < 500 and r.mimetype == "application/problem+json"


def test_unknown_campaign_event_is_404(client, demo_campaign):
    assert client.post("/v1/campaigns/nope/events", json={"type": "click"}).status_code == 404


def test_events_allow_cross_origin(client, demo_campaign):
    r = client.post("/v1/campaigns/members-25k/events", json={"type": "click"},
                    headers={"Origin": "https://blog.example"})
    assert r.status_code == 204 and r.headers["Access-Control-Allow-Origin"] == "*"


class TestRateLimit:
    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "WIDGET_EVENTS_RATE": "3/minute"}

    def test_events_are_rate_limited_per_ip(self, client, session, demo_campaign):
        codes = [client.post("/v1/campaigns/members-25k/events", json={"type": "impression"}).status_code
                 for _ in range(5)]
        assert codes == [204, 204, 204, 429, 429]
        other = client.post("/v1/campaigns/members-25k/events", json={"type": "impression"},
                            environ_base={"REMOTE_ADDR": "10.0.0.9"})
        assert other.status_code == 204
        assert counters(session)[(date(2025, 3, 1), "impression", "en")] == 4


# --- pure parts ---------------------------------------------------------------------------------------

def test_counted_locale():
    assert events.counted_locale("uk-UA", "en", {"en", "uk"}) == "uk"
    assert events.counted_locale("pt-BR", "en", {"en", "pt_BR"}) == "pt-BR"
    assert events.counted_locale("xx", "en", {"en", "uk"}) == "en"
    assert events.counted_locale(None, "uk", set()) == "uk"


def _luminance(hex_colour: str) -> float:
    rgb = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a: str, b: str) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def test_default_colours_meet_wcag_aa():
    assert contrast(markup.TEXT, markup.BG) >= 4.5  # body text
    assert contrast(markup.CTA_TEXT, markup.BAR) >= 4.5  # the call to action's label
    assert contrast(markup.BAR, markup.TRACK) >= 3.0  # the fill against its track (non-text contrast)
    assert contrast(markup.BAR, markup.BG) >= 3.0  # the button against the card


def test_safe_url():
    assert markup.safe_url("https://x.example/join") == "https://x.example/join"
    assert markup.safe_url(" JavaScript:alert(1)") == ""
    assert markup.safe_url("data:text/html,x") == ""
    assert markup.safe_url("") == ""


def test_valuetext_other_languages_use_the_headline():
    assert markup.valuetext(5, 10, "de", "5 von 10") == "5 von 10"
    assert markup.valuetext(1234, 25000, "en", "x") == "1,234 out of 25,000 members"


def test_demo_page(client, demo_campaign, app):
    r = client.get("/demo")
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert f"/widget/{app.extensions['widget_js'].version}.js" in html
    assert html.count('<div data-membership-campaign="members-25k"') == 2
    assert "/embed/campaigns/members-25k?locale=uk" in html


def test_demo_join_page(client):
    r = client.get("/demo/join")
    assert r.status_code == 200 and "counted the click" in r.get_data(as_text=True)


def test_no_demo_pages_in_production(client, app):
    app.config["SERVICE_ENV"] = "production"  # (a real production app also needs every secret set)
    assert client.get("/demo").status_code == 404
    assert client.get("/demo/join").status_code == 404


def test_past_the_goal_the_bar_is_full_and_says_the_real_count(client, session, clock, demo_campaign):
    services.adjust(session, demo_campaign, delta=26_000, reason="test", who="test", now=clock.now())
    session.commit()
    html = client.get("/v1/campaigns/members-25k/banner.html?locale=en").get_data(as_text=True)
    assert 'aria-valuenow="25000"' in html and 'aria-valuemax="25000"' in html  # valuenow may not exceed max
    assert 'aria-valuetext="26,000 out of 25,000 members"' in html
    assert "width:100%" in html


def test_concurrent_beacons_all_count(app, session, demo_campaign):
    """Many workers adding to the same row: the upsert never loses an increment or hits the unique key."""
    from concurrent.futures import ThreadPoolExecutor

    def post(i: int) -> int:
        return app.test_client().post("/v1/campaigns/members-25k/events", json={"type": "click"},
                                      environ_base={"REMOTE_ADDR": f"10.0.0.{i}"}).status_code

    with ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(post, range(40)))
    assert codes == [204] * 40
    assert counters(session) == {(date(2025, 3, 1), "click", "en"): 40}
