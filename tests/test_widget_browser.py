"""The widget in a real browser: Debian's Chromium driven by Playwright, the service on one port and
the host pages on another (a different origin, as on a newsroom's site).

Skipped when /usr/bin/chromium is missing, unless REQUIRE_BROWSER=1 (CI), where that is a failure.
"""

from __future__ import annotations

import time
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select, update

from service.campaigns import demo, services
from service.campaigns.models import BannerCopy
from service.widget.models import WidgetDaily
from tests import factories
from tests.support import ThreadedServer

pytestmark = pytest.mark.browser

JOIN = "https://news.example/join"


class HostSite:
    """The newsroom's site: pages by path, served from another port than the service."""

    def __init__(self) -> None:
        self.pages: dict[str, str] = {}
        self.server = ThreadedServer(self.wsgi)

    def wsgi(self, environ, start_response):  # noqa: ANN001, ANN201
        html = self.pages.get(environ["PATH_INFO"])
        if html is None:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found"]
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8"), ("Cache-Control", "no-store")])
        return [html.encode()]

    def page(self, path: str, body: str, head: str = "") -> str:
        self.pages[path] = (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Host</title>{head}'
                            f'</head><body>{body}</body></html>')
        return self.server.url + path


@pytest.fixture
def campaign(app, session, clock):
    clock.set(datetime(2025, 3, 1, 9, 0, tzinfo=UTC))
    c = demo.create_demo(session, clock.now(), join_url=JOIN)
    services.adjust(session, c, delta=12_345, reason="test data", who="test", now=clock.now())
    session.commit()
    return c


@pytest.fixture
def service(app, campaign) -> Iterator[ThreadedServer]:
    server = ThreadedServer(app)
    yield server
    server.stop()


@pytest.fixture
def host() -> Iterator[HostSite]:
    site = HostSite()
    yield site
    site.server.stop()


class Watch:
    """What the page did: uncaught errors, console warnings, data requests."""

    def __init__(self, page) -> None:  # noqa: ANN001
        self.errors: list[str] = []
        self.warnings: list[str] = []
        self.progress: list[str] = []
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("console", lambda m: self.warnings.append(m.text) if m.type == "warning" else None)
        page.on("request", lambda r: self.progress.append(r.url) if "/progress" in r.url else None)


@pytest.fixture
def context(browser):
    ctx = browser.new_context(viewport={"width": 900, "height": 900})
    # The call to action points to the newsroom's site: never leave the machine.
    ctx.route("https://news.example/**", lambda route: route.fulfill(body="<h1>Join</h1>", content_type="text/html"))
    yield ctx
    ctx.close()


@pytest.fixture
def page(context):
    p = context.new_page()
    p.set_default_timeout(10_000)
    return p


def snippet(service: ThreadedServer, slug: str = "members-25k", locale: str = "en", extra: str = "") -> str:
    return f'<div data-membership-campaign="{slug}" data-locale="{locale}" {extra}></div>'


def script(service: ThreadedServer) -> str:
    return f'<script src="{service.url}/widget.js" async></script>'


READ = """host => {
  const root = host.shadowRoot, bar = root && root.querySelector('[role=progressbar]');
  if (!bar) return null;
  const q = s => root.querySelector(s), cta = q('a');
  return {
    headline: q('.mw-h').textContent, body: q('.mw-b').textContent,
    min: bar.getAttribute('aria-valuemin'), max: bar.getAttribute('aria-valuemax'),
    now: bar.getAttribute('aria-valuenow'), text: bar.getAttribute('aria-valuetext'),
    fill: q('.mw-fill').style.width, dir: q('.mw').getAttribute('dir'), lang: q('.mw').getAttribute('lang'),
    href: cta && cta.href, cta: cta && cta.textContent, height: host.getBoundingClientRect().height,
    visible: q('.mw-h').getBoundingClientRect().height > 0,
  };
}"""


def rendered(page, selector: str = "[data-membership-campaign]") -> list[dict]:  # noqa: ANN001
    page.wait_for_function(
        """sel => [...document.querySelectorAll(sel)].every(h => h.shadowRoot && h.shadowRoot.querySelector('.mw'))""",
        arg=selector)
    return [h.evaluate(READ) for h in page.query_selector_all(selector)]


