"""Bulk reads and writes for imports: as fast as each database allows, ids returned in row order.

These go to the driver directly (the session's own connection and
transaction): at thousands of rows a second, building statements and
processing parameters row by row costs more than the database does.

Both databases get their ids assigned before the insert, because an INSERT
... RETURNING that must return ids in row order runs one row at a time on
SQLite and makes psycopg parse huge statements on PostgreSQL:
- SQLite: a write that matches no row takes the database's write lock (one
  writer at a time), so max(id) + 1 ... are ours until commit; the rows then
  go in with one executemany.
- PostgreSQL: ids drawn from the table's sequence, the rows streamed with COPY.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import JSON, LargeBinary, String, Text
from sqlalchemy.orm import Session

from catalog.db import table_of

SQLITE_CHUNK = 500  # values per IN (...) on SQLite, well under its variable limit


def insert_rows(
    session: Session,
    model: Any,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    return_ids: bool = False,
) -> list[int]:
    """Insert ``rows`` (values in ``columns`` order) in the session's transaction.

    Values are Python values of the columns' types, except JSON columns, which
    take their JSON text (encode once, where the data is made).
    """
    if not rows:
        return []
    table = table_of(model)
    connection = session.connection()
    dialect = connection.dialect
    driver = connection.connection.driver_connection
    assert driver is not None
    ids: list[int] = []
    if dialect.name != "postgresql":
        if return_ids:
            cursor = driver.cursor()
            cursor.execute(f"DELETE FROM {table.name} WHERE 0 = 1")  # takes the write lock
            start = int(cursor.execute(f"SELECT coalesce(max(id), 0) FROM {table.name}")
                        .fetchone()[0]) + 1  # fmt: skip
            ids = list(range(start, start + len(rows)))
            columns = ("id", *columns)
            rows = [(new_id, *row) for new_id, row in zip(ids, rows, strict=True)]
        processors = _processors(table, columns, dialect)
        if processors:
            rows = [_processed(row, processors) for row in rows]
        names = ", ".join(f'"{c}"' for c in columns)
        marks = ", ".join("?" for _ in columns)
        driver.cursor().executemany(f"INSERT INTO {table.name} ({names}) VALUES ({marks})", rows)
        return ids
    if return_ids:
        with driver.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                (table.name, len(rows)),
            )
            ids = [row[0] for row in cursor.fetchall()]
        columns = ("id", *columns)
        rows = [(new_id, *row) for new_id, row in zip(ids, rows, strict=True)]
    names = ", ".join(f'"{c}"' for c in columns)
    statement = f"COPY {table.name} ({names}) FROM STDIN (FORMAT BINARY)"
    with driver.cursor() as cursor, cursor.copy(statement) as copy:
        copy.set_types([_binary_type(table.c[c].type, dialect) for c in columns])
        for row in rows:
            copy.write_row(row)
    return ids


def _binary_type(column_type: Any, dialect: Any) -> str:
    """The PostgreSQL type whose binary form COPY sends for a column.

    JSON goes as text: json's binary form is its text, and the caller's
    values are JSON text already.
    """
    if isinstance(column_type, JSON | String | Text):
        return "text"
    return str(column_type.compile(dialect=dialect)).split("(")[0].lower()


def select_in(
    session: Session,
    table: str,
    columns: Sequence[str],
    column: str,
    values: Collection[Any],
) -> list[tuple[Any, ...]]:
    """Rows (``columns``) of ``table`` whose ``column`` is one of ``values``, sorted."""
    if not values:
        return []
    connection = session.connection()
    driver = connection.connection.driver_connection
    assert driver is not None
    names = ", ".join(f'"{c}"' for c in columns)
    found: list[tuple[Any, ...]] = []
    if connection.dialect.name == "postgresql":
        with driver.cursor() as cursor:
            cursor.execute(
                f'SELECT {names} FROM {table} WHERE "{column}" = ANY(%s)', (list(values),)
            )
            found = [tuple(row) for row in cursor.fetchall()]
    else:
        ordered = list(values)
        cursor = driver.cursor()
        for start in range(0, len(ordered), SQLITE_CHUNK):
            chunk = ordered[start : start + SQLITE_CHUNK]
            marks = ", ".join("?" for _ in chunk)
            cursor.execute(f'SELECT {names} FROM {table} WHERE "{column}" IN ({marks})', chunk)
            found.extend(cursor.fetchall())
    found.sort(key=lambda row: tuple((v is None, v) for v in row))
    return found


_AS_IS = (JSON, LargeBinary, String, Text)


def _processors(table: Any, columns: Sequence[str], dialect: Any) -> list[tuple[int, Any]]:
    """(position, bind processor) of each column whose values the driver cannot take as given."""
    found = []
    for position, name in enumerate(columns):
        column_type = table.c[name].type
        if isinstance(column_type, _AS_IS):
            continue
        processor = column_type.dialect_impl(dialect).bind_processor(dialect)
        if processor is not None:
            found.append((position, _memoised(processor)))
    return found


def _memoised(processor: Any) -> Any:
    """The processor, remembering results: a batch repeats the same timestamps and prices."""
    seen: dict[Any, Any] = {}

    def process(value: Any) -> Any:
        if value is None:
            return None
        try:
            return seen[value]
        except KeyError:
            result = seen[value] = processor(value)
            return result

    return process


def _processed(row: Sequence[Any], processors: list[tuple[int, Any]]) -> list[Any]:
    values = list(row)
    for position, processor in processors:
        values[position] = processor(values[position])
    return values
