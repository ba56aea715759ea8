"""The PostgreSQL engine's pool: a connection the server dropped while it rested is replaced
before use, and a busy connection is not pinged before every request (catalog/db.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

import catalog.db
from catalog.db import make_engine
from tests.conftest import require_service


@pytest.fixture
def pg_engine() -> Iterator[Engine]:
    engine = make_engine(require_service("postgres"), pool_size=1, max_overflow=0)
    yield engine
    engine.dispose()


def _backend_pid(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())


def test_a_connection_dropped_while_idle_is_replaced_before_use(
    pg_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _backend_pid(pg_engine)
    other = make_engine(require_service("postgres"))
    with other.connect() as connection:
        connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
    other.dispose()
    monkeypatch.setattr(catalog.db, "IDLE_PING_SECONDS", 0.0)  # it has rested "long enough"
    assert _backend_pid(pg_engine) != first  # no error: the dead connection was replaced


def test_a_busy_connection_is_not_pinged(pg_engine: Engine) -> None:
    _backend_pid(pg_engine)
    pings: list[object] = []
    real = pg_engine.dialect.do_ping
    pg_engine.dialect.do_ping = lambda c: pings.append(c) or real(c)  # type: ignore[method-assign]
    for _ in range(5):
        _backend_pid(pg_engine)
    assert pings == []
