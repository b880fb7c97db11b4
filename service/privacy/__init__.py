"""Privacy: a member's data export and erasure, and retention (`flask purge`).

Reads every feature's tables through the model metadata (footprint.py); writes members only through
service/members/records.py, tombstones through service/members/tombstones.py.
"""


def init_app(app) -> None:  # noqa: ANN001
    """Settings, the data-rights blueprint and the `member export|erase` and `purge` commands."""
    from service.config import ConfigError
    from service.extensions import api
    from service.members import tombstones  # noqa: F401 - registers erasure_tombstones
    from service.privacy import cli, models, views  # noqa: F401 - models register tables
    from service.privacy.settings import settings_from

    try:
        app.extensions["privacy"] = settings_from(app.config)
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc
    api.register_blueprint(views.blp)
    cli.init_app(app)
