"""The migrations build exactly the schema the models describe, on SQLite and on MariaDB."""
import pymysql
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from app import create_app
from app.extensions import db
from tests.conftest import MARIADB


def _fresh_url(backend: str, tmp_path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'migrated.sqlite3'}"
    with pymysql.connect(**MARIADB) as conn:
        cursor = conn.cursor()
        cursor.execute("DROP DATABASE IF EXISTS micromall_migrations")
        cursor.execute("CREATE DATABASE micromall_migrations CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    return (f"mysql+pymysql://{MARIADB['user']}:{MARIADB['password']}@{MARIADB['host']}:{MARIADB['port']}"
            "/micromall_migrations?charset=utf8mb4")


def test_migrated_schema_equals_models(backend, app_config, tmp_path):
    app = create_app({**app_config, "DATABASE_URL": _fresh_url(backend, tmp_path)})
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), db.metadata)
        assert diff == []
        downgrade(revision="base")  # and the way back works too
        upgrade()
        db.engine.dispose()
