"""The migrations build exactly the schema the models describe, on SQLite and on MariaDB."""
import pymysql
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from app import create_app
from app.extensions import db
from tests.conftest import MARIADB, MARIADB_DB

MIGRATIONS_DB = f"{MARIADB_DB}_migrations"


def _fresh_url(backend: str, tmp_path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'migrated.sqlite3'}"
    with pymysql.connect(**MARIADB) as conn:
        cursor = conn.cursor()
        cursor.execute(f"DROP DATABASE IF EXISTS `{MIGRATIONS_DB}`")
        cursor.execute(f"CREATE DATABASE `{MIGRATIONS_DB}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    return (f"mysql+pymysql://{MARIADB['user']}:{MARIADB['password']}@{MARIADB['host']}:{MARIADB['port']}"
            f"/{MIGRATIONS_DB}?charset=utf8mb4")


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
