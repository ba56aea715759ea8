"""Check-in (还书) at any point, and receiving transits: the loan closes, the book is routed.

CHECKIN-1 A copy on loan, returned at point P: the loan closes at P (whatever
          point lent it), an overdue fine is charged by FINE-1, and the copy is
          routed by CHECKIN-2 (routing.py). The receipt says what to do with it.
CHECKIN-3 A copy not on loan may be scanned too (pulled from a shelf for a hold,
          found on a table); it is routed the same way:
  CHECKIN-3.1 a lost or missing copy is restored first (STATUS-4);
  CHECKIN-3.2 a copy in transit to P is received (TRANSIT-3); in transit elsewhere,
              it is told where it goes and nothing changes (TRANSIT-4);
  CHECKIN-3.3 a copy on P's hold shelf stays there; on another point's hold shelf,
              it is sent to that point;
  CHECKIN-3.4 withdrawn, damaged or in-processing copies are refused: they are out
              of circulation until their status is changed.
CHECKIN-4 Returns are taken from blocked and expired cards (BLOCK-6).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.records import Copy, CopyStatus
from circulation.copy_status import restore_found
from circulation.desk import Desk
from circulation.errors import CirculationRefused
from circulation.in_hand import InHand, copy_in_hand
from circulation.loans import (
    close_loan,
    hold_ref,
    loan_ref,
    refuse_out_of_circulation,
)
from circulation.models import Hold, HoldStatus, TransitReason
from circulation.receipts import CheckinReceipt, CopyRef, FineRef, LoanRef, Note, PointRef
from circulation.routing import Routing, arrive, route
from circulation.transits import send
from circulation.tree import NetworkTree


def checkin(session: Session, desk: Desk, barcode: str) -> CheckinReceipt:
    """Take a copy back (or scan one to route it) at the desk's point."""
    tree = NetworkTree.load(session)
    scanned = copy_in_hand(session, barcode)
    copy = scanned.copy
    refuse_out_of_circulation(copy)  # CHECKIN-3.4
    notes: list[Note] = []
    loan_done: LoanRef | None = None
    fine: FineRef | None = None
    if copy.status == CopyStatus.ON_LOAN:  # CHECKIN-1
        loan = scanned.loan
        if loan is not None:
            days, fine = close_loan(session, desk, tree, loan, copy, outcome="returned")
            loan_done = loan_ref(loan, loan.patron, tree[loan.point_id].code, days)
            if days:
                notes.append(Note("overdue", f"returned {days} day(s) late", f"逾期 {days} 天归还"))
    elif copy.status in (CopyStatus.LOST, CopyStatus.MISSING):  # CHECKIN-3.1
        restore_found(session, desk, copy, "found at a check-in")
        notes.append(
            Note(
                "restored",
                "the copy was lost or missing and is restored",
                "该书原登记为遗失或丢失待查，已恢复",
            )
        )
    routing = _route(session, desk, tree, scanned, notes)
    return _receipt(desk, copy, routing, loan_done, fine, notes)


def receive(session: Session, desk: Desk, barcode: str) -> CheckinReceipt:
    """TRANSIT-3/4: the van's delivery scanned in; only for copies in transit."""
    tree = NetworkTree.load(session)
    scanned = copy_in_hand(session, barcode)
    copy = scanned.copy
    if copy.status != CopyStatus.IN_TRANSIT:
        raise CirculationRefused(
            "not_in_transit",
            f"copy {copy.barcode} is not in transit: check it in instead",
            f"图书 {copy.barcode} 不在途中，请办理还书",
        )
    notes: list[Note] = []
    routing = _route(session, desk, tree, scanned, notes)
    return _receipt(desk, copy, routing, None, None, notes)


def _route(
    session: Session, desk: Desk, tree: NetworkTree, scanned: InHand, notes: list[Note]
) -> Routing:
    copy, transit = scanned.copy, scanned.transit
    if transit is not None:  # CHECKIN-3.2
        if transit.to_point_id == desk.point.id:
            return arrive(session, desk, tree, copy, transit)
        notes.append(
            Note(
                "in_transit_elsewhere",
                f"in transit to {transit.to_point.code}: send it on",
                f"该书正送往 {transit.to_point.name}，请继续转送",
            )
        )
        return Routing("transit", destination=transit.to_point, transit=transit)
    if copy.status == CopyStatus.ON_HOLD_SHELF:  # CHECKIN-3.3
        hold = session.scalar(
            select(Hold).where(Hold.copy_id == copy.id, Hold.status == HoldStatus.READY)
        )
        if hold is not None:
            if hold.pickup_point_id == desk.point.id:
                notes.append(
                    Note("on_hold_shelf", "it belongs on this hold shelf", "该书应放本馆预约架")
                )
                return Routing("hold_shelf", hold=hold)
            hold.status = HoldStatus.IN_TRANSIT
            onward = send(session, desk, copy, hold.pickup_point, TransitReason.HOLD, hold=hold)
            return Routing("transit", destination=hold.pickup_point, hold=hold, transit=onward)
    if copy.status != CopyStatus.ON_LOAN and copy.current_point_id != desk.point.id:
        where = tree[copy.current_point_id]
        notes.append(
            Note(
                "whereabouts_corrected",
                f"the system had it at {where.code}: corrected",
                f"系统记录该书在 {where.name}，已更正为本馆",
            )
        )
    return route(session, desk, tree, copy, title_held=scanned.title_held)


def _receipt(
    desk: Desk,
    copy: Copy,
    routing: Routing,
    loan: LoanRef | None,
    fine: FineRef | None,
    notes: list[Note],
) -> CheckinReceipt:
    return CheckinReceipt(
        action=routing.action,
        destination=PointRef.of(routing.destination) if routing.destination else None,
        copy=CopyRef.of(copy),
        point=PointRef.of(desk.point),
        loan=loan,
        hold=hold_ref(routing.hold) if routing.hold is not None else None,
        transit_id=routing.transit.id if routing.transit is not None else None,
        fine=fine,
        notes=[*notes, *routing.notes],
    )
