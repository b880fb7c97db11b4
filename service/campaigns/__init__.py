"""Campaigns: goals, counting, pace, and banner copy per stage and locale."""


def init_app(app) -> None:  # noqa: ANN001
    """The progress cache, the count kept on the app's sessions, the progress JSON, CLI commands, and
    what ops needs to know of them (service/ops/registry.py)."""
    from sqlalchemy.exc import DBAPIError

    from service.campaigns import cache, cli, count_storage, gauges, serving, snapshot, views
    from service.config import csv
    from service.extensions import api, db
    from service.ops import registry

    count_storage.install(db.session)
    progress_cache = app.extensions["progress_cache"] = cache.ProgressCache(
        ttl=float(app.config["PROGRESS_CACHE_SECONDS"]), stale_on=(DBAPIError,),
        snapshots=snapshot.from_config(app.config, app.instance_path), time=app.extensions["clock"].monotonic,
        wall=app.extensions["clock"].now,
        cache_control=serving.cache_control(app.config["PROGRESS_MAX_AGE"],
                                            app.config["PROGRESS_STALE_WHILE_REVALIDATE"]),
        vary="Accept-Language")  # the key's locale comes from Accept-Language when no ?locale= is given
    api.register_blueprint(views.blp)
    cli.init_app(app)

    ops = registry.of(app)
    # Pages on other sites read the progress JSON (the widget); a CDN, or nginx's limit_req, limits it by
    # default (RATELIMIT_PROGRESS limits it here too, see ops/ratelimits.py).
    ops.cors[f"^{serving.PROGRESS_PATH.pattern}$"] = registry.public_cors(csv(app.config["WIDGET_ALLOWED_ORIGINS"]))
    ops.cross_origin_endpoints.add(serving.ENDPOINT)
    ops.optional_limits[serving.ENDPOINT] = "RATELIMIT_PROGRESS"
    ops.quiet_endpoints.add(serving.ENDPOINT)
    ops.counted_caches[serving.ENDPOINT] = progress_cache
    ops.gauges.append(gauges.CAMPAIGN_GAUGES)
    ops.fast_route = registry.FastRoute(serving.ENDPOINT, serving.path_key, progress_cache)
