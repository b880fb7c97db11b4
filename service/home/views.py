"""`/` and `/docs`: where a newcomer starts. Swagger UI's files come from the swagger-ui-bundle package and
are served here (`/docs/assets/...`), started by a script of ours: the page loads nothing from elsewhere and
needs no inline script (its CSP allows only this origin)."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, render_template, send_from_directory

bp = Blueprint("home", __name__, template_folder="templates", static_folder="static",
               static_url_path="/docs/static")

SWAGGER_FILES = ("swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js")
DOCS_CSP = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
            "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")


def swagger_ui_dir() -> str:
    import swagger_ui_bundle

    return str(swagger_ui_bundle.swagger_ui_path)


@bp.get("/")
def index() -> Response:
    demo = current_app.config.get("SERVICE_ENV") != "production"
    response = Response(render_template("home/index.html", demo=demo), mimetype="text/html")
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.get("/docs")
def docs() -> Response:
    response = Response(render_template("home/docs.html"), mimetype="text/html")
    response.headers["Content-Security-Policy"] = DOCS_CSP
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.get("/docs/assets/<name>")
def docs_asset(name: str) -> Response:
    if name not in SWAGGER_FILES:
        abort(404)
    response = send_from_directory(swagger_ui_dir(), name, max_age=86_400)
    return response
