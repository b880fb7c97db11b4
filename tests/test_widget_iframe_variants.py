"""The iframe page in an experiment (issue 14, item 2), in a real browser: it shows the arm of a visitor id kept in
its own localStorage (the same on every page of a site and every reload), with the same rule as widget.js and
service/campaigns/experiments.py (the same code: assets.py builds the frame's script from widget.js), names the
arm in its beacons and on its link, shows the control without JavaScript, and its CSP still allows only its one
inline script. Also axe-core on the iframe page and on the script widget's appeal (no serious or critical
violations).

Debian's Chromium driven by Playwright; the service on 127.0.0.1, the host pages on `localhost` (another site, so
the frame is third-party, as on a newsroom's pages). Debian's build blocks third-party cookies, and with them a
cross-site frame's localStorage; Chrome as shipped allows them and partitions the frame's storage by the top-level
site. Most tests run that way (`browser` below); one runs the blocking default: the frame shows the control and
names no arm.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest

from service.campaigns import experiments, variants
from service.widget import assets
from tests import test_widget_browser as wb
from tests.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.test_widget_browser import JOIN, script, snippet

campaign, service, host, context, page = wb.campaign, wb.service, wb.host, wb.context, wb.page

pytestmark = pytest.mark.browser

SLUG = "members-25k"
CONTROL_HEADLINE = "12,345 out of 25,000"
ARMS = {  # name: (weight, headline, body, label); the control keeps 30%
    "last": (30, "Be one of the last {remaining}", "Variant last: readers like you keep us going.", "Join now"),
    "few": (40, "Only {remaining} to go", "Variant few: every member counts.", "Become a member"),
}


@pytest.fixture(scope="module")
def playwright() -> Iterator:
    if not CHROMIUM.exists():
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail("REQUIRE_BROWSER=1 but /usr/bin/chromium is missing (apt-get install chromium)")
        pytest.skip("/usr/bin/chromium is missing (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright) -> Iterator:  # noqa: ANN001
    """Chromium with third-party cookies allowed, as Chrome ships: a cross-site frame has localStorage,
    partitioned by the top-level site."""
    b = playwright.chromium.launch(executable_path=str(CHROMIUM),
                                   args=[*CHROMIUM_ARGS, "--disable-features=TrackingProtection3pcd"])
    yield b
    b.close()


@pytest.fixture(scope="module")
def blocking_browser(playwright) -> Iterator:  # noqa: ANN001
    """Debian's Chromium as it is: third-party cookies, and a cross-site frame's storage, blocked."""
    b = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield b
    b.close()


@pytest.fixture
def experiment(app, session, clock, campaign, client) -> list[dict]:
    """Two running variants of the copy the English banner shows; `banner.variants` as the progress JSON lists them."""
    stage = client.get(f"/v1/campaigns/{SLUG}/progress?locale=en").get_json()["stage"]
    for name, (weight, headline, body, label) in ARMS.items():
        variants.add(session, campaign, name=name, weight=weight, locale="en", stage=stage, headline=headline,
                     body=body, cta_label=label, cta_url=JOIN + "?from=" + name, now=clock.now())
    session.commit()
    app.extensions["progress_cache"].clear()
    listed = client.get(f"/v1/campaigns/{SLUG}/progress?locale=en").get_json()["banner"]["variants"]
    assert [v["weight"] for v in listed] == [30, 40]
    return listed


def frame_url(service) -> str:  # noqa: ANN001
    return f"{service.url}/embed/campaigns/{SLUG}?locale=en"


def on_localhost(url: str) -> str:
    """The host site's page on `localhost`: another site than the service's 127.0.0.1."""
    return url.replace("http://127.0.0.1:", "http://localhost:", 1)


SHOWN = """() => { const q = s => document.querySelector(s), a = q('.mw-cta');
  return {headline: q('.mw-h').textContent, body: q('.mw-b').textContent, label: a && a.textContent,
          href: a && a.href, visitor: localStorage.getItem('membership-widget:visitor')}; }"""


def shown_in(frame) -> dict:  # noqa: ANN001
    frame.wait_for_function("() => document.querySelector('.mw-cta').href.includes('variant=')")
    return frame.evaluate(SHOWN)


def expected_copy(listed: list[dict], visitor: str) -> tuple[int, dict | None]:
    arm = experiments.assign(SLUG, visitor, listed)
    return arm, next((v for v in listed if v["id"] == arm), None)


def variant_of(href: str) -> int:
    return int(parse_qs(urlsplit(href).query)["variant"][0])


def test_the_frame_keeps_one_arm_per_visitor_across_reloads_and_pages_and_names_it_in_beacons_and_link(
        page, service, host, experiment):
    beacons: list[dict] = []
    page.on("request", lambda r: beacons.append(json.loads(r.post_data)) if r.url.endswith("/events") else None)
    csp_errors: list[str] = []
    page.on("console", lambda m: csp_errors.append(m.text) if "Content Security Policy" in m.text else None)
    iframe = f'<iframe src="{frame_url(service)}" title="Membership drive" style="width:600px;border:0;height:260px">' \
             "</iframe>"
    first = on_localhost(host.page("/one", "<h1>An article</h1>" + iframe))
    second = on_localhost(host.page("/two", "<h1>Another article</h1>" + iframe))

    page.goto(first)
    shown = shown_in(page.frames[1])
    visitor = shown["visitor"]
    assert visitor and len(visitor) >= 16
    arm, copy = expected_copy(experiment, visitor)
    if copy is None:  # the control, with its own link
        assert shown["headline"] == CONTROL_HEADLINE and shown["href"].startswith(JOIN + "?variant=0")
    else:  # the variant's copy and link (rendered like the control's: {remaining} is a number)
        assert (shown["headline"], shown["body"], shown["label"]) == (copy["headline"], copy["body"],
                                                                       copy["cta_label"])
        assert "{" not in shown["headline"] and shown["href"].startswith(copy["cta_url"])
    assert variant_of(shown["href"]) == arm

    for url in (first, second, second, first):  # reloads and another page of the same site
        page.goto(url)
        assert shown_in(page.frames[1]) == shown
    with page.expect_navigation():
        page.frames[1].click(".mw-cta")
    assert variant_of(page.url) == arm  # the link the reader followed names the arm

    impressions = [b for b in beacons if b["type"] == "impression"]
    clicks = [b for b in beacons if b["type"] == "click"]
    assert len(impressions) == 5 and clicks, beacons
    assert all(b["variant"] == arm and b["locale"] == "en" for b in impressions + clicks)
    assert not csp_errors  # the inert JSON block and the one hashed script: nothing blocked


def test_fresh_visitors_land_on_every_arm(browser, service, host, experiment):
    url = on_localhost(host.page("/arms", f'<iframe src="{frame_url(service)}" title="Membership drive"></iframe>'))
    seen = set()
    for _ in range(14):
        ctx = browser.new_context()
        p = ctx.new_page()
        p.goto(url)
        shown = shown_in(p.frames[1])
        arm, _ = expected_copy(experiment, shown["visitor"])
        assert variant_of(shown["href"]) == arm
        seen.add(arm)
        ctx.close()
    assert seen == {0, *(v["id"] for v in experiment)}


def test_the_frames_visitor_id_is_partitioned_by_the_top_level_site(page, service, host, experiment):
    """One reader, two sites embedding the frame: each site has its own id (so maybe another arm); one site, one."""
    iframe = f'<iframe src="{frame_url(service)}" title="Membership drive"></iframe>'
    newsroom = on_localhost(host.page("/a", iframe))
    other_site = host.page("/b", iframe)  # 127.0.0.1: the service's own site
    ids = []
    for url in (newsroom, other_site, newsroom, other_site):
        page.goto(url)
        ids.append(shown_in(page.frames[1])["visitor"])
    assert ids[0] == ids[2] and ids[1] == ids[3] and ids[0] != ids[1]


def test_with_third_party_storage_blocked_the_frame_shows_the_control_and_names_no_arm(
        blocking_browser, service, host, experiment):
    iframe = f'<iframe src="{frame_url(service)}" title="Membership drive"></iframe>'
    url = on_localhost(host.page("/blocked", iframe))
    ctx = blocking_browser.new_context()
    p = ctx.new_page()
    beacons: list[dict] = []
    p.on("request", lambda r: beacons.append(json.loads(r.post_data)) if r.url.endswith("/events") else None)
    errors: list[str] = []
    p.on("pageerror", lambda e: errors.append(str(e)))
    for _ in range(4):
        with p.expect_request(lambda r: r.url.endswith("/events")):
            p.goto(url)
        frame = p.frames[1]
        assert frame.evaluate("() => { try { return !!localStorage; } catch (e) { return false; } }") is False
        assert frame.text_content(".mw-h") == CONTROL_HEADLINE
        assert frame.get_attribute(".mw-cta", "href") == JOIN
    assert len(beacons) == 4 and all("variant" not in b for b in beacons) and not errors
    ctx.close()


def test_the_frames_pick_equals_the_python_rule_on_300_visitor_ids(page, service, experiment):
    """The real page, reloaded with each visitor id in its localStorage (ASCII, UUIDs, non-Latin ids)."""
    ids = [str(uuid.UUID(int=i * 104729 + 7)) for i in range(280)] + ["ü", "读者", "Ω" * 40, "a" * 90] + [
        f"{i}.{i * 31}.{i * 97}.{i * 13}" for i in range(16)]
    assert len(set(ids)) == 300
    page.goto(frame_url(service))
    got, want = [], []
    for visitor in ids:
        page.evaluate("id => localStorage.setItem('membership-widget:visitor', id)", visitor)
        page.reload(wait_until="domcontentloaded")  # the inline script runs before the event
        shown = page.evaluate(SHOWN)
        assert shown["visitor"] == visitor
        got.append(variant_of(shown["href"]))
        want.append(experiments.assign(SLUG, visitor, experiment))
    assert got == want
    assert set(got) == {0, *(v["id"] for v in experiment)}


def test_the_frame_and_widget_js_share_one_copy_of_the_pick():
    source = assets.SOURCE.read_text(encoding="utf-8")
    shared = assets.SHARED.search(source).group(1)
    assert "function pick(" in shared and "function vid(" in shared
    assert assets.compact(shared).strip() in assets.FRAME_SCRIPT
    assert assets.FRAME_SCRIPT.count("0x811c9dc5") == 1 and source.count("0x811c9dc5") == 1
    with pytest.raises(ValueError):
        assets.frame_script("(function () {})();")  # widget.js without the shared block: the app does not start


def test_without_javascript_the_frame_shows_the_control(browser, service, client, experiment):
    html = client.get(f"/embed/campaigns/{SLUG}?locale=en").get_data(as_text=True)
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
    (block,) = [s[1] for s in scripts if 'type="application/json"' in s[0]]
    assert json.loads(block) == [{k: v[k] for k in ("id", "weight", "headline", "body", "cta_label", "cta_url")}
                                 for v in experiment]
    csp = client.get(f"/embed/campaigns/{SLUG}?locale=en").headers["Content-Security-Policy"]
    assert re.search(r"script-src ('sha256-[^']+')", csp).group(1) == assets.csp_hash(assets.FRAME_SCRIPT)
    assert [s[1] for s in scripts if "type=" not in s[0]] == [assets.FRAME_SCRIPT]  # the only one it may run

    ctx = browser.new_context(java_script_enabled=False)
    p = ctx.new_page()
    p.goto(frame_url(service))
    assert p.text_content(".mw-h") == CONTROL_HEADLINE
    assert p.get_attribute(".mw-cta", "href") == JOIN  # no variant named
    assert "Variant" not in p.inner_text("body")  # the JSON block is data, never shown
    ctx.close()


def _serious(p) -> list[str]:  # noqa: ANN001
    from axe_playwright_python.sync_playwright import Axe

    return [f"{v['id']} ({v['impact']}): {v['help']}" for v in Axe().run(p).response["violations"]
            if v["impact"] in ("serious", "critical")]


@pytest.mark.parametrize("width", [1280, 390])
def test_axe_finds_nothing_serious_on_the_frame_with_a_variant_or_on_the_widgets_appeal(
        browser, service, host, experiment, artifacts_dir, width):
    ctx = browser.new_context(viewport={"width": width, "height": 700})
    p = ctx.new_page()
    p.goto(frame_url(service))
    while variant_of(shown_in(p.main_frame)["href"]) == 0:  # a visitor who sees a variant
        p.evaluate("localStorage.removeItem('membership-widget:visitor')")
        p.reload()
    p.screenshot(path=str(artifacts_dir / f"widget-iframe-variant-{width}.png"))
    assert _serious(p) == []

    # The script widget's appeal without a number: the progress request fails.
    p.route("**/progress*", lambda route: route.fulfill(status=503, json={"title": "down", "status": 503},
                                                         headers={"Access-Control-Allow-Origin": "*"}))
    p.goto(host.page("/appeal", "<main><h1>An article</h1>" + snippet(service, extra=f'data-join-url="{JOIN}"')
                     + "</main>" + script(service)))
    p.wait_for_function("""() => { const h = document.querySelector('[data-membership-campaign]');
        return h.shadowRoot && h.shadowRoot.querySelector('.mw[data-state=appeal]'); }""")
    p.screenshot(path=str(artifacts_dir / f"widget-appeal-axe-{width}.png"))
    assert _serious(p) == []
    ctx.close()
