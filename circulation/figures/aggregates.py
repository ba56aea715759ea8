"""Daily counts of loans, renewals and returns, kept with every ledger event (流通日统计).

Each counted event adds one to four small rows: by the point where it happened, by the
copy's home point, by the patron's home point (the three attributions, FIG-3), and, for
a checkout or check-in of another point's copy, to the point's through-borrowing count
(FIG-9). A year of a county is then a few tens of thousands of rows per attribution
whatever the number of loans, and every loan figure over any period is one indexed scan
of them, never of the ledger. The rows are bumped in the same transaction as the ledger
row, in one UPSERT statement (atomic under concurrent desks); `rebuild` recomputes the
table from the ledger, and the two must agree (tested).
"""

from __future__ import annotations

import datetime as dt
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

from catalog.db import Base
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


def _upsert(through: bool) -> TextClause:
    """One statement adds an event to each dimension's row of its day (PostgreSQL and SQLite
    both have ON CONFLICT ... DO UPDATE). Written once as text: building the insert as an
    expression on every event cost more than running it."""
    rows = ["(:day, :event, 'point', :point, 1)", "(:day, :event, 'copy_home', :copy_home, 1)",
            "(:day, :event, 'patron_home', :patron_home, 1)"]  # fmt: skip
    if through:
        rows.append("(:day, :event, 'through', :point, 1)")
    return text(
        "INSERT INTO circulation_daily (day, event, dimension, point_id, count) VALUES "
        + ", ".join(rows)
        + " ON CONFLICT (day, event, dimension, point_id)"
        " DO UPDATE SET count = circulation_daily.count + excluded.count"
    ).bindparams(bindparam("day", type_=Date))


_UPSERT = {through: _upsert(through) for through in (False, True)}


def count_event(
    session: Session,
    event: str,
    at: dt.datetime,
    point_id: int,
    copy_home_point_id: int | None,
    patron_home_point_id: int | None,
) -> None:
    """Add one event to its day's rows (called by the ledger for the counted events)."""
    copy_home = copy_home_point_id or NONE
    through = event in THROUGH_EVENTS and copy_home != point_id
    session.connection().execute(
        _UPSERT[through],
        {"day": local_date(at), "event": event, "point": point_id, "copy_home": copy_home,
         "patron_home": patron_home_point_id or NONE},
    )  # fmt: skip


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
