"""The holdings history (馆藏历史): what each point held at the end of any day.

FIG-4 A copy is held on day D by the point that was its home at the end of D, if
it had been added by D and its status then was not withdrawn or lost (STATUS-5). The
state at D is today's state of the copy with every change after D undone: status
changes (``status_changed``, with from and to) and home moves (``copy_moved``, MOVE-2)
are in the ledger, so a past day's holdings never change when stock moves later.

Only copies changed after D need undoing; they are few (status changes and transfers are
rare next to loans), so one query counts today's state and the changed copies are then
taken out as they are now and put back as they were on D.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from catalog.records import NOT_HELD, Copy
from circulation.desk import NETWORK_TIMEZONE
from circulation.ledger import LedgerEntry, LedgerEvent

_NOT_HELD = tuple(s.value for s in NOT_HELD)


@dataclass(frozen=True)
class Change:
    """A copy changed after the day asked about: as it is now and as it was then."""

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


def _chunks(ids: list[int], size: int = 500) -> list[list[int]]:
    return [ids[i : i + size] for i in range(0, len(ids), size)]


def changes_since(session: Session, day: dt.date) -> list[Change]:
    """Copies whose status or home changed after ``day``, with both states."""
    rows = session.execute(
        select(LedgerEntry.copy_id, LedgerEntry.event, LedgerEntry.details)
        .where(
            LedgerEntry.event.in_((LedgerEvent.STATUS_CHANGED, LedgerEvent.COPY_MOVED)),
            LedgerEntry.occurred_at >= end_of(day),
            LedgerEntry.copy_id.is_not(None),
        )
        .order_by(LedgerEntry.occurred_at, LedgerEntry.id)
    )
    first_status: dict[int, str] = {}
    first_home: dict[int, int] = {}
    for copy_id, event, details in rows:
        if event == LedgerEvent.STATUS_CHANGED:
            first_status.setdefault(copy_id, str(details.get("from", "")))
        else:
            first_home.setdefault(copy_id, int(details["from"]))
    out: list[Change] = []
    for chunk in _chunks(sorted(set(first_status) | set(first_home))):
        for c in session.execute(
            select(Copy.id, Copy.record_id, Copy.item_type, Copy.date_added,
                   Copy.home_point_id, Copy.status).where(Copy.id.in_(chunk))
        ):  # fmt: skip
            status_then = first_status.get(c.id, c.status)
            out.append(Change(c.id, c.record_id, c.item_type, c.date_added, c.home_point_id,
                              c.status not in _NOT_HELD, first_home.get(c.id, c.home_point_id),
                              status_then not in _NOT_HELD))  # fmt: skip
    return out


def held_by_point(session: Session, day: dt.date) -> dict[int, dict[str, int]]:
    """{point id: {item type: copies held}} at the end of ``day`` (FIG-4)."""
    counts: dict[tuple[int, str], int] = defaultdict(int)
    for home, item_type, n in session.execute(
        select(Copy.home_point_id, Copy.item_type, func.count())
        .where(Copy.date_added <= day, Copy.status.not_in(_NOT_HELD))
        .group_by(Copy.home_point_id, Copy.item_type)
    ):
        counts[(home, item_type)] += int(n)
    for c in changes_since(session, day):
        if c.added > day:
            continue
        counts[(c.home_now, c.item_type)] -= c.held_now
        counts[(c.home_then, c.item_type)] += c.held_then
    out: dict[int, dict[str, int]] = defaultdict(dict)
    for (home, item_type), n in counts.items():
        if n:
            out[home][item_type] = n
    return dict(out)


def titles_by_point(session: Session, day: dt.date) -> dict[int, int]:
    """{point id: distinct titles (records) held} at the end of ``day`` (the 农家书屋 baseline)."""
    held_now = and_(Copy.date_added <= day, Copy.status.not_in(_NOT_HELD))
    titles: dict[int, int] = {
        home: int(n)
        for home, n in session.execute(
            select(Copy.home_point_id, func.count(func.distinct(Copy.record_id)))
            .where(held_now)
            .group_by(Copy.home_point_id)
        )
    }
    changes = [c for c in changes_since(session, day) if c.added <= day]
    if not changes:
        return titles
    present: dict[tuple[int, int], int] = defaultdict(int)  # (point, record) -> copies now
    for chunk in _chunks(sorted({c.record_id for c in changes})):
        for home, record_id, n in session.execute(
            select(Copy.home_point_id, Copy.record_id, func.count())
            .where(held_now, Copy.record_id.in_(chunk))
            .group_by(Copy.home_point_id, Copy.record_id)
        ):
            present[(home, record_id)] = int(n)
    then = dict(present)
    for c in changes:
        then[(c.home_now, c.record_id)] = then.get((c.home_now, c.record_id), 0) - c.held_now
        then[(c.home_then, c.record_id)] = then.get((c.home_then, c.record_id), 0) + c.held_then
    for (home, _record), n in then.items():
        before = present.get((home, _record), 0)
        titles[home] = titles.get(home, 0) + (n > 0) - (before > 0)
    return {home: n for home, n in titles.items() if n}


def added_by_point(session: Session, start: dt.date, end: dt.date) -> dict[int, int]:
    """{point id: copies added in [start, end]}, by their home at the end of the period."""
    period = and_(Copy.date_added >= start, Copy.date_added <= end)
    counts: dict[int, int] = defaultdict(int)
    for home, count in session.execute(
        select(Copy.home_point_id, func.count()).where(period).group_by(Copy.home_point_id)
    ):
        counts[home] += int(count)
    for c in changes_since(session, end):
        if start <= c.added <= end:
            counts[c.home_now] -= 1
            counts[c.home_then] += 1
    return {point: n for point, n in counts.items() if n}