def test_bar_renders_with_the_right_numbers_and_aria_values_in_en_and_uk(page, service, host):
    url = host.page("/article", snippet(service, locale="en") + snippet(service, locale="uk")
                    + "<p id=after>Article text</p>" + script(service))
    watch = Watch(page)
    page.goto(url)
    en, uk = rendered(page)
    assert en["headline"] == "12,345 out of 25,000"
    assert (en["min"], en["max"], en["now"]) == ("0", "25000", "12345")
    assert en["text"] == "12,345 out of 25,000 members"
    assert en["fill"] == "49.3%"
    assert en["href"] == JOIN and en["cta"] == "Help us reach 25,000 members by the end of 2025."
    assert en["dir"] == "ltr" and en["lang"] == "en" and en["visible"]
    assert uk["headline"] == "12\u00a0345 з 25\u00a0000"
    assert uk["text"] == "12\u00a0345 з 25\u00a0000 учасників"
    assert (uk["now"], uk["max"]) == ("12345", "25000") and uk["lang"] == "uk"
    # The client-side bar says what the server-rendered fragment says.
    fragment = urllib.request.urlopen(f"{service.url}/v1/campaigns/members-25k/banner.html?locale=uk").read().decode()  # noqa: S310
    assert f'aria-valuetext="{uk["text"]}"' in fragment
    assert len(watch.progress) == 2 and not watch.errors and not watch.warnings
    # Same elements, classes and attributes as the server-rendered fragment (styles aside).
    skeleton = """root => { const out = [];
        root.querySelectorAll('*').forEach(e => out.push([e.tagName, e.className, [...e.attributes]
            .filter(a => !['style', 'part', 'class', 'data-membership-fragment'].includes(a.name))
            .map(a => a.name + '=' + a.value).sort()]));
        return out; }"""
    client_side = page.eval_on_selector("[data-membership-campaign]", f"h => ({skeleton})(h.shadowRoot)")
    en_fragment = urllib.request.urlopen(  # noqa: S310
        f"{service.url}/v1/campaigns/members-25k/banner.html?locale=en").read().decode()
    page.evaluate("html => { const t = document.createElement('template'); t.id = 'frag'; t.innerHTML = html;"
                  " document.body.append(t); }", en_fragment)
    server_side = page.evaluate(f"() => ({skeleton})(document.getElementById('frag').content)")
    assert [e for e in client_side if e[0] != "STYLE"] == server_side


def test_no_layout_shift_and_reduced_motion(browser, service, host):
    ctx = browser.new_context(viewport={"width": 900, "height": 900}, reduced_motion="reduce")
    page = ctx.new_page()
    page.add_init_script("""window.__shifts = []; new PerformanceObserver(l => l.getEntries().forEach(
        e => { if (!e.hadRecentInput)
                 window.__shifts.push([e.value, e.sources.map(s => s.node && s.node.nodeName)]); }))
        .observe({type: 'layout-shift', buffered: true});""")
    # The snippet as README gives it: the element reserves its height even before widget.js runs.
    url = host.page("/cls", "<h1>Title</h1>" + snippet(service, extra='style="min-height:200px"')
                    + "<p>Below the widget</p>" + script(service))
    for _ in range(2):  # the first visit, and a page that reuses the height measured there
        page.goto(url)
        rendered(page)
        page.wait_for_timeout(300)
        assert page.evaluate("window.__shifts") == []
    duration = page.eval_on_selector("[data-membership-campaign]",
                                     "h => getComputedStyle(h.shadowRoot.querySelector('.mw-fill')).transitionDuration")
    assert duration == "0s"
    ctx.close()


def test_hostile_host_css_does_not_break_it(page, service, host):
    hostile = "<style>* { all: unset } div { display: none } p { color: red; font-size: 40px }</style>"
    url = host.page("/hostile", snippet(service) + "<p id=after>Other content</p>" + script(service), head=hostile)
    watch = Watch(page)
    page.goto(url)
    (bar,) = rendered(page)
    assert bar["visible"] and bar["height"] > 100 and bar["headline"] == "12,345 out of 25,000"
    style = page.eval_on_selector("[data-membership-campaign]", """h => {
        const r = h.shadowRoot, cs = e => getComputedStyle(r.querySelector(e));
        return {font: cs('.mw-b').fontSize, color: cs('.mw-b').color, bar: cs('.mw-bar').height,
                fill: cs('.mw-fill').backgroundColor, display: getComputedStyle(h).display};
    }""")
    assert style == {"font": "16px", "color": "rgb(26, 26, 26)", "bar": "12px", "fill": "rgb(11, 92, 173)",
                     "display": "block"}
    # ...and the widget's CSS does not leak out: the host's paragraph keeps the host's style.
    assert page.eval_on_selector("#after", "p => getComputedStyle(p).fontSize") == "40px"
    assert not watch.errors and not watch.warnings


