"""Placing, cancelling and moving holds, and the daily hold-shelf round (预约服务).

HOLD-1 A patron may place a hold on a title with a pickup point anywhere in the
       network, if: the card may borrow (BLOCK-1..5), fewer than the rule's
       ``max_holds`` holds are open, no open hold on the same title, the title is
       not already on loan to them, and at least one copy of it is held and
       lendable (else nothing could ever fill it).
HOLD-7 Cancelling (by the reader or a librarian, with a reason) closes the hold;
       a copy it had promised goes to its next use (HOLD-9).
HOLD-8 Changing the pickup point: a hold not yet trapped is targeted again for the
       new point; one in transit has its transit sent on at the next scan; one on
       the hold shelf is sent to the new point.
HOLD-10 The daily round (``tongjie circulation daily``): holds left on a hold shelf
       past their day expire and their copies go to their next use; targeted holds
       whose copy left the shelf and waiting holds are targeted again. Running it
       twice on one day changes nothing the second time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from catalog.errors import NotFound
from catalog.network import ServicePoint
from catalog.records import NOT_HELD, Copy, CopyStatus, Record
from circulation.blocks import block_reasons
from circulation.desk import Desk
from circulation.errors import CirculationRefused, PatronBlocked
from circulation.holds import target
from circulation.ledger import LedgerEvent, append
from circulation.models import (
    OPEN_HOLD,
    PROMISED,
    Hold,
    HoldStatus,
    Loan,
    PatronNotice,
    TransitReason,
)
from circulation.patrons import Patron
from circulation.policies import resolve
from circulation.routing import Routing, release
from circulation.transits import send
from circulation.tree import NetworkTree


def get_hold(session: Session, hold_id: int) -> Hold:
    hold = session.get(Hold, hold_id) if 0 < hold_id < 2**63 else None
    if hold is None:
        raise NotFound(f"no hold {hold_id}", f"没有编号为 {hold_id} 的预约")
    return hold


def place_hold(
    session: Session, desk: Desk, patron: Patron, record: Record, pickup: ServicePoint
) -> Hold:
    """HOLD-1, then HOLD-3: the new hold is targeted at once if a copy is on a shelf."""
    tree = NetworkTree.load(session)
    policy = resolve(tree, pickup.id, patron.category, None)
    reasons = block_reasons(session, patron, policy, desk.today)
    if reasons:
        raise PatronBlocked(reasons)
    open_count = session.scalar(
        select(func.count(Hold.id)).where(Hold.patron_id == patron.id, Hold.status.in_(OPEN_HOLD))
    )
    if (open_count or 0) >= policy.max_holds:
        raise CirculationRefused(
            "hold_limit",
            f"the card has {open_count} open holds, the most allowed",
            f"该读者已有 {open_count} 个预约，已达上限",
            limit=policy.max_holds,
        )
    if session.scalar(
        select(Hold.id).where(
            Hold.patron_id == patron.id, Hold.record_id == record.id, Hold.status.in_(OPEN_HOLD)
        )
    ):
        raise CirculationRefused(
            "hold_exists", "the reader has a hold on this title already", "该读者已预约此书"
        )
    if session.scalar(
        select(Loan.id)
        .join(Copy, Copy.id == Loan.copy_id)
        .where(Loan.patron_id == patron.id, Loan.returned_at.is_(None), Copy.record_id == record.id)
    ):
        raise CirculationRefused(
            "already_on_loan", "the reader has this title on loan now", "该读者正借阅此书"
        )
    item_types = session.scalars(
        select(Copy.item_type)
        .where(Copy.record_id == record.id, Copy.status.not_in([s.value for s in NOT_HELD]))
        .distinct()
    ).all()
    if not any(resolve(tree, pickup.id, patron.category, t).lendable for t in item_types):
        raise CirculationRefused(
            "no_copy_to_hold",
            "no copy of this title can be lent: it cannot be held",
            "此书没有可外借的馆藏，无法预约",
        )
    hold = Hold(
        patron_id=patron.id,
        record_id=record.id,
        pickup_point_id=pickup.id,
        placed_point_id=desk.point.id,
        status=HoldStatus.WAITING,
        placed_at=desk.now,
    )
    session.add(hold)
    session.flush()
    append(
        session,
        LedgerEvent.HOLD_PLACED,
        point_id=desk.point.id,
        actor=desk.actor,
        patron_id=patron.id,
        patron_home_point_id=patron.home_point_id,
        details={"hold_id": hold.id, "record_id": record.id, "pickup": pickup.code},
        at=desk.now,
    )
    target(session, tree, hold)
    return hold


def cancel_hold(session: Session, desk: Desk, hold: Hold, reason: str) -> Routing | None:
    """HOLD-7: close the hold; returns where its promised copy goes, if it was on a shelf."""
    return _close(session, desk, hold, HoldStatus.CANCELLED, LedgerEvent.HOLD_CANCELLED, reason)


def _close(
    session: Session, desk: Desk, hold: Hold, status: HoldStatus, event: LedgerEvent, reason: str
) -> Routing | None:
    if hold.status not in OPEN_HOLD:
        raise CirculationRefused(
            "hold_closed", f"hold {hold.id} is {hold.status} already", f"预约 {hold.id} 已结束"
        )
    was, copy = hold.status, hold.copy
    hold.status, hold.closed_at, hold.close_reason = status, desk.now, reason.strip()
    session.flush()
    append(
        session,
        event,
        point_id=desk.point.id,
        actor=desk.actor,
        patron_id=hold.patron_id,
        patron_home_point_id=hold.patron.home_point_id if hold.patron else None,
        copy_id=copy.id if copy else None,
        copy_home_point_id=copy.home_point_id if copy else None,
        details={"hold_id": hold.id, "reason": hold.close_reason},
        at=desk.now,
    )
    if copy is None or was not in PROMISED:
        return None
    return release(session, desk, NetworkTree.load(session), copy, was, hold.pickup_point)


def change_pickup(session: Session, desk: Desk, hold: Hold, pickup: ServicePoint) -> Hold:
    """HOLD-8."""
    if hold.status not in OPEN_HOLD:
        raise CirculationRefused(
            "hold_closed", f"hold {hold.id} is {hold.status} already", f"预约 {hold.id} 已结束"
        )
    if pickup.id == hold.pickup_point_id:
        return hold
    previous = hold.pickup_point
    hold.pickup_point_id = pickup.id
    session.flush()
    session.refresh(hold, ["pickup_point"])
    append(
        session,
        LedgerEvent.HOLD_PICKUP_CHANGED,
        point_id=desk.point.id,
        actor=desk.actor,
        patron_id=hold.patron_id,
        patron_home_point_id=hold.patron.home_point_id if hold.patron else None,
        details={"hold_id": hold.id, "from": previous.code, "to": pickup.code},
        at=desk.now,
    )
    tree = NetworkTree.load(session)
    if hold.status in (HoldStatus.WAITING, HoldStatus.TARGETED):
        target(session, tree, hold)
    elif hold.status == HoldStatus.READY and hold.copy is not None:
        hold.status, hold.shelf_until = HoldStatus.IN_TRANSIT, None
        at_shelf = Desk(previous, desk.actor, desk.now)
        send(session, at_shelf, hold.copy, pickup, TransitReason.HOLD, hold=hold)
    return hold


@dataclass
class DailyReport:
    """What the daily round did, per point, for the librarians' morning list."""

    expired: list[tuple[Hold, Routing | None]] = field(default_factory=list)
    retargeted: int = 0
    notices: int = 0


