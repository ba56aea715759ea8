"""Daily counts of loans, renewals and returns, kept with every ledger event (流通日统计).

Each counted event adds one to four small rows: by the point where it happened, by the
copy's home point, by the patron's home point (the three attributions, FIG-3), and, for
a checkout or check-in of another point's copy, to the point's through-borrowing count
(FIG-9). A year of a county is then a few tens of thousands of rows per attribution
whatever the number of loans, and every loan figure over any period is one indexed scan
of them, never of the ledger. The rows are bumped in the same transaction as the ledger
row, by one UPSERT statement at its commit (atomic under concurrent desks); `rebuild` recomputes the
table from the ledger, and the two must agree (tested).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from sqlalchemy import (
    Date,
    Integer,
    String,
    TextClause,
    bindparam,
    delete,
    func,
    literal,
    select,
    text,
    union_all,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from catalog.db import Base, waits_for_commit
from circulation.desk import NETWORK_TIMEZONE, local_date

COUNTED = ("checkout", "renew", "checkin")
THROUGH_EVENTS = ("checkout", "checkin")  # FIG-9 counts loans and returns
NONE = 0  # no point known (a copy or patron without a home): keeps the key free of NULLs
# What a row counts by: the three attributions, and "through" (another point's copies).
DIMENSIONS = ("point", "copy_home", "patron_home", "through")


class CirculationDay(Base):
    """How many of one event happened on one day, counted by one dimension, at one point."""

    __tablename__ = "circulation_daily"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    event: Mapped[str] = mapped_column(String(16), primary_key=True)
    dimension: Mapped[str] = mapped_column(String(12), primary_key=True)
    point_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    count: Mapped[int] = mapped_column(default=0)


_KEY = ("day", "event", "dimension", "point_id")


_ROW = "(:day{i}, :event{i}, :dimension{i}, :point{i}, :n{i})"
_UPSERTS: dict[int, TextClause] = {}
_PENDING = waits_for_commit("tongjie.daily_counts")  # counts for the commit


def _upsert(rows: int) -> TextClause:
    """One statement adds the transaction's events to their rows (PostgreSQL and SQLite both
    have ON CONFLICT ... DO UPDATE). Text, built once per number of rows: building the insert
    as an expression on every commit cost more than running it."""
    if rows not in _UPSERTS:
        _UPSERTS[rows] = text(
            "INSERT INTO circulation_daily (day, event, dimension, point_id, count) VALUES "
            + ", ".join(_ROW.format(i=i) for i in range(rows))
            + " ON CONFLICT (day, event, dimension, point_id)"
            " DO UPDATE SET count = circulation_daily.count + excluded.count"
        ).bindparams(*(bindparam(f"day{i}", type_=Date) for i in range(rows)))
    return _UPSERTS[rows]


def count_event(
    session: Session,
    event: str,
    at: dt.datetime,
    point_id: int,
    copy_home_point_id: int | None,
    patron_home_point_id: int | None,
) -> None:
    """Add one event to its day's rows (called by the ledger for the counted events).

    The counts wait in the session and are written by one statement just before the
    transaction commits (circulation/pending.py), in key order. A day's row at a busy point is
    shared by every desk there: bumping it at the end holds its lock only for the commit,
    not for the rest of a check-in, and the fixed order means two desks never deadlock.
    A rollback drops them with the ledger rows they count.
    """
    pending: Counter[tuple[dt.date, str, str, int]] = session.info.setdefault(_PENDING, Counter())
    day = local_date(at)
    copy_home = copy_home_point_id or NONE
    pending[(day, event, "point", point_id)] += 1
    pending[(day, event, "copy_home", copy_home)] += 1
    pending[(day, event, "patron_home", patron_home_point_id or NONE)] += 1
    if event in THROUGH_EVENTS and copy_home != point_id:
        pending[(day, event, "through", point_id)] += 1


def take_pending_counts(session: Session) -> list[tuple[tuple[dt.date, str, str, int], int]]:
    """The counts this transaction has gathered, in key order, handed to whoever writes them
    now (circulation/pending.py, at the commit or before a read of the daily rows)."""
    pending = session.info.pop(_PENDING, None)
    return sorted(pending.items()) if pending else []


def has_pending_counts(session: Session) -> bool:
    return bool(session.info.get(_PENDING))


def counts_params(counts: list[tuple[tuple[dt.date, str, str, int], int]]) -> dict[str, Any]:
    """The parameters of ``_upsert(len(counts))``."""
    params: dict[str, Any] = {}
    for i, ((day, event, dimension, point), n) in enumerate(counts):
        params.update({f"day{i}": day, f"event{i}": event, f"dimension{i}": dimension,
                       f"point{i}": point, f"n{i}": n})  # fmt: skip
    return params


def upsert_sql(rows: int) -> str:
    return str(_upsert(rows).text)


def write_counts(session: Session, counts: list[tuple[tuple[dt.date, str, str, int], int]]) -> None:
    if counts:
        session.connection().execute(_upsert(len(counts)), counts_params(counts))


def rebuild(session: Session) -> int:
    """Recompute every row from the ledger (``tongjie figures rebuild``); returns the rows."""
    from circulation.ledger import LedgerEntry

    session.execute(delete(CirculationDay))
    if session.get_bind().dialect.name == "postgresql":
        day = func.date(func.timezone(str(NETWORK_TIMEZONE), LedgerEntry.occurred_at))
    else:
        day = func.date(LedgerEntry.occurred_at, text("'+8 hours'"))  # Beijing time, no DST
    copy_home = func.coalesce(LedgerEntry.copy_home_point_id, literal(NONE))
    patron_home = func.coalesce(LedgerEntry.patron_home_point_id, literal(NONE))
    # one pass over the ledger: counts by every key at once; each dimension adds them up
    triples = (
        select(day.label("day"), LedgerEntry.event.label("event"),
               LedgerEntry.point_id.label("point"), copy_home.label("copy_home"),
               patron_home.label("patron_home"), func.count().label("n"))
        .where(LedgerEntry.event.in_(COUNTED))
        .group_by(day, LedgerEntry.event, LedgerEntry.point_id, copy_home, patron_home)
        .cte("triples")
    )  # fmt: skip
    t = triples.c

    def by(dimension: str, key: Any, *where: Any) -> Any:
        return (
            select(t.day, t.event, literal(dimension), key, func.sum(t.n))
            .where(*where)
            .group_by(t.day, t.event, key)
        )

    rows = union_all(
        by("point", t.point),
        by("copy_home", t.copy_home),
        by("patron_home", t.patron_home),
        by("through", t.point, t.event.in_(THROUGH_EVENTS), t.copy_home != t.point),
    )
    session.execute(
        CirculationDay.__table__.insert().from_select(  # type: ignore[attr-defined]
            [*_KEY, "count"], rows
        )
    )
    return int(session.scalar(select(func.count()).select_from(CirculationDay)) or 0)
