"""Figures over time and today's idle stock, for the dashboard.

FIG-12 Loans (checkouts and renewals) per calendar month of the period, for a set of
points, by the attribution asked (FIG-3).
FIG-11 An idle copy (呆滞图书) is a copy held today, added before the cut-off, that has
not been lent since: no loan in the last N months (N = 12 unless asked).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from catalog.records import NOT_HELD, Copy
from circulation.figures.aggregates import CirculationDay


def months_between(start: dt.date, end: dt.date) -> list[str]:
    out, year, month = [], start.year, start.month
    while (year, month) <= (end.year, end.month):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def loans_by_month(
    session: Session,
    start: dt.date,
    end: dt.date,
    point_ids: Collection[int] | None = None,
    attribution: str = "point",
) -> dict[str, int]:
    """FIG-12: {"2026-03": loans} for every month of the period (zero when none)."""
    query = select(CirculationDay.day, func.sum(CirculationDay.count)).where(
        CirculationDay.day >= start,
        CirculationDay.day <= end,
        CirculationDay.dimension == attribution,
        CirculationDay.event.in_(("checkout", "renew")),
    )
    if point_ids is not None:
        query = query.where(CirculationDay.point_id.in_(list(point_ids)))
    out = dict.fromkeys(months_between(start, end), 0)
    for day, n in session.execute(query.group_by(CirculationDay.day)):
        key = f"{day.year:04d}-{day.month:02d}"
        out[key] = out.get(key, 0) + int(n)
    return out


def idle_by_point(session: Session, today: dt.date, months: int = 12) -> dict[int, tuple[int, int]]:
    """FIG-11: {point id: (idle copies, copies held)} by home point, as of today."""
    cutoff = today - dt.timedelta(days=round(months * 30.44))
    held = Copy.status.not_in([s.value for s in NOT_HELD])
    totals: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for home, n in session.execute(
        select(Copy.home_point_id, func.count()).where(held).group_by(Copy.home_point_id)
    ):
        totals[home][1] = int(n)
    for home, n in session.execute(
        select(Copy.home_point_id, func.count())
        .where(held, Copy.date_added < cutoff,
               or_(Copy.last_lent_on.is_(None), Copy.last_lent_on < cutoff))
        .group_by(Copy.home_point_id)
    ):  # fmt: skip
        totals[home][0] = int(n)
    return {home: (idle, total) for home, (idle, total) in totals.items()}
