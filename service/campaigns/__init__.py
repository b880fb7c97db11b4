"""Campaigns: goals, counting, pace, and banner copy per stage and locale."""


def init_app(app) -> None:  # noqa: ANN001
    from service.campaigns import cache, cli, counter, snapshot, views
    from service.extensions import api

    counter.install()
    app.extensions["progress_cache"] = cache.ProgressCache(
        ttl=float(app.config["PROGRESS_CACHE_SECONDS"]), stale_on=views.stale_on(),
        snapshots=snapshot.from_config(app.config, app.instance_path))
    api.register_blueprint(views.blp)
    cli.init_app(app)
