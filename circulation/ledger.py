"""The circulation ledger (流通日志): append-only, the source of every statistic.

Each circulation event is one row with its time, the point where it
happened, who did it (a staff account or a terminal) and the copy and
patron concerned. Rows are never updated or deleted: the migration installs
database triggers that refuse UPDATE and DELETE on both SQLite and
PostgreSQL, so figures can always be recomputed from history. The one
change allowed is erasing the patron link of an old row (LEDGER-3, privacy);
the patron's home point stays, so figures by patron's home point survive it.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from catalog.db import Base, utcnow
from circulation.figures.aggregates import COUNTED, count_event
from circulation.pending import add_ledger_row


class LedgerEvent(enum.StrEnum):
    CHECKOUT = "checkout"
    CHECKIN = "checkin"
    RENEW = "renew"
    HOLD_PLACED = "hold_placed"
    HOLD_TRAPPED = "hold_trapped"
    HOLD_FILLED = "hold_filled"
    HOLD_EXPIRED = "hold_expired"
    HOLD_CANCELLED = "hold_cancelled"
    TRANSIT_SENT = "transit_sent"
    TRANSIT_RECEIVED = "transit_received"
    STATUS_CHANGED = "status_changed"
    FINE_CHARGED = "fine_charged"
    FINE_PAID = "fine_paid"
    FINE_WAIVED = "fine_waived"
    PATRON_BLOCKED = "patron_blocked"
    PATRON_UNBLOCKED = "patron_unblocked"
    HOLD_PICKUP_CHANGED = "hold_pickup_changed"
    COPY_MOVED = "copy_moved"  # a copy's home point changed: a transfer or a rotation batch


# The events that change what a point holds: the holdings history undoes them (FIG-4).
STOCK_EVENTS = (LedgerEvent.STATUS_CHANGED.value, LedgerEvent.COPY_MOVED.value)
_STOCK_ROWS = text("event IN ('status_changed', 'copy_moved')")


class LedgerEntry(Base):
    """One circulation event. Never updated, never deleted."""

    __tablename__ = "circulation_ledger"
    __table_args__ = (
        # a few rows in a hundred: the holdings history reads them from the index alone
        Index("ix_circulation_ledger_stock_changes", "occurred_at",
              postgresql_where=_STOCK_ROWS, sqlite_where=_STOCK_ROWS,
              postgresql_include=["copy_id", "event", "id", "details"]),
    )  # fmt: skip

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    occurred_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    event: Mapped[str] = mapped_column(String(32), index=True)
    point_id: Mapped[int] = mapped_column(ForeignKey("service_points.id"), index=True)
    actor: Mapped[str] = mapped_column(String(100))
    copy_id: Mapped[int | None] = mapped_column(ForeignKey("copies.id"), index=True)
    patron_id: Mapped[int | None] = mapped_column(ForeignKey("patrons.id"), index=True)
    # Attribution at the time of the event, kept even when the copy moves or the patron is erased.
    copy_home_point_id: Mapped[int | None] = mapped_column(ForeignKey("service_points.id"))
    patron_home_point_id: Mapped[int | None] = mapped_column(ForeignKey("service_points.id"))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


def append(
    session: Session,
    event: LedgerEvent,
    *,
    point_id: int,
    actor: str,
    copy_id: int | None = None,
    patron_id: int | None = None,
    copy_home_point_id: int | None = None,
    patron_home_point_id: int | None = None,
    details: dict[str, Any] | None = None,
    at: dt.datetime | None = None,
) -> None:
    """Record one event in the caller's transaction (it commits or rolls back with the loan).

    Not an ORM object: ledger rows are only ever read back by queries. The row waits in
    the session and is written at the commit with the transaction's other ledger rows,
    daily counts and reindex requests, in one statement on PostgreSQL
    (circulation/pending.py); a query of the ledger in the same transaction writes it first.
    """
    at = at or utcnow()
    add_ledger_row(
        session,
        {
            "occurred_at": at,
            "event": event.value,
            "point_id": point_id,
            "actor": actor,
            "copy_id": copy_id,
            "patron_id": patron_id,
            "copy_home_point_id": copy_home_point_id,
            "patron_home_point_id": patron_home_point_id,
            "details": details or {},
        },
    )
    if event.value in COUNTED:  # the daily figures move with the ledger (FIG-13)
        count_event(session, event.value, at, point_id, copy_home_point_id, patron_home_point_id)