def test_hostile_copy_is_text_and_unsafe_links_are_dropped(page, service, host, session, clock, campaign):
    for stage in ("launch", "scheduled", "momentum", "final_push", "goal_reached", "ended"):
        services.set_copy(session, campaign, locale="en", stage=stage,
                          headline='<img src=x onerror="window.pwned=1"> {count}', body="<b>bold</b>",
                          cta_label="Join", now=clock.now())
    # set_copy refuses a javascript: link now; a row stored before that rule may still hold one
    session.execute(update(BannerCopy).values(cta_url="javascript:window.pwned=1"))
    session.commit()
    watch = Watch(page)
    page.goto(host.page("/xss", snippet(service) + script(service)))
    (bar,) = rendered(page)
    assert bar["headline"] == '<img src=x onerror="window.pwned=1"> 12,345' and bar["body"] == "<b>bold</b>"
    assert bar["href"] == JOIN  # the campaign's join URL rather than a javascript: one
    assert page.evaluate("window.pwned") is None and not watch.errors


def test_call_to_action_is_reachable_with_the_keyboard(page, service, host):
    page.goto(host.page("/keyboard", snippet(service) + script(service)))
    rendered(page)
    page.keyboard.press("Tab")
    focused = page.evaluate("""() => { const a = document.activeElement.shadowRoot.activeElement;
        return [a.tagName, a.textContent, getComputedStyle(a).outlineStyle]; }""")
    assert focused == ["A", "Help us reach 25,000 members by the end of 2025.", "solid"]


def test_custom_properties_restyle_it(page, service, host):
    url = host.page("/themed", snippet(service, extra='style="--membership-bar-color: rgb(138, 28, 28)"')
                    + script(service))
    page.goto(url)
    rendered(page)
    colour = page.eval_on_selector("[data-membership-campaign]",
                                   "h => getComputedStyle(h.shadowRoot.querySelector('.mw-fill')).backgroundColor")
    assert colour == "rgb(138, 28, 28)"


def test_several_campaigns_one_data_request_per_campaign_and_locale(page, service, host, session, clock):
    factories.campaign(session, clock.now(), slug="spring", goal=500)
    session.commit()
    body = (snippet(service) + snippet(service, "spring") + snippet(service) + snippet(service, locale="uk")
            + snippet(service, "spring") + script(service) + script(service))  # pasted twice by the CMS
    url = host.page("/many", body)
    watch = Watch(page)
    page.goto(url)
    bars = rendered(page)
    assert [b["max"] for b in bars] == ["25000", "500", "25000", "25000", "500"]
    assert bars[1]["headline"] == "0 out of 500"
    assert sorted(u.split("/v1/campaigns/")[1] for u in watch.progress) == [
        "members-25k/progress?locale=en", "members-25k/progress?locale=uk", "spring/progress?locale=en"]
    assert not watch.errors and not watch.warnings


def test_unknown_slug_leaves_the_page_working_with_one_warning(page, service, host):
    body = snippet(service, "no-such-campaign") + "<p id=after>Other content</p>" + snippet(service) + script(service)
    url = host.page("/unknown", body, head="<script>window.hostScriptRan = true</script>")
    watch = Watch(page)
    page.goto(url)
    rendered(page, '[data-membership-campaign="members-25k"]')
    unknown = '[data-membership-campaign="no-such-campaign"]'
    page.wait_for_function("s => document.querySelector(s).style.minHeight === '0px'", arg=unknown)
    assert page.eval_on_selector(
        unknown, "h => [h.getBoundingClientRect().height, h.shadowRoot.querySelector('.mw')]") == [0, None]
    assert page.text_content("#after") == "Other content" and page.evaluate("window.hostScriptRan")
    assert not watch.errors
    assert len(watch.warnings) == 1 and "no-such-campaign" in watch.warnings[0] and "404" in watch.warnings[0]


