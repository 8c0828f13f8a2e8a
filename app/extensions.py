"""Extension singletons, bound to an app in create_app() with init_app (no work at import time)."""
from __future__ import annotations

from flask import current_app
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from redis import Redis
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Stable constraint names so Alembic migrations are the same on SQLite and MariaDB.
NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()


def redis_client() -> Redis | None:
    """The app's Redis connection, or None in development without REDIS_URL (in-process fallbacks apply)."""
    return current_app.extensions.get("micromall_redis")


def init_redis(app) -> None:
    url = app.config.get("REDIS_URL")
    # Short timeouts: a frozen Redis must not hold a callback past WeChat's 5 s; the paths that can do without
    # Redis fall back (catalog from the database, per-process rate limits), the others answer 503.
    timeout_s = app.config.get("REDIS_TIMEOUT_MS", 500) / 1000
    app.extensions["micromall_redis"] = (
        Redis.from_url(url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s, health_check_interval=30)
        if url else None
    )
