"""Rows a circulation transaction writes at its commit (提交时写入): ledger rows, daily counts,
reindex requests.

A checkout appends a ledger row, bumps three or four daily counts and asks search to
reindex its record. Nothing in the transaction reads those back, so they wait in the
session and go to the database just before the commit: on PostgreSQL in one statement
(INSERTs joined by WITH), which saved two of a checkout's and three of a check-in's
round trips; on SQLite, a statement each (no round trips there). A rollback drops them
with the rest of the transaction. An ORM query of the ledger, the daily rows or the
outbox inside the transaction writes them first, so such a query sees them as before.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Date, DateTime, Table, TextClause, bindparam, event, text
from sqlalchemy.orm import ORMExecuteState, Session

from catalog.db import Base, table_of, utcnow, waits_for_commit
from catalog.search import outbox
from circulation.figures.aggregates import (
    counts_params,
    has_pending_counts,
    take_pending_counts,
    upsert_sql,
    write_counts,
)

LEDGER_COLUMNS = ("occurred_at", "event", "point_id", "actor", "copy_id", "patron_id",
                  "copy_home_point_id", "patron_home_point_id", "details")  # fmt: skip
_ROWS = waits_for_commit("tongjie.ledger_pending")  # ledger rows for the commit
_LAST = waits_for_commit("tongjie.last_row_pending")  # one more row, of any table
_READ_FIRST = {"circulation_ledger", "circulation_daily", "search_outbox"}
_STATEMENTS: dict[tuple[int, int, int, tuple[str, ...] | None], TextClause] = {}


def add_ledger_row(session: Session, row: dict[str, Any]) -> None:
    session.info.setdefault(_ROWS, []).append(row)


def add_last_row(session: Session, table: Table, row: dict[str, Any]) -> None:
    """One row of ``table`` written with the others at the commit (a SIP2 answer, whose
    unique key refuses a message sent twice): a duplicate fails the commit, which then
    raises IntegrityError and rolls back the whole transaction."""
    session.info[_LAST] = (table, row)


def write_pending(session: Session) -> None:
    """Write what this transaction has gathered, now (before the commit or a read)."""
    records = outbox.take_waiting(session)  # flushes first: a last flush may queue some
    rows: list[dict[str, Any]] = session.info.pop(_ROWS, None) or []
    counts = take_pending_counts(session)
    last: tuple[Table, dict[str, Any]] | None = session.info.pop(_LAST, None)
    if not (rows or counts or records or last):
        return
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        if rows:
            connection.execute(Base.metadata.tables["circulation_ledger"].insert(), rows)
        write_counts(session, counts)
        if records:
            now = utcnow()
            connection.execute(table_of(outbox.SearchOutbox).insert(),
                               [{"record_id": r, "enqueued_at": now} for r in records])  # fmt: skip
        if last:
            connection.execute(last[0].insert(), last[1])
        return
    params: dict[str, Any] = counts_params(counts)
    for i, row in enumerate(rows):
        params.update({f"l{i}_{column}": row[column] for column in LEDGER_COLUMNS})
    now = utcnow()
    params.update({f"o{i}": record_id for i, record_id in enumerate(records)})
    params["enqueued_at"] = now
    if last:
        params.update({f"x_{column}": value for column, value in last[1].items()})
    connection.execute(_statement(len(rows), len(counts), len(records), last), params)


def _statement(
    rows: int, counts: int, records: int, last: tuple[Table, dict[str, Any]] | None
) -> TextClause:
    """The INSERTs of one commit as one PostgreSQL statement, built once per shape."""
    last_shape = (last[0].name, *last[1]) if last else None
    key = (rows, counts, records, last_shape)
    if key not in _STATEMENTS:
        parts, binds = [], []
        if last:
            table, columns = last[0], list(last[1])
            parts.append(f"INSERT INTO {table.name} ({', '.join(columns)}) "
                         f"VALUES ({', '.join(f':x_{c}' for c in columns)})")  # fmt: skip
            binds += [bindparam(f"x_{c}", type_=table.c[c].type) for c in columns]
        if rows:
            values = ", ".join(
                "(" + ", ".join(f":l{i}_{c}" for c in LEDGER_COLUMNS) + ")" for i in range(rows)
            )
            parts.append(f"INSERT INTO circulation_ledger ({', '.join(LEDGER_COLUMNS)}) "
                         f"VALUES {values}")  # fmt: skip
            for i in range(rows):
                binds += [bindparam(f"l{i}_occurred_at", type_=DateTime(timezone=True)),
                          bindparam(f"l{i}_details", type_=JSON)]  # fmt: skip
        if records:
            values = ", ".join(f"(:o{i}, :enqueued_at, false)" for i in range(records))
            parts.append("INSERT INTO search_outbox (record_id, enqueued_at, embedded_done) "
                         f"VALUES {values}")  # fmt: skip
            binds.append(bindparam("enqueued_at", type_=DateTime(timezone=True)))
        if counts:
            parts.append(upsert_sql(counts))
            binds += [bindparam(f"day{i}", type_=Date) for i in range(counts)]
        sql = parts[-1]
        if len(parts) > 1:
            sql = (
                "WITH " + ", ".join(f"w{i} AS ({p})" for i, p in enumerate(parts[:-1])) + " " + sql
            )
        _STATEMENTS[key] = text(sql).bindparams(*binds)
    return _STATEMENTS[key]


# First among the session's before-commit listeners, so that the outbox's own (which
# writes ids that no circulation transaction gathered) finds nothing left to do.
@event.listens_for(Session, "before_commit", insert=True)
def _write_at_commit(session: Session) -> None:
    write_pending(session)


@event.listens_for(Session, "do_orm_execute")
def _write_before_reading(state: ORMExecuteState) -> None:
    session = state.session
    if (session.info.get(_ROWS) or has_pending_counts(session)) and any(
        getattr(m.local_table, "name", None) in _READ_FIRST for m in state.all_mappers
    ):
        write_pending(session)
