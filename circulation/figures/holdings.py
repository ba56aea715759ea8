"""The holdings history (馆藏历史): what each point held at the end of any day.

FIG-4 A copy is held on day D by the point that was its home at the end of D, if
it had been added by D and its status then was not withdrawn or lost (STATUS-5). The
state at D is today's state of the copy with every change after D undone: status
changes (``status_changed``, with from and to) and home moves (``copy_moved``, MOVE-2)
are in the ledger, so a past day's holdings never change when stock moves later.

Only copies changed after D need undoing; they are few (status changes and transfers are
rare next to loans, and a partial index holds only their ledger rows), so one query counts
today's state and the changed copies are then taken out as they are now and put back as
they were on D. One period's figures find the changes once and pass them to each count.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection
from typing import NamedTuple

from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.orm import Session

from catalog.records import NOT_HELD, Copy
from circulation.desk import NETWORK_TIMEZONE
from circulation.ledger import STOCK_EVENTS, LedgerEntry, LedgerEvent

_NOT_HELD = tuple(s.value for s in NOT_HELD)


class Change(NamedTuple):
    """A copy changed after the day asked about: as it is now and as it was then.

    (A tuple, not a dataclass: a past day may have a hundred thousand of them.)"""

    id: int
    record_id: int
    item_type: str
    added: dt.date
    home_now: int
    held_now: bool
    home_then: int
    held_then: bool


def end_of(day: dt.date) -> dt.datetime:
    """The first moment after ``day`` in the network's time, in UTC."""
    local = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=NETWORK_TIMEZONE)
    return local.astimezone(dt.UTC)


def _after(day: dt.date) -> tuple[ColumnElement[bool], ...]:
    """Ledger rows that change a copy's holdings after ``day`` (a small partial index)."""
    return (
        LedgerEntry.event.in_(STOCK_EVENTS),
        LedgerEntry.occurred_at >= end_of(day),
        LedgerEntry.copy_id.is_not(None),
    )


def changes_since(session: Session, day: dt.date) -> list[Change]:
    """Copies whose status or home changed after ``day``, with both states, in one query.

    The first change after ``day`` of each kind says what the copy was on ``day``: its
    ``from`` is the status or the home it had then."""
    first = (
        select(
            LedgerEntry.copy_id,
            LedgerEntry.event,
            LedgerEntry.details["from"].as_string().label("was"),
            func.row_number()
            .over(
                partition_by=(LedgerEntry.copy_id, LedgerEntry.event),
                order_by=(LedgerEntry.occurred_at, LedgerEntry.id),
            )
            .label("nth"),
        )
        .where(*_after(day))
        .subquery()
    )
    was_status = func.max(case((first.c.event == LedgerEvent.STATUS_CHANGED, first.c.was)))
    was_home = func.max(case((first.c.event == LedgerEvent.COPY_MOVED, first.c.was)))
    rows = session.execute(
        select(Copy.id, Copy.record_id, Copy.item_type, Copy.date_added, Copy.home_point_id,
               Copy.status, was_status, was_home)
        .join(first, first.c.copy_id == Copy.id)
        .where(first.c.nth == 1)
        .group_by(Copy.id, Copy.record_id, Copy.item_type, Copy.date_added, Copy.home_point_id,
                  Copy.status)
    )  # fmt: skip
    return [
        Change(c_id, record_id, item_type, added, home, status not in _NOT_HELD,
               int(home_then) if home_then is not None else home,
               (status_then if status_then is not None else status) not in _NOT_HELD)
        for c_id, record_id, item_type, added, home, status, status_then, home_then in rows
    ]  # fmt: skip


def held_by_point(
    session: Session, day: dt.date, changes: list[Change] | None = None
) -> dict[int, dict[str, int]]:
    """{point id: {item type: copies held}} at the end of ``day`` (FIG-4).

    ``changes`` is ``changes_since(session, day)`` when the caller has it already."""
    counts: dict[tuple[int, str], int] = defaultdict(int)
    for home, item_type, n in session.execute(
        select(Copy.home_point_id, Copy.item_type, func.count())
        .where(Copy.date_added <= day, Copy.status.not_in(_NOT_HELD))
        .group_by(Copy.home_point_id, Copy.item_type)
    ):
        counts[(home, item_type)] += int(n)
    for c in changes_since(session, day) if changes is None else changes:
        if c.added > day:
            continue
        counts[(c.home_now, c.item_type)] -= c.held_now
        counts[(c.home_then, c.item_type)] += c.held_then
    out: dict[int, dict[str, int]] = defaultdict(dict)
    for (home, item_type), n in counts.items():
        if n:
            out[home][item_type] = n
    return dict(out)


def titles_by_point(
    session: Session,
    day: dt.date,
    point_ids: Collection[int],
    changes: list[Change] | None = None,
) -> dict[int, int]:
    """{point id: distinct titles (records) held} at the end of ``day``, for ``point_ids``
    (the village bookshops, for their baseline, or a planner's destinations)."""
    points = list(point_ids)
    if not points:
        return {}
    held_now = and_(Copy.date_added <= day, Copy.status.not_in(_NOT_HELD))
    wanted = set(points)
    all_changes = changes_since(session, day) if changes is None else changes
    changes = [c for c in all_changes
               if c.added <= day and (c.home_now in wanted or c.home_then in wanted)]  # fmt: skip
    if not changes:  # today's state is that day's: the database counts the titles
        pairs = (
            select(Copy.home_point_id, Copy.record_id)
            .where(held_now, Copy.home_point_id.in_(points))
            .distinct()
            .subquery()
        )
        return {
            home: int(n)
            for home, n in session.execute(
                select(pairs.c.home_point_id, func.count()).group_by(pairs.c.home_point_id)
            )
        }
    # Otherwise every (point, title) with its copies now, in one query (the points asked
    # about are few and small), with the changed copies then undone in Python.
    then: dict[tuple[int, int], int] = defaultdict(int)  # (point, record) -> copies
    for home, record_id, n in session.execute(
        select(Copy.home_point_id, Copy.record_id, func.count())
        .where(held_now, Copy.home_point_id.in_(points))
        .group_by(Copy.home_point_id, Copy.record_id)
    ):
        then[(home, record_id)] = int(n)
    for c in changes:
        then[(c.home_now, c.record_id)] -= c.held_now
        then[(c.home_then, c.record_id)] += c.held_then
    titles: dict[int, int] = defaultdict(int)
    for (home, _record), n in then.items():
        if n > 0 and home in wanted:
            titles[home] += 1
    return dict(titles)


def added_by_point(
    session: Session, start: dt.date, end: dt.date, changes: list[Change] | None = None
) -> dict[int, int]:
    """{point id: copies added in [start, end]}, by their home at the end of the period."""
    period = and_(Copy.date_added >= start, Copy.date_added <= end)
    counts: dict[int, int] = defaultdict(int)
    for home, count in session.execute(
        select(Copy.home_point_id, func.count()).where(period).group_by(Copy.home_point_id)
    ):
        counts[home] += int(count)
    for c in changes_since(session, end) if changes is None else changes:
        if start <= c.added <= end:
            counts[c.home_now] -= 1
            counts[c.home_then] += 1
    return {point: n for point, n in counts.items() if n}
