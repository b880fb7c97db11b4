"""Small things a user hit (issue 13, item 7): `make run` lines and PORT, campaign list in the campaign's
time zone, Accept-Language picking the locale (with Vary), the Ukrainian embed's name, the home page and the
API docs served without a CDN, one log line per request without colour codes, the beacon's CORP header,
adjustments below zero and CLI adjustments on the dashboard, the widget hiding an archived campaign."""

from __future__ import annotations

import io
import logging
import os
import re
import stat
import subprocess
import threading
import urllib.request
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from service.campaigns.models import Campaign
from tests import factories
from tests.conftest import ROOT
from tests.staff_support import fast_hashing, signed_in  # noqa: F401 - fast_hashing is autouse

UK_ACCEPT = {"Accept-Language": "uk-UA,uk;q=0.9,en;q=0.8"}


# ---- make run --------------------------------------------------------------------------------------------

FAKE_TOOL = """#!/bin/sh
echo "$(basename "$0") $* | PUBLIC_BASE_URL=$PUBLIC_BASE_URL | SITE_ALLOWED_ORIGINS=$SITE_ALLOWED_ORIGINS"
"""


@pytest.fixture
def fake_venv(tmp_path: Path) -> Path:
    """A virtualenv whose `flask` and `python` print how they were called, installed already (no pip)."""
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    for name in ("flask", "python"):
        tool = venv / "bin" / name
        tool.write_text(FAKE_TOOL)
        tool.chmod(tool.stat().st_mode | stat.S_IEXEC)
    for marker in (".installed", ".installed-test"):
        (venv / marker).touch()
    os.utime(venv / ".installed", (2**31, 2**31))  # newer than pyproject.toml
    return venv


