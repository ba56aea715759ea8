"""Status changes of a copy outside loans: withdrawn, lost, missing, damaged, and back again.

Each change is a circulation event with a reason and a date, written to the
ledger in the same transaction (rules STATUS-1..7 in docs/circulation.md;
a copy on loan declared lost is circulation/lost.py).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.db import utcnow
from catalog.errors import Conflict, DomainError
from catalog.records import Copy, CopyStatus
from circulation.desk import Desk
from circulation.fines import waive
from circulation.ledger import LedgerEvent, append
from circulation.models import Fine, FineKind

SETTABLE = (
    CopyStatus.AVAILABLE,
    CopyStatus.WITHDRAWN,
    CopyStatus.LOST,
    CopyStatus.MISSING,
    CopyStatus.DAMAGED,
    CopyStatus.IN_PROCESSING,
)


class InvalidStatus(DomainError):
    code = "invalid_status"
    http_status = 422


def change_status(
    session: Session,
    copy: Copy,
    status: str,
    *,
    reason: str,
    point_id: int,
    actor: str,
    at: dt.datetime | None = None,
) -> Copy:
    """Set a copy's status with its reason; a copy out on loan must be returned first."""
    if status not in [s.value for s in SETTABLE]:
        allowed = ", ".join(s.value for s in SETTABLE)
        raise InvalidStatus(f"status must be one of {allowed}", f"状态必须是：{allowed}")
    if status != CopyStatus.AVAILABLE and not reason.strip():
        raise InvalidStatus("give a reason for the change", "请填写原因")
    if copy.status in (CopyStatus.ON_LOAN, CopyStatus.ON_HOLD_SHELF, CopyStatus.IN_TRANSIT):
        raise Conflict(
            f"copy {copy.barcode} is {copy.status}; check it in first",
            f"图书 {copy.barcode} 当前状态为 {copy.status}，请先办理归还",
        )
    if copy.status == status:
        raise Conflict(
            f"copy {copy.barcode} is already {status}", f"图书 {copy.barcode} 已是该状态"
        )
    return apply_status(session, copy, status, reason=reason, point_id=point_id, actor=actor, at=at)


def apply_status(
    session: Session,
    copy: Copy,
    status: str,
    *,
    reason: str,
    point_id: int,
    actor: str,
    at: dt.datetime | None = None,
) -> Copy:
    """Write a status already checked by the caller, with its ledger row."""
    previous = copy.status
    copy.status = status
    copy.status_reason = reason.strip()
    copy.status_changed_at = at or utcnow()
    if status == CopyStatus.AVAILABLE:
        copy.current_point_id = point_id
    append(
        session,
        LedgerEvent.STATUS_CHANGED,
        point_id=point_id,
        actor=actor,
        copy_id=copy.id,
        copy_home_point_id=copy.home_point_id,
        details={"from": previous, "to": status, "reason": copy.status_reason},
        at=copy.status_changed_at,
    )
    session.flush()
    return copy


def restore_found(session: Session, desk: Desk, copy: Copy, reason: str) -> Copy:
    """STATUS-4 and STATUS-7: a lost or missing copy turned up; an unpaid lost charge is waived.

    What was paid stays paid (a refund is a cash matter for the desk).
    """
    change_status(
        session,
        copy,
        CopyStatus.AVAILABLE,
        reason=reason,
        point_id=desk.point.id,
        actor=desk.actor,
        at=desk.now,
    )
    charges = session.scalars(
        select(Fine).where(
            Fine.copy_id == copy.id, Fine.kind == FineKind.LOST, Fine.closed_at.is_(None)
        )
    )
    for fine in charges:
        waive(session, desk, fine, "copy found / 图书已找回")
    return copy
