"""The declarative base every Tongjie table hangs from, and engine set-up.

One metadata object for the whole system so that Alembic sees every table,
with a naming convention so that constraint names are identical on SQLite
and PostgreSQL (migrations can then drop or alter them by name on both).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar, cast

from sqlalchemy import DateTime, MetaData, Table, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.pool import NullPool

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Base class of all models; shares one naming-conventioned metadata."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dt.datetime: DateTime(timezone=True)}


def utcnow() -> dt.datetime:
    """Timestamps are stored in UTC; pages convert to the network's local time."""
    return dt.datetime.now(dt.UTC)


class Timestamped:
    """Created/updated times for tables a librarian edits."""

    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


def table_of(model: Any) -> Table:
    """The Core table behind a model, for bulk inserts that skip the ORM's per-row work."""
    return cast(Table, model.__table__)


def normalise_database_url(url: str) -> str:
    """Accept plain ``postgresql://`` URLs and use the psycopg 3 driver we ship."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine with the per-dialect settings the system relies on.

    SQLite: foreign keys on, WAL so that the OPAC can read while a counter
    writes (with synchronous=NORMAL, WAL's safe setting: a power cut can lose
    the last commits but never corrupts the file), and a busy timeout instead
    of an immediate "database is locked".
    """
    url = normalise_database_url(url)
    if url.startswith("sqlite"):
        kwargs.setdefault("poolclass", NullPool)
        engine = create_engine(url, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=10000")
            cursor.close()

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)
