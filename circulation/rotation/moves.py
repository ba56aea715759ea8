"""A copy's home point changes (调拨): by a librarian's transfer, or while on a rotation batch.

MOVE-1 A transfer gives a copy on the shelf a new home point (and puts it there).
MOVE-2 Every change of home is a ledger event (``copy_moved``, with from, to and why):
       holdings at any past date are recomputed from it (FIG-4), so a later move
       never changes a past period's figures.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from catalog import cataloguing
from catalog.records import Copy
from circulation.desk import Desk
from circulation.ledger import LedgerEvent, append


def record_move(
    session: Session,
    desk: Desk,
    copy: Copy,
    from_id: int,
    to_id: int,
    why: str,
    batch_id: int | None = None,
) -> None:
    """MOVE-2: the ledger row of a home change that has just been made."""
    details: dict[str, object] = {"from": from_id, "to": to_id, "why": why}
    if batch_id is not None:
        details["batch_id"] = batch_id
    append(
        session,
        LedgerEvent.COPY_MOVED,
        point_id=desk.point.id,
        actor=desk.actor,
        copy_id=copy.id,
        copy_home_point_id=to_id,
        details=details,
        at=desk.now,
    )


def transfer(session: Session, desk: Desk, copy: Copy, to_code: str) -> Copy:
    """MOVE-1 and MOVE-2: a copy on the shelf gets a new home point."""
    before = copy.home_point_id
    cataloguing.move_copy(session, copy, to_code)
    if copy.home_point_id != before:
        record_move(session, desk, copy, before, copy.home_point_id, "transfer")
    return copy


def set_home(
    session: Session, desk: Desk, copy: Copy, to_id: int, why: str, batch_id: int | None = None
) -> None:
    """Change a copy's home point, wherever the copy is (a rotation batch), with its ledger row."""
    before = copy.home_point_id
    if before == to_id:
        return
    copy.home_point_id = to_id
    session.flush()
    session.refresh(copy, ["home_point"])
    record_move(session, desk, copy, before, to_id, why, batch_id)
