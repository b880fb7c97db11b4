"""Home: `/` (a small page linking the demo, the API docs, the OpenAPI document and the staff pages) and
`/docs`, the API docs in Swagger UI served from the swagger-ui-bundle package (no CDN)."""


def init_app(app) -> None:  # noqa: ANN001
    from service.home import views

    app.register_blueprint(views.bp)
