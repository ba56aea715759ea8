"""Daily counts of loans, renewals and returns, kept with every ledger event (流通日统计).

One row per local day, event, the point where it happened, the copy's home
point and the patron's home point at that moment: every loan figure can then
be counted by any of the three (FIG-3) over any period without
reading the ledger itself. The row is bumped in the same transaction as the
ledger row (an UPSERT, atomic under concurrent desks), and `rebuild` recomputes
the table from the ledger; the two must agree (tested).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Date, Executable, Integer, String, delete, func, literal, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from catalog.db import Base
from circulation.desk import NETWORK_TIMEZONE, local_date

COUNTED = ("checkout", "renew", "checkin")
NONE = 0  # no point known (a copy or patron without a home): keeps the key free of NULLs


class CirculationDay(Base):
    """How many of one event happened on one day, by where, whose copy and whose patron."""

    __tablename__ = "circulation_daily"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    event: Mapped[str] = mapped_column(String(16), primary_key=True)
    point_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    copy_home_point_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    patron_home_point_id: Mapped[int] = mapped_column(
        Integer, primary_key=True, autoincrement=False
    )
    count: Mapped[int] = mapped_column(default=0)


_KEY = ("day", "event", "point_id", "copy_home_point_id", "patron_home_point_id")


def _upsert(dialect: str) -> Executable:
    """INSERT ... ON CONFLICT DO UPDATE count = count + 1 (both databases spell it alike)."""
    module: Any = postgresql if dialect == "postgresql" else sqlite
    statement = module.insert(CirculationDay)
    upsert: Executable = statement.on_conflict_do_update(
        index_elements=list(_KEY), set_={"count": CirculationDay.count + statement.excluded.count}
    )
    return upsert


_STATEMENTS: dict[str, Executable] = {}


def count_event(
    session: Session,
    event: str,
    at: dt.datetime,
    point_id: int,
    copy_home_point_id: int | None,
    patron_home_point_id: int | None,
) -> None:
    """Add one event to its day's row (called by the ledger for the counted events)."""
    dialect = session.get_bind().dialect.name
    statement = _STATEMENTS.get(dialect)
    if statement is None:
        statement = _STATEMENTS[dialect] = _upsert(dialect)
    session.connection().execute(
        statement,
        {
            "day": local_date(at),
            "event": event,
            "point_id": point_id,
            "copy_home_point_id": copy_home_point_id or NONE,
            "patron_home_point_id": patron_home_point_id or NONE,
            "count": 1,
        },
    )


def rebuild(session: Session) -> int:
    """Recompute every row from the ledger (``tongjie figures rebuild``); returns the rows."""
    from circulation.ledger import LedgerEntry

    session.execute(delete(CirculationDay))
    if session.get_bind().dialect.name == "postgresql":
        day = func.date(func.timezone(str(NETWORK_TIMEZONE), LedgerEntry.occurred_at))
    else:
        day = func.date(LedgerEntry.occurred_at, text("'+8 hours'"))  # Beijing time, no DST
    rows = (
        select(
            day.label("day"),
            LedgerEntry.event,
            LedgerEntry.point_id,
            func.coalesce(LedgerEntry.copy_home_point_id, literal(NONE)),
            func.coalesce(LedgerEntry.patron_home_point_id, literal(NONE)),
            func.count(),
        )
        .where(LedgerEntry.event.in_(COUNTED))
        .group_by(
            day,
            LedgerEntry.event,
            LedgerEntry.point_id,
            LedgerEntry.copy_home_point_id,
            LedgerEntry.patron_home_point_id,
        )
    )
    result = session.execute(
        CirculationDay.__table__.insert().from_select(  # type: ignore[attr-defined]
            [*_KEY, "count"], rows
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)