def test_stopped_service_leaves_the_page_working_and_last_data_is_reused(page, service, host):
    # data-on-error="hide": nothing rather than the appeal without data (tests/test_widget_resilience_browser.py)
    url = host.page("/stopped", snippet(service, extra='data-on-error="hide"') + "<p id=after>Other content</p>"
                    + script(service))
    widget_js = urllib.request.urlopen(f"{service.url}/widget.js").read()  # noqa: S310
    # widget.js stays in the browser's cache while the service is down (as a CDN or cache would keep it).
    page.route(f"{service.url}/widget.js", lambda route: route.fulfill(body=widget_js, content_type="text/javascript"))

    watch = Watch(page)
    page.goto(url)
    rendered(page)
    service.stop()

    page.reload()  # same tab: the last data seen is in sessionStorage
    (bar,) = rendered(page)
    assert bar["headline"] == "12,345 out of 25,000"
    assert len(watch.warnings) == 1 and "last data" in watch.warnings[0]

    fresh = page.context.new_page()  # a new tab has no last data: nothing is shown
    watch = Watch(fresh)
    fresh.route(f"{service.url}/widget.js", lambda route: route.fulfill(body=widget_js, content_type="text/javascript"))
    fresh.goto(url)
    fresh.wait_for_function("document.querySelector('[data-membership-campaign]').style.minHeight === '0px'")
    assert fresh.eval_on_selector("[data-membership-campaign]", "h => h.getBoundingClientRect().height") == 0
    assert fresh.text_content("#after") == "Other content"
    assert not watch.errors
    assert len(watch.warnings) == 1 and "nothing shown" in watch.warnings[0]


def test_slow_service_times_out_with_one_warning(page, service, host):
    url = host.page("/slow", snippet(service, extra='data-on-error="hide"') + "<p id=after>Other content</p>"
                    + script(service))
    page.route("**/progress*", lambda route: None)  # never answered
    watch = Watch(page)
    page.goto(url)
    page.wait_for_function("document.querySelector('[data-membership-campaign]').style.minHeight === '0px'",
                           timeout=8000)
    assert not watch.errors and len(watch.warnings) == 1 and "timed out" in watch.warnings[0]


def test_malformed_data_shows_nothing_and_throws_nothing(page, service, host):
    url = host.page("/malformed", snippet(service) + "<p id=after>Other content</p>" + script(service))
    page.route("**/progress*", lambda route: route.fulfill(json={"campaign": "members-25k", "banner": None},
                                                           headers={"Access-Control-Allow-Origin": "*"}))
    watch = Watch(page)
    page.goto(url)
    page.wait_for_function("document.querySelector('[data-membership-campaign]').style.minHeight === '0px'")
    assert page.eval_on_selector("[data-membership-campaign]", "h => h.shadowRoot.querySelector('.mw')") is None
    assert not watch.errors and len(watch.warnings) == 1 and "could not be shown" in watch.warnings[0]


LISTENER = """<script>
addEventListener("message", function (e) {
  if (e.origin !== "%s" || !e.data || e.data.type !== "membership-widget:height") return;
  document.querySelectorAll("iframe").forEach(function (f) {
    if (f.contentWindow === e.source) f.style.height = e.data.height + "px"; });
});
</script>"""


def frame_fits(page, index: int) -> dict:  # noqa: ANN001
    frame = page.frames[index + 1]
    inner = frame.evaluate("""() => ({body: Math.ceil(document.body.getBoundingClientRect().height),
        scroll: document.documentElement.scrollHeight, client: document.documentElement.clientHeight})""")
    outer = page.evaluate(f"document.querySelectorAll('iframe')[{index}].getBoundingClientRect().height")
    return {**inner, "outer": outer}


def test_iframe_resizes_to_its_content(page, service, host):
    iframes = "".join(
        f'<iframe src="{service.url}/embed/campaigns/members-25k?locale={loc}" title="Progress" '
        f'style="width:{w}px;border:0;height:40px"></iframe>' for loc, w in (("en", 700), ("uk", 320)))
    url = host.page("/frames", iframes + "<p>After</p>", head=LISTENER % service.url)
    watch = Watch(page)
    page.goto(url)
    for i in (0, 1):
        page.wait_for_function(f"document.querySelectorAll('iframe')[{i}].getBoundingClientRect().height > 100")
        fit = frame_fits(page, i)
        assert fit["outer"] == fit["body"] and fit["scroll"] <= fit["client"], fit  # no scrollbar
    narrow, wide = frame_fits(page, 1)["outer"], frame_fits(page, 0)["outer"]
    assert narrow > wide  # the narrow frame wraps its text and grew to fit
    page.evaluate("document.querySelectorAll('iframe')[1].style.width = '700px'")
    page.wait_for_function(f"document.querySelectorAll('iframe')[1].getBoundingClientRect().height < {narrow}")
    bar = page.frames[1].eval_on_selector("[role=progressbar]", "b => b.getAttribute('aria-valuetext')")
    assert bar == "12,345 out of 25,000 members"
    assert not watch.errors


