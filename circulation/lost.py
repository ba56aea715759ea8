"""Lost, missing, damaged, withdrawn, found: a copy's status change with its loan consequences.

STATUS-6 A copy on loan declared lost (the reader says so): the loan closes as
         ``lost`` at the desk, the reader is charged the copy's price (if the
         copy has one) and the copy is lost (not held, STATUS-5).
STATUS-7 A lost or missing copy that turns up is restored (STATUS-4); the unpaid
         part of its lost charge is waived. Restored on a shelf, it is offered to
         the oldest waiting hold (HOLD-3).
Other changes follow STATUS-1..3 (copy_status.py).
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy.orm import Session

from catalog.records import Copy, CopyStatus
from circulation.copy_status import apply_status, change_status, restore_found
from circulation.desk import Desk
from circulation.fines import charge
from circulation.holds import offer
from circulation.in_hand import open_loan
from circulation.loans import close_loan
from circulation.models import FineKind
from circulation.tree import NetworkTree


def set_status(session: Session, desk: Desk, copy: Copy, status: str, reason: str) -> Copy:
    """The one entry point for staff status changes (page and API)."""
    if copy.status == CopyStatus.ON_LOAN and status == CopyStatus.LOST:
        return declare_lost(session, desk, copy, reason)
    if status == CopyStatus.AVAILABLE and copy.status in (CopyStatus.LOST, CopyStatus.MISSING):
        restore_found(session, desk, copy, reason or "found / 已找回")
    else:
        change_status(
            session,
            copy,
            status,
            reason=reason,
            point_id=desk.point.id,
            actor=desk.actor,
            at=desk.now,
        )
    if copy.status == CopyStatus.AVAILABLE:
        offer(session, NetworkTree.load(session), copy)
    return copy


def declare_lost(session: Session, desk: Desk, copy: Copy, reason: str) -> Copy:
    """STATUS-6: the reader lost it; the loan closes and the price is charged."""
    loan = open_loan(session, copy)
    assert loan is not None
    patron = loan.patron
    close_loan(session, desk, None, loan, copy, outcome="lost")
    apply_status(
        session,
        copy,
        CopyStatus.LOST,
        reason=reason or "lost by the reader / 读者遗失",
        point_id=desk.point.id,
        actor=desk.actor,
        at=desk.now,
    )
    if patron is not None and copy.price is not None and copy.price > Decimal("0"):
        charge(
            session,
            desk,
            patron,
            FineKind.LOST,
            copy.price,
            loan=loan,
            copy=copy,
            note="replacement price / 按原价赔偿",
        )
    return copy