def make_run(venv: Path, *args: str) -> str:
    env = {k: v for k, v in os.environ.items()
           if k not in ("PUBLIC_BASE_URL", "SITE_ALLOWED_ORIGINS", "FLASK_APP", "MAKEFLAGS")}
    done = subprocess.run(["make", "--no-print-directory", "run", f"VENV={venv}", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_make_run_port_builds_every_link_with_that_port(fake_venv):
    out = make_run(fake_venv, "PORT=5123")
    calls = [line for line in out.splitlines() if line.startswith("flask ")]
    assert [c.split(" |")[0] for c in calls] == ["flask db upgrade", "flask demo --signups 20000",
                                                "flask run --host 127.0.0.1 --port 5123"]
    for call in calls:  # the demo's call to action and the allowed origins follow the port
        assert "PUBLIC_BASE_URL=http://127.0.0.1:5123 " in call
        assert "SITE_ALLOWED_ORIGINS=http://127.0.0.1:5123,http://localhost:5123" in call
    links = re.findall(r"https?://[^\s)]+", out.split("flask run")[0])
    assert links and all(":5123" in link for link in links), links


def test_make_run_keeps_urls_set_in_the_environment(fake_venv):
    env_url = "http://127.0.0.1:8088"
    done = subprocess.run(["make", "--no-print-directory", "run", f"VENV={fake_venv}", "PORT=5123"], cwd=ROOT,
                          env={**os.environ, "PUBLIC_BASE_URL": env_url}, capture_output=True, text=True, timeout=60)
    assert f"PUBLIC_BASE_URL={env_url} " in done.stdout


def test_the_staff_line_make_run_prints_can_be_pasted(fake_venv):
    out = make_run(fake_venv)
    (line,) = [line.strip() for line in out.splitlines() if "staff create" in line]
    assert line.startswith(f"{fake_venv}/bin/flask --app service staff create ")
    # Pasted in a shell without make's FLASK_APP, the command finds the app.
    pasted = line.replace(f"{fake_venv}/bin/", ".venv/bin/").split() + ["--help"]
    env = {k: v for k, v in os.environ.items() if k != "FLASK_APP"}
    done = subprocess.run(pasted, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "--email" in done.stdout


def test_demo_moves_its_join_url_to_the_current_port(app, runner, session, clock):
    app.config["PUBLIC_BASE_URL"] = "http://127.0.0.1:5000"
    assert runner.invoke(args=["demo"]).exit_code == 0
    app.config["PUBLIC_BASE_URL"] = "http://127.0.0.1:5123"  # `make run PORT=5123` later
    r = runner.invoke(args=["demo"])
    assert r.exit_code == 0 and "join URL is now http://127.0.0.1:5123/demo/join" in r.output
    session.expire_all()
    assert session.query(Campaign).one().join_url == "http://127.0.0.1:5123/demo/join"


# ---- campaign list, adjust -----------------------------------------------------------------------------

def test_campaign_list_shows_the_days_in_the_campaigns_own_time_zone(runner, session, clock):
    factories.campaign(session, clock.now(), slug="kyiv", starts=date(2025, 3, 1), ends=date(2025, 5, 31),
                       timezone="Europe/Kyiv")
    session.commit()
    out = runner.invoke(args=["campaign", "list"]).output
    assert "2025-03-01 .. 2025-05-31 (Europe/Kyiv)" in out  # was 2025-02-28 .. 2025-05-31 (UTC)


def test_adjust_below_zero_warns(runner, session, clock):
    factories.campaign(session, clock.now(), slug="spring")
    session.commit()
    r = runner.invoke(args=["campaign", "adjust", "--slug", "spring", "--delta", "-5", "--reason", "typo"])
    assert r.exit_code == 0
    assert "Warning: this adjustment takes the count of spring below zero (0 -> -5)" in r.output
    r = runner.invoke(args=["campaign", "adjust", "--slug", "spring", "--delta", "10", "--reason", "event"])
    assert "Warning" not in r.output


def test_cli_adjustments_are_in_the_dashboards_audit_log(runner, client, session, clock):
    factories.campaign(session, clock.now(), slug="spring")
    session.commit()
    r = runner.invoke(args=["campaign", "adjust", "--slug", "spring", "--delta", "120", "--reason",
                            "festival sign-ups", "--by", "ops-anna"])
    assert r.exit_code == 0
    signed_in(client, session, clock, "viewer")
    page = client.get("/staff/campaigns/spring").get_data(as_text=True)
    assert "ops-anna" in page and "festival sign-ups" in page


# ---- Accept-Language ------------------------------------------------------------------------------------

@pytest.fixture
def demo(demo_campaign):
    return demo_campaign


def test_progress_picks_the_readers_language_without_a_locale_parameter(client, demo):
    uk = client.get("/v1/campaigns/members-25k/progress", headers=UK_ACCEPT)
    assert uk.status_code == 200 and uk.json["banner"]["locale"] == "uk"
    assert uk.headers["Vary"] == "Accept-Language"
    assert client.get("/v1/campaigns/members-25k/progress").json["banner"]["locale"] == "en"
    explicit = client.get("/v1/campaigns/members-25k/progress?locale=en", headers=UK_ACCEPT)
    assert explicit.json["banner"]["locale"] == "en"  # the parameter wins
    unknown = client.get("/v1/campaigns/members-25k/progress", headers={"Accept-Language": "de, fr;q=0.5"})
    assert unknown.json["banner"]["locale"] == "en"  # no copy in those: the campaign's default
    again = client.get("/v1/campaigns/members-25k/progress", headers={**UK_ACCEPT, "If-None-Match": uk.headers["ETag"]})
    assert again.status_code == 304 and again.headers["Vary"] == "Accept-Language"


def test_the_fast_path_keys_on_accept_language(app, demo):
    """Served twice (the second answer from ops/fastpath.py's record) in each language: never the other's."""
    from werkzeug.test import Client

    wsgi = Client(app.wsgi_app)
    for _ in range(3):
        for headers, locale in ((UK_ACCEPT, "uk"), ({"Accept-Language": "en-GB"}, "en"), ({}, "en")):
            r = wsgi.get("/v1/campaigns/members-25k/progress", headers=headers)
            assert r.json["banner"]["locale"] == locale


def test_banner_embed_and_access_prompt_pick_the_readers_language(client, demo):
    banner = client.get("/v1/campaigns/members-25k/banner.html", headers=UK_ACCEPT)
    assert banner.status_code == 200 and 'lang="uk"' in banner.get_data(as_text=True)
    assert "Accept-Language" in banner.headers["Vary"]
    embed = client.get("/embed/campaigns/members-25k", headers=UK_ACCEPT)
    assert '<html lang="uk"' in embed.get_data(as_text=True) and "Accept-Language" in embed.headers["Vary"]
    en = client.get("/v1/campaigns/members-25k/banner.html?locale=en", headers=UK_ACCEPT)
    assert 'lang="en"' in en.get_data(as_text=True)
    access = client.post("/v1/access", headers=UK_ACCEPT,
                         json={"article": {"id": "a1", "visibility": "members"}, "reader_id": None})
    for _ in range(3):  # run the meter down until the prompt shows
        access = client.post("/v1/access", headers=UK_ACCEPT, json={
            "article": {"id": f"a{_ + 2}", "visibility": "members"}, "reader_id": access.json["reader_id"]})
    assert access.json["prompt"]["locale"] == "uk"


def test_ukrainian_embed_is_named_in_ukrainian(client, demo):
    html = client.get("/embed/campaigns/members-25k?locale=uk").get_data(as_text=True)
    assert "<title>Поступ кампанії членства до мети</title>" in html
    assert 'aria-label="Поступ кампанії членства до мети"' in html
    en = client.get("/embed/campaigns/members-25k?locale=en").get_data(as_text=True)
    assert f"<title>{demo.title}</title>" in en and f'aria-label="{demo.title}"' in en


def test_widget_js_names_the_bar_in_the_readers_language(client, demo):
    code = client.get("/widget.js").get_data(as_text=True).split("*/", 1)[1]  # after the header comment
    assert "Поступ кампанії членства до мети" in code and "__MW_LABELS__" not in code


# ---- home page and API docs -----------------------------------------------------------------------------

def test_home_page_links_the_demo_the_docs_and_the_openapi_document(client):
    r = client.get("/")
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and r.mimetype == "text/html"
    for href in ('href="/demo"', 'href="/docs"', 'href="/openapi.json"', 'href="/staff/"'):
        assert href in html
    for link in re.findall(r'href="([^"]+)"', html):
        assert client.get(link).status_code in (200, 302), link


def test_api_docs_are_served_from_the_package_with_no_external_url(client):
    page = client.get("/docs")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    refs = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert refs and all(ref.startswith("/") and not ref.startswith("//") for ref in refs), refs
    assert "http" not in page.headers["Content-Security-Policy"]
    for ref in refs:
        asset = client.get(ref)
        assert asset.status_code == 200 and len(asset.data) > 100, ref
    assert "SwaggerUIBundle" in client.get("/docs/assets/swagger-ui-bundle.js").get_data(as_text=True)
    assert client.get("/docs/assets/index.html").status_code == 404  # only the files the page needs


# ---- logs, beacon ---------------------------------------------------------------------------------------

def test_each_request_is_logged_once_without_colour_codes(app, demo):
    """Under werkzeug's development server (what `flask run` uses), one JSON line per request."""
    from werkzeug.serving import make_server

    from service.ops import logs

    app.config["LOG_REQUESTS"] = "all"
    stream = io.StringIO()
    handler = logs.configure("INFO", "json", stream)
    server = make_server("127.0.0.1", 0, app.wsgi_app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/docs") as r:  # noqa: S310
            assert r.status == 200
        logging.getLogger("werkzeug").info("\x1b[33mcoloured\x1b[0m startup line")
    finally:
        server.shutdown()
        thread.join()
        logging.getLogger().removeHandler(handler)
    lines = stream.getvalue().splitlines()
    assert len([line for line in lines if "/docs" in line]) == 1, lines
    assert "\x1b" not in stream.getvalue() and "\\u001b" not in stream.getvalue()
    assert any("coloured startup line" in line for line in lines)


def test_beacon_is_readable_cross_origin(client, demo):
    r = client.post("/v1/campaigns/members-25k/events", json={"type": "impression", "locale": "en"},
                    headers={"Origin": "https://news.example"})
    assert r.status_code == 204
    assert r.headers["Cross-Origin-Resource-Policy"] == "cross-origin"


# ---- the widget hides an archived campaign ----------------------------------------------------------------

@pytest.mark.browser
def test_widget_hides_itself_when_the_campaign_is_archived(browser, app, session, clock, demo):
    from service.campaigns import admin
    from tests.support import ThreadedServer
    from tests.test_widget_browser import READ, HostSite

    # The browser's HTTP cache would keep the 200 for PROGRESS_MAX_AGE seconds: this test reloads at once.
    app.extensions["progress_cache"].cache_control = "no-cache"
    service, host = ThreadedServer(app), HostSite()
    context = browser.new_context()
    try:
        page = context.new_page()
        warnings: list[str] = []
        page.on("console", lambda m: warnings.append(m.text) if m.type == "warning" else None)
        url = host.page("/a", '<div data-membership-campaign="members-25k"></div><p id=after>After</p>'
                        f'<script src="{service.url}/widget.js" async></script>')
        page.goto(url)
        page.wait_for_function("() => { const h = document.querySelector('[data-membership-campaign]');"
                               " return h.shadowRoot && h.shadowRoot.querySelector('.mw') }")
        assert page.eval_on_selector("[data-membership-campaign]", READ)["visible"]
        admin.set_archived(session, session.get(Campaign, demo.id), True, now=clock.now())
        session.commit()
        app.extensions["progress_cache"].clear()
        page.reload()  # same tab: the last data seen is kept, but a 410 means gone, not down
        page.wait_for_function("() => document.querySelector('[data-membership-campaign]').style.minHeight === '0px'")
        assert page.eval_on_selector("[data-membership-campaign]", "h => [h.getBoundingClientRect().height, "
                                     "h.shadowRoot.querySelector('.mw, a')]") == [0, None]
        assert page.text_content("#after") == "After"
        assert warnings == []
    finally:
        context.close()
        service.stop()
        host.server.stop()


def test_demo_campaign_fixture_is_running(demo, clock):
    assert demo.starts_at <= clock.now() < demo.ends_at  # the tests above read a running campaign
    assert clock.now() == datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
