"""The declarative base every Tongjie table hangs from, and engine set-up.

One metadata object for the whole system so that Alembic sees every table,
with a naming convention so that constraint names are identical on SQLite
and PostgreSQL (migrations can then drop or alter them by name on both).
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any, ClassVar, cast

from sqlalchemy import DateTime, MetaData, Table, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, SessionTransaction, mapped_column

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


_WAITING_KEYS: set[str] = set()


def waits_for_commit(key: str) -> str:
    """Declare a ``session.info`` key under which a transaction gathers rows for its commit
    (ledger rows, daily counts, reindex requests). Whatever is still there when the
    outermost transaction ends was rolled back, or the session closed: it is dropped."""
    _WAITING_KEYS.add(key)
    return key


@event.listens_for(Session, "after_transaction_end")
def _drop_waiting(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        for key in _WAITING_KEYS:
            session.info.pop(key, None)


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
    of an immediate "database is locked". Connections to a file stay in
    SQLAlchemy's pool (its default there): a new one reads the schema again
    and starts with an empty page cache, 1.5 ms of every search.
    """
    url = normalise_database_url(url)
    if url.startswith("sqlite"):
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
    engine = create_engine(url, **kwargs)
    _ping_after_idle(engine)
    return engine


# A pooled connection that rested longer than this is tested before use (PostgreSQL).
IDLE_PING_SECONDS = 5.0


def _ping_after_idle(engine: Engine) -> None:
    """Test a pooled connection before use only when it has been idle a while.

    SQLAlchemy's ``pool_pre_ping`` costs a round trip before every request; under load a
    worker's connection goes back and out again within milliseconds and the server cannot
    have dropped it unnoticed in between, so only a connection that rested longer than
    ``IDLE_PING_SECONDS`` (a restarted server, an idle-session timeout) is pinged. A dead one
    raises DisconnectionError, and the pool then replaces it and tries again.
    """

    @event.listens_for(engine, "checkin")
    def _rested_from(_dbapi_connection: Any, record: Any) -> None:
        record.info["checked_in"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_rested(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("checked_in")
        if since is None or time.monotonic() - since < IDLE_PING_SECONDS:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except Exception:
            alive = False
        if not alive:
            raise DisconnectionError("a pooled connection was dropped by the server")
