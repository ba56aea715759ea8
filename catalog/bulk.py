"""Bulk inserts for imports: as fast as each database allows, ids returned in row order.

Both databases get their ids assigned before the insert, because an INSERT
... RETURNING that must return ids in row order runs one row at a time on
SQLite and makes psycopg parse huge statements on PostgreSQL:
- SQLite: a write that matches no row takes the database's write lock (one
  writer at a time), so max(id) + 1 ... are ours until commit; the rows then
  go in with one executemany.
- PostgreSQL: ids drawn from the table's sequence, the rows streamed with COPY.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import JSON, text
from sqlalchemy.orm import Session

from catalog.db import table_of


def insert_rows(
    session: Session, model: Any, rows: list[dict[str, Any]], *, return_ids: bool = False
) -> list[int]:
    """Insert ``rows`` (all with the same keys) in the session's transaction."""
    if not rows:
        return []
    table = table_of(model)
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        ids: list[int] = []
        if return_ids:
            connection.execute(table.delete().where(text("0 = 1")))  # takes the write lock
            last = connection.execute(text(f"SELECT coalesce(max(id), 0) FROM {table.name}"))
            start = int(last.scalar_one()) + 1
            ids = list(range(start, start + len(rows)))
            rows = [{**row, "id": new_id} for row, new_id in zip(rows, ids, strict=True)]
        connection.execute(table.insert(), rows)
        return ids
    ids = []
    if return_ids:
        ids = list(
            connection.execute(
                text(
                    "SELECT nextval(pg_get_serial_sequence(:t, 'id')) FROM generate_series(1, :n)"
                ),
                {"t": table.name, "n": len(rows)},
            ).scalars()
        )
        rows = [{**row, "id": new_id} for row, new_id in zip(rows, ids, strict=True)]
    columns = list(rows[0])
    as_json = {c for c in columns if isinstance(table.c[c].type, JSON)}
    driver = connection.connection.driver_connection
    assert driver is not None
    names = ", ".join(f'"{c}"' for c in columns)
    with driver.cursor() as cursor, cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(
                [
                    json.dumps(row[c], ensure_ascii=False) if c in as_json else row[c]
                    for c in columns
                ]
            )
    return ids
