"""The writes every checkout and check-in makes, each as one plain statement.

A copy's state, a loan opened or closed, a transit opened or closed: these are
the rows the counter changes hundreds of times an hour, and sending each as
one statement (instead of through the ORM's unit of work) is most of what
keeps a checkout to a few milliseconds. The rules the ORM enforced are kept:

- a copy's row is changed only if its version is the one read (API-3): two
  desks changing one copy at once cannot both win (ConcurrentChange);
- a loan or transit is closed only while still open, and the database's
  partial unique indexes still allow one open loan and one open transit per
  copy (LOAN-1, TRANSIT-1);
- a changed copy puts its record in the search outbox, in the same transaction.

The ORM objects in the session are updated to what was written (as if loaded
that way), so the rest of the action reads the new state.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, TypeVar

from sqlalchemy import Date, bindparam, func, insert, inspect, update
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from catalog.db import table_of, utcnow
from catalog.records import Copy
from catalog.search.outbox import enqueue
from circulation.errors import ConcurrentChange
from circulation.models import Loan, Transit

M = TypeVar("M")

_COPY_STATE = (
    update(Copy)
    .where(Copy.id == bindparam("copy_id"), Copy.version == bindparam("read_version"))
    .values(
        status=bindparam("new_status"),
        current_point_id=bindparam("new_point"),
        version=Copy.version + 1,
        updated_at=bindparam("now"),
        last_lent_on=func.coalesce(bindparam("lent_on", type_=Date), Copy.last_lent_on),
    )
)
_CLOSE_LOAN = (
    update(Loan)
    .where(Loan.id == bindparam("loan_id"), Loan.returned_at.is_(None))
    .values(
        returned_at=bindparam("at"),
        return_point_id=bindparam("at_point"),
        outcome=bindparam("how"),
    )
)
_CLOSE_TRANSIT = (
    update(Transit)
    .where(Transit.id == bindparam("transit_id"), Transit.closed_at.is_(None))
    .values(
        closed_at=bindparam("at"),
        closed_point_id=bindparam("at_point"),
        outcome=bindparam("how"),
    )
)


def _changed_one(result: Any) -> None:
    if getattr(result, "rowcount", 1) != 1:
        raise ConcurrentChange()


def set_copy_state(
    session: Session, copy: Copy, status: str, point_id: int, lent_on: dt.date | None = None
) -> None:
    """Where a copy is and what it is doing now; refused if another desk changed it first.

    ``lent_on`` (a checkout) also records the day it was last lent, for the idle-copy figures.
    """
    now = utcnow()
    result = session.connection().execute(
        _COPY_STATE,
        {"copy_id": copy.id, "read_version": copy.version, "new_status": status,
         "new_point": point_id, "now": now, "lent_on": lent_on},
    )  # fmt: skip
    _changed_one(result)
    values: list[tuple[str, object]] = [
        ("status", status),
        ("current_point_id", point_id),
        ("version", copy.version + 1),
        ("updated_at", now),
    ]
    if lent_on is not None:
        values.append(("last_lent_on", lent_on))
    for key, value in values:
        set_committed_value(copy, key, value)
    if "current_point" in copy.__dict__:
        copy.__dict__.pop("current_point")  # reloaded on next use, for the new point
    enqueue(session, [copy.record_id])


_BUMP = (
    update(Copy)
    .where(Copy.id == bindparam("copy_id"), Copy.version == bindparam("read_version"))
    .values(version=Copy.version + 1)
)


def mark_promised(session: Session, copy: Copy) -> None:
    """A copy this transaction locked is now promised to a hold (targeted): its version moves
    on although nothing else in its row changes, so that a desk that was waiting for its lock
    sees that it changed and looks at the holds again (circulation/in_hand.py)."""
    _changed_one(session.connection().execute(
        _BUMP, {"copy_id": copy.id, "read_version": copy.version}
    ))  # fmt: skip
    set_committed_value(copy, "version", copy.version + 1)


def _insert_returning(model: Any) -> tuple[Any, tuple[str, ...]]:
    """INSERT ... RETURNING every column, and the attribute each returned column sets."""
    table, mapper = table_of(model), inspect(model)
    keys = tuple(mapper.get_property_by_column(c).key for c in table.c)
    return insert(table).returning(*table.c), keys


_INSERT_LOAN = _insert_returning(Loan)
_INSERT_TRANSIT = _insert_returning(Transit)


def _inserted(session: Session, model: type[M], insert_: tuple[Any, tuple[str, ...]],
              values: dict[str, Any]) -> M:  # fmt: skip
    """INSERT one row and get it back as a persistent object, as if loaded by a query.

    A plain statement: the ORM's insert with RETURNING costs several times as much, and a
    checkout or a check-in makes one each.
    """
    statement, keys = insert_
    row = session.connection().execute(statement, values).one()
    obj = model(**dict(zip(keys, row, strict=True)))
    make_transient_to_detached(obj)  # its state as loaded, nothing pending
    session.add(obj)
    return obj


def open_loan_row(session: Session, **values: Any) -> Loan:
    """INSERT a loan and get it back as a persistent object (the database refuses a second
    open loan of the copy)."""
    return _inserted(session, Loan, _INSERT_LOAN, values)


def close_loan_row(
    session: Session, loan: Loan, at: dt.datetime, point_id: int, outcome: str
) -> None:
    result = session.connection().execute(
        _CLOSE_LOAN, {"loan_id": loan.id, "at": at, "at_point": point_id, "how": outcome}
    )
    _changed_one(result)
    for key, value in (("returned_at", at), ("return_point_id", point_id), ("outcome", outcome)):
        set_committed_value(loan, key, value)


def open_transit_row(session: Session, **values: Any) -> Transit:
    """INSERT a transit and get it back (the database refuses a second open one)."""
    return _inserted(session, Transit, _INSERT_TRANSIT, values)


def close_transit_row(
    session: Session, transit: Transit, at: dt.datetime, point_id: int, outcome: str
) -> None:
    result = session.connection().execute(
        _CLOSE_TRANSIT,
        {"transit_id": transit.id, "at": at, "at_point": point_id, "how": outcome},
    )
    _changed_one(result)
    for key, value in (("closed_at", at), ("closed_point_id", point_id), ("outcome", outcome)):
        set_committed_value(transit, key, value)