def daily_round(session: Session, desk: Desk) -> DailyReport:
    """HOLD-10: expire uncollected holds, re-target the rest; idempotent within a day."""
    report = DailyReport()
    overdue = session.scalars(
        select(Hold)
        .where(Hold.status == HoldStatus.READY, Hold.shelf_until < desk.today)
        .order_by(Hold.id)
        .with_for_update()
    ).all()
    for hold in overdue:
        at_pickup = Desk(hold.pickup_point, desk.actor, desk.now)
        title = hold.record.title
        routing = _close(
            session,
            at_pickup,
            hold,
            HoldStatus.EXPIRED,
            LedgerEvent.HOLD_EXPIRED,
            "not collected in time / 逾期未取",
        )
        report.expired.append((hold, routing))
        if hold.patron_id is not None:
            session.add(
                PatronNotice(
                    patron_id=hold.patron_id,
                    kind="hold_expired",
                    created_at=desk.now,
                    message_zh=f"您预约的《{title}》未在保留期内取走，预约已取消。",
                    message_en=f"Your hold '{title}' was not collected in time: cancelled.",
                )
            )
            report.notices += 1
    tree = NetworkTree.load(session)
    stale = session.scalars(
        select(Hold)
        .join(Copy, Copy.id == Hold.copy_id)
        .where(Hold.status == HoldStatus.TARGETED, Copy.status != CopyStatus.AVAILABLE)
        .with_for_update(of=Hold)
    ).all()
    waiting = session.scalars(
        select(Hold).where(Hold.status == HoldStatus.WAITING).order_by(Hold.placed_at, Hold.id)
    ).all()
    for hold in [*stale, *waiting]:
        if target(session, tree, hold) is not None:
            report.retargeted += 1
    return report
