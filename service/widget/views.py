"""HTTP views of the widget: widget.js, the iframe page, the HTML fragment, beacons, the demo page."""

from __future__ import annotations

from flask import Blueprint as FlaskBlueprint
from flask import Response, abort, current_app, render_template, request, url_for
from markupsafe import Markup

from service import clock
from service.api import Blueprint, SafeJSONParser
from service.campaigns import demo as campaign_demo
from service.campaigns import locales
from service.config import csv
from service.errors import NotFound
from service.extensions import db, limiter
from service.widget import assets, markup, services
from service.widget.schemas import BannerQuerySchema, EventSchema


class BeaconParser(SafeJSONParser):
    """Also reads JSON sent as text/plain: navigator.sendBeacon sends a string body with that type,
    which needs no CORS preflight (application/json would)."""

    EXTRA_JSON_MIMETYPES = ("text/plain",)


class WidgetBlueprint(Blueprint):
    ARGUMENTS_PARSER = BeaconParser()


blp = WidgetBlueprint("widget", __name__, url_prefix="/v1/campaigns",
                      description="Embeddable widget: the server-rendered bar and conversion events")
pages = FlaskBlueprint("widget_pages", __name__, template_folder="templates")
EMBED_PREFIX = "/embed/"  # the iframe page: other sites frame it (its CSP says which)


def _banner(slug: str, locale: str | None) -> markup.Banner:
    """The bar in the `locale` parameter's language, else the reader's (Accept-Language), else the campaign's."""
    locale = locale or locales.from_accept_language(request.headers.get("Accept-Language"))
    return services.banner(db.session, current_app.extensions["progress_cache"], slug, locale, clock.now(),
                           current_app.config["WIDGET_STALE_LIMIT_SECONDS"])


def appeal_fallback(exc: BaseException) -> Response | None:
    """While the database is down and no snapshot of the campaign exists: the fragment and the iframe page show
    the appeal without a number (`on_error=hide`: nothing), never a 0 or a 503 problem inside a host's page."""
    hide = request.args.get("on_error") == "hide"
    paywall = current_app.extensions.get("paywall")
    join_url = paywall.settings.join_url if paywall is not None else ""
    b = markup.appeal((request.view_args or {}).get("slug", ""), request.args.get("locale"), join_url)
    if request.endpoint == "widget_pages.embed":
        html = render_template("widget/embed.html", b=None if hide else b, s=markup.STYLES, slug=b.slug,
                               frame_script=Markup(assets.FRAME_SCRIPT),  # noqa: S704 - a constant of ours
                               events_url=url_for("widget.record_event", slug=b.slug))
    else:
        html = "" if hide else render_template("widget/fragment.html", b=b, s=markup.STYLES)
    response = Response(html, mimetype="text/html")
    if request.endpoint == "widget_pages.embed":
        _embed_headers(response)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Data-Unavailable"] = "true"
    return response


def _short_cache(response: Response) -> Response:
    """The progress document's Cache-Control (the bar is made from it) and an ETag of the HTML."""
    response.headers["Cache-Control"] = current_app.extensions["progress_cache"].cache_control
    response.vary.add("Accept-Language")  # the language, without ?locale=, is the reader's
    response.add_etag()
    return response.make_conditional(request)


@blp.route("/<slug>/banner.html")
@blp.arguments(BannerQuerySchema, location="query", as_kwargs=True)
@blp.response(200, {"type": "string"}, content_type="text/html",
              description="The progress bar as an HTML fragment with inline styles, for server-side includes",
              headers={"ETag": {"description": "Entity tag of the body", "schema": {"type": "string"}},
                       "Cache-Control": {"description": "public, short max-age", "schema": {"type": "string"}}})
@blp.alt_response(304, description="Not modified (If-None-Match matched)")
@blp.alt_response(404, response="NOT_FOUND")
def banner_html(slug: str, locale: str | None = None) -> Response:
    """The progress bar, server-rendered: no JavaScript needed (escaped, styled inline)."""
    html = render_template("widget/fragment.html", b=_banner(slug, locale), s=markup.STYLES)
    return _short_cache(Response(html, mimetype="text/html"))


