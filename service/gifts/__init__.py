"""Gift memberships: bought with a payment-mode Checkout (payments starts it), recorded from its webhook,
mailed to the recipient, redeemed once for a membership of some months, re-sent or refunded by staff."""


def init_app(app) -> None:  # noqa: ANN001
    """The gifts API, the gift page, the staff page and the `gifts` commands. Needs the paywall (settings:
    links, mail, member tokens) and payments (the Stripe client) initialised first."""
    from service.extensions import api
    from service.gifts import cli, models, staff_pages, views  # noqa: F401 - models register the table

    api.register_blueprint(views.blp)
    app.register_blueprint(views.pages)
    app.register_blueprint(staff_pages.bp)
    cli.init_app(app)
