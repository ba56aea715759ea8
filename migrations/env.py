"""Alembic environment: the URL comes from the caller (``tongjie db upgrade``) or the env."""

from __future__ import annotations

import os

from alembic import context

from app.models import Base
from catalog.db import make_engine

config = context.config
target_metadata = Base.metadata


def database_url() -> str:
    url = config.get_main_option("sqlalchemy.url") or os.environ.get("TONGJIE_DATABASE_URL")
    if not url:
        raise SystemExit("no database URL: run `tongjie db upgrade` or set TONGJIE_DATABASE_URL")
    return url


def run_migrations_offline() -> None:
    context.configure(url=database_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = make_engine(database_url())
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
