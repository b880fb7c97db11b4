"""The join page: a reader picks a plan and goes to Stripe Checkout; the welcome page signs them in."""


def init_app(app) -> None:  # noqa: ANN001
    """The join and welcome pages, and the per-worker cache of the plans' prices."""
    from service.join import plans, views

    app.extensions["join_plans"] = plans.PlanCatalogue(ttl=float(app.config["JOIN_PLANS_CACHE_SECONDS"]),
                                                       time=app.extensions["clock"].monotonic)
    app.extensions["join_prices"] = plans.PlanCatalogue(ttl=float(app.config["JOIN_PLANS_CACHE_SECONDS"]),
                                                        time=app.extensions["clock"].monotonic)  # gifts, currencies
    app.register_blueprint(views.bp)
