"""Run the Alembic migrations in migrations/ against a database URL."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import OperationalError

from catalog.db import normalise_database_url

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str = "-1") -> None:
    command.downgrade(alembic_config(url), revision)


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def scratch_postgres_database(
    server_url: str, prefix: str = "tongjie_test"
) -> tuple[str, Callable[[], None]]:
    """Create an empty database on a PostgreSQL server (tests, benchmarks).

    Returns its URL and a function that drops it.
    """
    url = make_url(normalise_database_url(server_url))
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        """Drop it once our connections are closed; autovacuum, busy after a big import,
        gives way to DROP DATABASE (FORCE would need rights over the server's own workers)."""
        for attempt in range(10):
            try:
                with admin.connect() as connection:
                    connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
                break
            except OperationalError:
                if attempt == 9:
                    raise
                time.sleep(1)
        admin.dispose()

    return url.set(database=name).render_as_string(hide_password=False), drop
