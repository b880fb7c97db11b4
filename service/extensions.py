"""Unbound extension objects; each is bound to the app in create_app()."""

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

from service.api import Api
from service.db import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
api = Api()
# Limits come from configuration (RATELIMIT_* settings); storage is memory:// or Redis for several hosts.
limiter = Limiter(key_func=get_remote_address)