@blp.route("/<slug>/events", methods=["POST"])
@limiter.limit(lambda: current_app.config["WIDGET_EVENTS_RATE"])
@blp.arguments(EventSchema, description="JSON; also accepted as text/plain (what navigator.sendBeacon sends)")
@blp.response(204)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(429, response="TOO_MANY_REQUESTS")
def record_event(event: dict, slug: str) -> None:
    """Count an impression or a click of the widget (per campaign, day and locale; no personal data)."""
    services.record_event(db.session, slug, type_=event["type"], locale=event["locale"], now=clock.now(),
                          variant=event["variant"])
    db.session.commit()


def _script(max_age: str) -> Response:
    asset: assets.Asset = current_app.extensions["widget_js"]
    gz = "gzip" in request.headers.get("Accept-Encoding", "")
    response = Response(asset.gzipped if gz else asset.body, mimetype="text/javascript")
    if gz:
        response.headers["Content-Encoding"] = "gzip"
    response.headers["Vary"] = "Accept-Encoding"
    response.headers["Cache-Control"] = max_age
    response.headers["Access-Control-Allow-Origin"] = "*"  # a public script; lets hosts use crossorigin/SRI
    response.set_etag(asset.version + ("-gz" if gz else ""))
    return response.make_conditional(request)


@pages.get("/widget.js")
def widget_js() -> Response:
    """The embed snippet's URL: short max-age plus ETag, so a new version reaches pages quickly."""
    return _script(f"public, max-age={current_app.config['WIDGET_JS_MAX_AGE']}")


@pages.get("/widget/<version>.js")
def widget_js_versioned(version: str) -> Response:
    """The versioned URL: cached for a year. An old version's URL gets today's script, cached briefly."""
    if version == current_app.extensions["widget_js"].version:
        return _script("public, max-age=31536000, immutable")
    return _script(f"public, max-age={current_app.config['WIDGET_JS_MAX_AGE']}")


@pages.get(EMBED_PREFIX + "campaigns/<slug>")
def embed(slug: str) -> Response:
    """The bar as a page of its own, for CMSs that allow iframes but not scripts."""
    locale = request.args.get("locale")
    try:
        b, status = _banner(slug, locale), 200
    except NotFound as exc:  # unknown (404) or archived (410): an empty page that reports height 0, the frame collapses
        b, status = None, exc.status
    html = render_template("widget/embed.html", b=b, s=markup.STYLES, slug=slug,
                           frame_script=Markup(assets.FRAME_SCRIPT),  # noqa: S704 - a constant of ours
                           events_url=url_for("widget.record_event", slug=slug))
    response = _embed_headers(Response(html, status=status, mimetype="text/html"))
    if status != 200:
        response.headers["Cache-Control"] = "public, max-age=60"
        return response
    return _short_cache(response)


def _embed_headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = (
        f"default-src 'none'; script-src {assets.csp_hash(assets.FRAME_SCRIPT)}; style-src 'unsafe-inline'; "
        f"connect-src 'self'; base-uri 'none'; form-action 'none'; "
        f"{assets.frame_ancestors(csv(current_app.config['WIDGET_ALLOWED_ORIGINS']))}"
    )
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@pages.get("/demo/join")
def demo_join() -> Response:
    """Where the demo campaign's call to action leads (development only)."""
    if current_app.config["SERVICE_ENV"] == "production":
        abort(404)
    response = Response(render_template("widget/demo_join.html"), mimetype="text/html")
    response.headers["Content-Security-Policy"] = DEMO_CSP
    return response


DEMO_CSP = ("default-src 'self'; style-src 'self' 'unsafe-inline'; script-src 'self'; img-src 'self' data:; "
            "frame-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")


@pages.get("/demo")
def demo_page() -> Response:
    """A host page that embeds the demo campaign both ways (development only)."""
    if current_app.config["SERVICE_ENV"] == "production":
        abort(404)
    html = render_template("widget/demo.html", slug=request.args.get("campaign", campaign_demo.SLUG),
                           version=current_app.extensions["widget_js"].version)
    response = Response(html, mimetype="text/html")
    # The page's own <style> and style attributes; scripts and frames from this service only.
    response.headers["Content-Security-Policy"] = DEMO_CSP
    return response