def test_iframe_of_an_unknown_campaign_collapses(page, service, host):
    frame = f'<iframe src="{service.url}/embed/campaigns/nope" title="Progress" style="border:0;height:200px"></iframe>'
    page.goto(host.page("/frame-404", frame + "<p id=after>After</p>", head=LISTENER % service.url))
    page.wait_for_function("document.querySelector('iframe').getBoundingClientRect().height === 0")
    assert page.text_content("#after") == "After"


def counters(session) -> dict[tuple, int]:
    session.rollback()
    session.expire_all()
    return {(r.type, r.locale): r.count for r in session.scalars(select(WidgetDaily))}


def wait_for(check: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return check()


def test_beacons_arrive(page, service, host, session):
    body = (snippet(service) + '<div style="height:2000px"></div>' + snippet(service, locale="uk")
            + f'<iframe src="{service.url}/embed/campaigns/members-25k?locale=uk" style="border:0"></iframe>'
            + script(service))
    url = host.page("/beacons", body)
    page.goto(url)
    rendered(page)
    # Only the widget in view counts an impression; the other one (and the frame) below the fold not yet.
    assert wait_for(lambda: counters(session) == {("impression", "en"): 1}), counters(session)
    page.eval_on_selector('[data-locale="uk"]', "h => h.scrollIntoView()")
    page.evaluate("document.querySelector('iframe').scrollIntoView()")
    assert wait_for(lambda: counters(session) == {("impression", "en"): 1, ("impression", "uk"): 2}), counters(session)
    page.evaluate("window.scrollTo(0, 0)")
    with page.expect_navigation():
        page.eval_on_selector("[data-membership-campaign]", "h => h.shadowRoot.querySelector('a').click()")
    assert page.url == JOIN
    assert wait_for(lambda: counters(session).get(("click", "en")) == 1), counters(session)
    rows = session.scalars(select(WidgetDaily)).all()
    assert {r.day for r in rows} == {date(2025, 3, 1)}


def test_rtl_locale_lays_out_right_to_left(page, service, host, session, clock):
    c = factories.campaign(session, clock.now(), slug="ar-drive", locale="ar", goal=100)
    services.set_copy(session, c, locale="ar", stage="launch", headline="{count} من {goal}", body="انضموا إلينا",
                      cta_label="انضم الآن", cta_url=JOIN, now=clock.now())
    services.adjust(session, c, delta=30, reason="test", who="test", now=clock.now())
    session.commit()
    page.goto(host.page("/ar", snippet(service, "ar-drive", "ar") + script(service)))
    (bar,) = rendered(page)
    assert bar["dir"] == "rtl"
    page.wait_for_timeout(900)  # the fill's transition
    edges = page.eval_on_selector("[data-membership-campaign]", """h => {
        const b = h.shadowRoot.querySelector('.mw-bar').getBoundingClientRect(),
              f = h.shadowRoot.querySelector('.mw-fill').getBoundingClientRect();
        return {right: Math.round(b.right - f.right), width: Math.round(f.width / b.width * 100)}; }""")
    assert edges == {"right": 0, "width": 30}  # the fill grows from the right


def test_demo_page_screenshot(page, service, artifacts_dir):
    watch = Watch(page)
    page.set_viewport_size({"width": 1200, "height": 900})
    page.goto(f"{service.url}/demo")
    bars = rendered(page)
    assert [b["lang"] for b in bars] == ["en", "uk"]
    for i in (0, 1):
        page.wait_for_function(f"document.querySelectorAll('iframe')[{i}].getBoundingClientRect().height != 200")
        fit = frame_fits(page, i)
        assert fit["outer"] == fit["body"] and fit["scroll"] <= fit["client"], fit
    page.wait_for_timeout(1000)  # the fill's transition
    page.screenshot(path=str(artifacts_dir / "widget-demo.png"), full_page=True)
    assert not watch.errors and not watch.warnings
