"""Never a false 0, and variants that stick (issue 14, items 2 and 6), in a real browser.

Debian's Chromium driven by Playwright; the service on one port, the host page on another. The test fails the
progress request itself (`page.route`: aborted, 500, 410, never answered) or serves it marked stale, and checks
that the widget shows the appeal without a number (or nothing, when the page says `data-on-error="hide"`),
never "0 out of 25,000". Variants: the widget picks one from a visitor id it keeps in localStorage, the same on
every page load, the same as service/campaigns/experiments.py, and sends it with its beacons and its link.
The no-JS fragment and the iframe page are checked too (stale for too long; database down without a snapshot).
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from service.campaigns import experiments
from tests import test_ops_degradation as degradation
from tests import test_widget_browser as wb
from tests.test_widget_browser import JOIN, READ, Watch, rendered, script, snippet

# The browser tests' fixtures (a campaign at 12,345 of 25,000, the service, the host site, a page) and the dead
# database's.
campaign, service, host, context, page = wb.campaign, wb.service, wb.host, wb.context, wb.page
dead_app, DEAD_DB = degradation.dead_app, degradation.DEAD_DB

pytestmark = pytest.mark.browser

APPEAL = "Support independent journalism"
STATE = """host => {
  const box = host.shadowRoot && host.shadowRoot.querySelector('.mw'), a = box && box.querySelector('a');
  return box && {state: box.getAttribute('data-state'), text: box.textContent, href: a && a.href,
                 bars: box.querySelectorAll('[role=progressbar]').length,
                 height: host.getBoundingClientRect().height}; }"""
VARIANTS = [
    {"id": 7, "weight": 30, "headline": "Be one of the last {n}", "body": "Variant seven", "cta_label": "Join now",
     "cta_url": JOIN},
    {"id": 3, "weight": 40, "headline": "Only a few to go", "body": "Variant three", "cta_label": "Join",
     "cta_url": JOIN},
]


def settled(p, selector: str = "[data-membership-campaign]") -> list:  # noqa: ANN001
    """Every host has rendered something (a bar or the appeal) or collapsed."""
    p.wait_for_function(
        """sel => [...document.querySelectorAll(sel)].every(h => (h.shadowRoot && h.shadowRoot.querySelector('.mw'))
                 || h.style.minHeight === '0px')""", arg=selector, timeout=9000)
    return [h.evaluate(STATE) for h in p.query_selector_all(selector)]


def fail_with(how: str):  # noqa: ANN201
    def handler(route):  # noqa: ANN001, ANN202
        if how == "abort":
            route.abort("connectionrefused")
        elif how == "slow":
            pass  # never answered: the widget gives up after 4 s
        else:
            route.fulfill(status=int(how), json={"title": "down", "status": int(how)},
                          headers={"Access-Control-Allow-Origin": "*"})
    return handler


@pytest.mark.parametrize("how", ["abort", "500", "503", "410", "slow"])
def test_a_failed_progress_request_shows_the_appeal_without_a_number_or_nothing(page, service, host, how):
    # An archived campaign (410) hides itself unless the page asks for the appeal (issue 13); the rest show it
    # unless the page asks for nothing.
    asks = ' data-on-error="appeal"' if how == "410" else ""
    body = (snippet(service, extra=f'data-join-url="{JOIN}?from=appeal"{asks}') + "<p id=after>Other content</p>"
            + snippet(service, extra='data-on-error="hide"') + script(service))
    url = host.page(f"/failed-{how}", body)
    page.route("**/progress*", fail_with(how))
    watch = Watch(page)
    page.goto(url)
    shown, hidden = settled(page)
    assert shown["state"] == "appeal" and shown["bars"] == 0
    assert APPEAL in shown["text"] and not re.search(r"\d", shown["text"])  # no number at all, so no false 0
    assert shown["href"] == f"{JOIN}?from=appeal" and shown["height"] > 50
    assert hidden is None or hidden["height"] == 0
    assert page.eval_on_selector_all("[data-membership-campaign]", "hs => hs[1].getBoundingClientRect().height") == 0
    assert page.text_content("#after") == "Other content" and not watch.errors
    assert len(watch.warnings) <= 1  # one warning at most (none for an archived campaign's 410)


def _stale(route, since: datetime, variants=None):  # noqa: ANN001, ANN202
    response = route.fetch()
    data = response.json()
    if since is not None:
        data["stale"], data["stale_since"] = True, since.isoformat()
    if variants is not None:
        data["banner"]["variants"] = variants
    route.fulfill(response=response, body=json.dumps(data),
                  headers={**response.headers, "content-type": "application/json"})


def test_a_count_stale_for_longer_than_the_limit_is_not_shown(page, service, host):
    now = datetime.now(UTC)
    page.route("**/progress*", lambda route: _stale(route, now - timedelta(minutes=10)))
    body = (snippet(service) + snippet(service, extra='data-stale-limit="60"')
            + snippet(service, extra='data-stale-limit="60" data-on-error="hide"') + script(service))
    page.goto(host.page("/stale", body))
    default, strict, hidden = settled(page)
    # 10 minutes stale: under WIDGET_STALE_LIMIT_SECONDS (30 min), the number shows; over a page's 60 s, not
    assert default["state"] is None and default["bars"] == 1 and "12,345 out of 25,000" in default["text"]
    assert strict["state"] == "appeal" and strict["bars"] == 0 and not re.search(r"\d", strict["text"])
    assert strict["href"] == JOIN  # the link of the stale document's copy
    assert hidden is None or hidden["height"] == 0

    page.unroute("**/progress*")
    page.route("**/progress*", lambda route: _stale(route, now - timedelta(hours=2)))
    page.reload()
    default, strict, _ = settled(page)
    assert default["state"] == strict["state"] == "appeal" and default["bars"] == 0


def test_last_data_of_the_tab_is_shown_only_within_the_limit_then_the_appeal_with_the_last_link(page, service, host):
    url = host.page("/last", snippet(service, extra='data-stale-limit="2"') + script(service))
    page.goto(url)
    (bar,) = rendered(page)
    assert bar["headline"] == "12,345 out of 25,000"
    page.route("**/progress*", fail_with("503"))
    page.reload()  # at once: the tab's last data is under 2 s old
    (again,) = settled(page)
    assert again["state"] is None and "12,345" in again["text"]
    page.wait_for_timeout(2100)  # the limit is a duration in the browser's own clock: let it pass
    page.reload()
    (appeal,) = settled(page)
    assert appeal["state"] == "appeal" and not re.search(r"\d", appeal["text"])
    assert appeal["href"] == JOIN  # remembered from the last successful load (localStorage)


def _arm(p) -> dict:  # noqa: ANN001
    box = p.eval_on_selector("[data-membership-campaign]", READ)
    return {"headline": box["headline"], "href": box["href"]}


def test_a_visitor_sees_the_same_variant_on_every_page_and_its_beacons_say_which(page, service, host):
    page.route("**/progress*", lambda route: _stale(route, None, VARIANTS))
    beacons: list[dict] = []
    page.on("request", lambda r: beacons.append(json.loads(r.post_data)) if r.url.endswith("/events") else None)
    first_url = host.page("/one", snippet(service) + script(service))
    second_url = host.page("/two", "<h1>Another article</h1>" + snippet(service) + script(service))
    page.goto(first_url)
    rendered(page)
    visitor = page.evaluate("localStorage.getItem('membership-widget:visitor')")
    assert visitor and len(visitor) >= 16
    expected = experiments.assign("members-25k", visitor, VARIANTS)
    shown = _arm(page)
    arm = next((v for v in VARIANTS if v["id"] == expected), None)
    assert shown["headline"] == (arm["headline"] if arm else "12,345 out of 25,000")
    assert shown["href"].endswith(f"variant={expected}")
    for url in (second_url, first_url, second_url):
        page.goto(url)
        rendered(page)
        assert _arm(page) == shown
        assert page.evaluate("localStorage.getItem('membership-widget:visitor')") == visitor
    impressions = [b for b in beacons if b["type"] == "impression"]
    assert impressions and all(b["variant"] == expected for b in impressions)


def test_every_arm_is_reached_and_a_blocked_localstorage_still_works(browser, service, host):
    """Fresh visitors land on each arm; with storage blocked the reader is left out of the experiment (a page's
    own id would re-draw the arm on every page and blur every arm's figures): the control, no arm named."""
    url = host.page("/arms", snippet(service) + snippet(service) + script(service))
    seen = set()
    for _ in range(12):
        ctx = browser.new_context()
        ctx.route("**/progress*", lambda route: _stale(route, None, VARIANTS))
        p = ctx.new_page()
        p.goto(url)
        rendered(p)
        heads = [h.evaluate(READ)["headline"] for h in p.query_selector_all("[data-membership-campaign]")]
        assert heads[0] == heads[1]  # one visitor, one arm on the page
        seen.add(heads[0])
        ctx.close()
    assert len(seen) >= 2

    ctx = browser.new_context()
    ctx.add_init_script("Object.defineProperty(window, 'localStorage', {get() { throw new Error('blocked'); }})")
    ctx.route("**/progress*", lambda route: _stale(route, None, VARIANTS))
    p = ctx.new_page()
    watch = Watch(p)
    p.goto(url)
    bars = rendered(p)
    assert bars[0]["headline"] == bars[1]["headline"] and not watch.errors
    assert bars[0]["headline"] not in {v["headline"] for v in VARIANTS}  # the control
    assert "variant=" not in (bars[0]["href"] or "")
    ctx.close()


def test_the_widget_assigns_exactly_as_the_python_rule_on_1000_ids(page, service, host):
    page.goto(host.page("/assign", snippet(service) + script(service)))
    rendered(page)
    ids = [str(uuid.UUID(int=i * 7919 + 1)) for i in range(990)] + ["ü", "读者", "a" * 80] + [
        f"{i}.{i * 31}.{i * 97}.{i * 13}" for i in range(7)]
    assert len(set(ids)) == 1000
    for slug in ("members-25k", "spring-drive"):
        got = page.evaluate("""([slug, ids, vs]) => ids.map(id => {
            const v = window.MembershipWidget.pick(slug, vs, id); return v ? v.id : 0; })""", [slug, ids, VARIANTS])
        assert got == [experiments.assign(slug, i, VARIANTS) for i in ids]
        assert set(got) == {0, 3, 7}


def test_appeal_screenshots_at_1280_and_390(browser, service, host, artifacts_dir):
    url = host.page("/appeal", snippet(service, extra=f'data-join-url="{JOIN}"') + script(service))
    for width in (1280, 390):
        ctx = browser.new_context(viewport={"width": width, "height": 600})
        ctx.route("**/progress*", fail_with("503"))
        p = ctx.new_page()
        p.goto(url)
        (state,) = settled(p)
        assert state["state"] == "appeal"
        p.screenshot(path=str(artifacts_dir / f"widget-appeal-{width}.png"))
        ctx.close()


# ---- the no-JS fragment and the iframe page (no browser needed) ----------------------------------------------

def test_fragment_and_iframe_show_the_appeal_when_the_database_is_down_and_no_snapshot(app_config, demo_campaign):
    from service import create_app

    dead = create_app({**app_config, "DATABASE_URL": DEAD_DB, "DB_CONNECT_TIMEOUT": 2})
    client = dead.test_client()
    for path in ("/v1/campaigns/members-25k/banner.html", "/embed/campaigns/members-25k"):
        r = client.get(path + "?locale=uk")
        html = r.get_data(as_text=True)
        assert r.status_code == 200 and r.headers["X-Data-Unavailable"] == "true", html
        assert "Підтримайте незалежну журналістику" in html and 'role="progressbar"' not in html
        assert 'data-state="appeal"' in html and not re.search(r">[^<]*\d[^<]*<", html.split("<body")[-1]
                                                                .split("<script")[0])
        hidden = client.get(path + "?on_error=hide").get_data(as_text=True)
        assert "mw-h" not in hidden.split("<script")[0]  # no bar (the iframe page's script names the class)
    with dead.app_context():
        from service.extensions import db

        db.engine.dispose()


def test_fragment_hides_a_number_stale_for_longer_than_the_limit(app, client, clock, demo_campaign, dead_app):
    assert 'role="progressbar"' in client.get("/v1/campaigns/members-25k/banner.html").get_data(as_text=True)
    dead = dead_app.test_client()  # the database is down: the last document, marked stale
    html = dead.get("/v1/campaigns/members-25k/banner.html").get_data(as_text=True)
    assert 'role="progressbar"' in html and "0 out of 25,000" in html  # stale for 0 s: still shown (the count is 0)
    clock.advance(seconds=app.config["WIDGET_STALE_LIMIT_SECONDS"] + 1)
    for path in ("/v1/campaigns/members-25k/banner.html", "/embed/campaigns/members-25k"):
        html = dead.get(path).get_data(as_text=True)
        assert 'data-state="appeal"' in html and 'role="progressbar"' not in html and APPEAL in html, path
        assert "https://news.example/join" in html
