"""Status changes of a copy outside loans: withdrawn, lost, missing, damaged, and back again.

Each change is a circulation event with a reason and a date, written to the
ledger in the same transaction (rules STATUS-1..5 in docs/circulation.md).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from catalog.db import utcnow
from catalog.errors import Conflict, DomainError
from catalog.records import Copy, CopyStatus
from circulation.ledger import LedgerEvent, append

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
    session: Session, copy: Copy, status: str, *, reason: str, point_id: int, actor: str
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
    previous = copy.status
    copy.status = status
    copy.status_reason = reason.strip()
    copy.status_changed_at = utcnow()
    append(
        session,
        LedgerEvent.STATUS_CHANGED,
        point_id=point_id,
        actor=actor,
        copy_id=copy.id,
        details={"from": previous, "to": status, "reason": copy.status_reason},
    )
    session.flush()
    return copy
