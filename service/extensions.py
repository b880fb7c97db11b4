"""Unbound extension objects; each is bound to the app in create_app()."""

from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

from service.api import Api
from service.db import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
api = Api()
