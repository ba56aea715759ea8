"""Transits (在途): a copy on its way between points, and the lists and slips for the van.

TRANSIT-1 A copy has at most one open transit (the database refuses a second).
TRANSIT-2 Sending a copy opens a transit from the acting point and sets the copy
          in transit; the ledger records ``transit_sent``.
TRANSIT-3 Scanned at its destination (check-in or receive), the transit closes
          as received (``transit_received``) and the copy goes where the
          transit's purpose says: the hold shelf for a hold still waiting for
          it, otherwise the shelf.
TRANSIT-4 Scanned anywhere else, nothing changes: the receipt says where it goes.
TRANSIT-5 Lent on the way (the book turned up at a counter), the transit closes
          as ``checked_out`` and the receipt says so.
TRANSIT-6 Lists per point: copies coming in and going out; slips per delivery run
          (one run serves one branch group: the branch and the points under it).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from catalog.callnumber import call_number_sort_key
from catalog.network import ServicePoint
from catalog.records import Copy, CopyStatus
from circulation.desk import Desk, Place
from circulation.ledger import LedgerEvent, append
from circulation.models import Hold, Transit, TransitReason
from circulation.tree import NetworkTree
from circulation.writes import close_transit_row, open_transit_row, set_copy_state


def send(
    session: Session,
    desk: Desk,
    copy: Copy,
    to: ServicePoint,
    reason: TransitReason,
    *,
    hold: Hold | None = None,
    batch_id: int | None = None,
) -> Transit:
    """TRANSIT-2: the copy leaves the acting point for ``to``."""
    transit = open_transit_row(
        session,
        copy_id=copy.id,
        from_point_id=desk.point.id,
        to_point_id=to.id,
        reason=reason.value,
        hold_id=hold.id if hold is not None else None,
        batch_id=batch_id,
        sent_at=desk.now,
    )
    set_copy_state(session, copy, CopyStatus.IN_TRANSIT, desk.point.id)
    append(
        session,
        LedgerEvent.TRANSIT_SENT,
        point_id=desk.point.id,
        actor=desk.actor,
        copy_id=copy.id,
        copy_home_point_id=copy.home_point_id,
        details={
            "transit_id": transit.id,
            "to": to.code,
            "reason": reason.value,
            **({"hold_id": hold.id} if hold is not None else {}),
            **({"batch_id": batch_id} if batch_id is not None else {}),
        },
        at=desk.now,
    )
    return transit


def close(session: Session, desk: Desk, transit: Transit, outcome: str) -> None:
    """Close a transit (received at its destination, or lent or found on the way)."""
    close_transit_row(session, transit, desk.now, desk.point.id, outcome)
    if outcome == "received":
        append(
            session,
            LedgerEvent.TRANSIT_RECEIVED,
            point_id=desk.point.id,
            actor=desk.actor,
            copy_id=transit.copy_id,
            copy_home_point_id=transit.copy.home_point_id,
            details={"transit_id": transit.id, "from": transit.from_point.code},
            at=desk.now,
        )


@dataclass(frozen=True)
class TransitLine:
    """One line of a transit list or slip."""

    transit_id: int
    barcode: str
    title: str
    call_number: str
    from_code: str
    to_code: str
    to_name: str
    reason: str
    sent_at: dt.datetime
    run_code: str
    hold_card: str | None


def transit_list(
    session: Session, tree: NetworkTree, point: Place, direction: str
) -> list[TransitLine]:
    """TRANSIT-6: open transits into (``in``) or out of (``out``) a point, by run, call number."""
    column = Transit.to_point_id if direction == "in" else Transit.from_point_id
    transits = session.scalars(
        select(Transit)
        .where(column == point.id, Transit.closed_at.is_(None))
        .options(
            joinedload(Transit.copy).joinedload(Copy.record),
            joinedload(Transit.to_point),
            joinedload(Transit.from_point),
            joinedload(Transit.hold).joinedload(Hold.patron),
        )
    ).unique()
    lines = [
        TransitLine(
            transit_id=t.id,
            barcode=t.copy.barcode,
            title=t.copy.record.title,
            call_number=t.copy.call_number,
            from_code=t.from_point.code,
            to_code=t.to_point.code,
            to_name=t.to_point.name,
            reason=t.reason,
            sent_at=t.sent_at,
            run_code=tree[tree.delivery_run_of(t.to_point_id)].code,
            hold_card=t.hold.patron.card if t.hold is not None and t.hold.patron else None,
        )
        for t in transits
    ]
    return sorted(
        lines, key=lambda ln: (ln.run_code, ln.to_code, call_number_sort_key(ln.call_number))
    )
