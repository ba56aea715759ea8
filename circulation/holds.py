"""The hold queue (预约队列): which copy a hold gets, which hold a returned copy fills.

HOLD-2 A copy is promised to one hold at most (the database refuses a second).
HOLD-3 A new hold, or one whose copy went elsewhere, is given the nearest copy on a
       shelf by the network tree: at the pickup point, then in the pickup point's
       branch group, then at the central library, then anywhere; among equals a
       copy at its own home point first, then the oldest copy. The hold is then
       *targeted*: the copy is on the pull list (取书单) of the point where it stands.
HOLD-4 A copy in hand at a check-in fills, in this order: the hold it was pulled
       for; else the oldest open hold on the title not yet trapped (a targeted
       hold so filled lets its other copy go to the next hold).
HOLD-5 A trapped copy at its pickup point goes on the hold shelf until the
       rule's ``hold_shelf_days`` later (moved past closed days); the patron
       gets a notice. Elsewhere it goes in transit to the pickup point.
Row locks: the holds and copies a decision reads are locked (FOR UPDATE on
PostgreSQL; SQLite lets one writer at a time), so two desks never promise
one copy twice or fill one hold twice.

HOLD-6 Queue position: 1 + the open holds on the title placed before it and not
       yet on a hold shelf.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session, joinedload

from catalog.callnumber import call_number_sort_key
from catalog.records import Copy, CopyStatus
from circulation.desk import Desk, Place
from circulation.ledger import LedgerEvent, append
from circulation.models import OPEN_HOLD, PROMISED, Hold, HoldStatus, PatronNotice
from circulation.patrons import Patron
from circulation.policies import due_date, resolve
from circulation.tree import NetworkTree
from circulation.writes import mark_promised, set_copy_state

NOT_TRAPPED = (HoldStatus.WAITING, HoldStatus.TARGETED)
_HOLDS_NOT_TRAPPED = (
    select(Hold)
    .where(Hold.record_id == bindparam("record_id"), Hold.status.in_(NOT_TRAPPED))
    .order_by(Hold.placed_at, Hold.id)
    .with_for_update()
)


def lendable_for(tree: NetworkTree, hold: Hold, item_type: str, cache: dict[str, bool]) -> bool:
    """Whether a copy of ``item_type`` may be lent to the hold's patron at its pickup point."""
    if item_type not in cache:
        category = hold.patron.category if hold.patron else None
        cache[item_type] = resolve(tree, hold.pickup_point_id, category, item_type).lendable
    return cache[item_type]


def target(session: Session, tree: NetworkTree, hold: Hold) -> Copy | None:
    """HOLD-3: promise the hold the nearest copy on a shelf; None (and waiting) if there is none."""
    promised = select(Hold.copy_id).where(
        Hold.record_id == hold.record_id, Hold.status.in_(PROMISED), Hold.copy_id.is_not(None)
    )
    rows = session.execute(
        select(Copy.id, Copy.current_point_id, Copy.home_point_id, Copy.item_type).where(
            Copy.record_id == hold.record_id,
            Copy.status == CopyStatus.AVAILABLE,
            Copy.id.not_in(promised),
        )
    ).all()
    lendable: dict[str, bool] = {}
    ranked = sorted(
        (r for r in rows if lendable_for(tree, hold, r.item_type, lendable)),
        key=lambda r: (
            tree.nearness(r.current_point_id, hold.pickup_point_id),
            r.current_point_id != r.home_point_id,
            r.id,
        ),
    )
    for row in ranked:
        copy = session.scalar(
            select(Copy)
            .where(Copy.id == row.id, Copy.status == CopyStatus.AVAILABLE)
            .with_for_update(skip_locked=True)
        )
        if copy is None:  # lent or promised at this moment by another desk
            continue
        mark_promised(session, copy)
        hold.status, hold.copy = HoldStatus.TARGETED, copy
        session.flush()
        return copy
    hold.status, hold.copy = HoldStatus.WAITING, None
    session.flush()
    return None


def offer(session: Session, tree: NetworkTree, copy: Copy) -> Hold | None:
    """A copy came free on a shelf: target it for the oldest waiting hold it can fill."""
    holds = session.scalars(
        select(Hold)
        .where(Hold.record_id == copy.record_id, Hold.status == HoldStatus.WAITING)
        .order_by(Hold.placed_at, Hold.id)
        .with_for_update()
    ).all()
    for hold in holds:
        if lendable_for(tree, hold, copy.item_type, {}):
            hold.status, hold.copy = HoldStatus.TARGETED, copy
            session.flush()
            return hold
    return None


def hold_to_trap(session: Session, tree: NetworkTree, copy: Copy) -> Hold | None:
    """HOLD-4: the hold a copy in hand fills, locked so no other desk traps it too."""
    holds = session.scalars(_HOLDS_NOT_TRAPPED, {"record_id": copy.record_id}).all()
    pulled = next((h for h in holds if h.copy_id == copy.id), None)
    if pulled is not None:  # a hold targets only copies of its own title
        return pulled
    lendable: dict[str, bool] = {}
    return next((h for h in holds if lendable_for(tree, h, copy.item_type, lendable)), None)


def trap(session: Session, desk: Desk, tree: NetworkTree, hold: Hold, copy: Copy) -> Copy | None:
    """Promise ``copy`` to ``hold``; returns the other copy the hold let go (HOLD-4), if any."""
    released = None
    if hold.status == HoldStatus.TARGETED and hold.copy_id not in (None, copy.id):
        released = session.get(Copy, hold.copy_id)
    hold.copy, hold.trapped_at = copy, desk.now
    hold.status = HoldStatus.IN_TRANSIT
    session.flush()
    append(
        session,
        LedgerEvent.HOLD_TRAPPED,
        point_id=desk.point.id,
        actor=desk.actor,
        copy_id=copy.id,
        copy_home_point_id=copy.home_point_id,
        patron_id=hold.patron_id,
        patron_home_point_id=hold.patron.home_point_id if hold.patron else None,
        details={"hold_id": hold.id, "pickup": hold.pickup_point.code},
        at=desk.now,
    )
    return released


def make_ready(session: Session, desk: Desk, tree: NetworkTree, hold: Hold, copy: Copy) -> None:
    """HOLD-5: on the pickup point's hold shelf until the rule's day, and tell the patron."""
    pickup = hold.pickup_point
    category = hold.patron.category if hold.patron else None
    days = resolve(tree, pickup.id, category, copy.item_type).hold_shelf_days
    hold.status, hold.ready_at = HoldStatus.READY, desk.now
    hold.shelf_until = due_date(tree, pickup.id, desk.today, days)
    set_copy_state(session, copy, CopyStatus.ON_HOLD_SHELF, pickup.id)
    if hold.patron is not None:
        until = hold.shelf_until.isoformat()
        title = copy.record.title
        session.add(
            PatronNotice(
                patron_id=hold.patron.id,
                kind="hold_ready",
                created_at=desk.now,
                message_zh=f"您预约的《{title}》已到{pickup.name}，请于 {until} 前取书。",
                message_en=f"Your hold '{title}' is ready at {pickup.name}; collect it by {until}.",
            )
        )
    session.flush()


def queue_position(session: Session, hold: Hold) -> int | None:
    """HOLD-6: 1-based place in the title's queue; None once on a hold shelf or closed."""
    if hold.status not in (HoldStatus.WAITING, HoldStatus.TARGETED, HoldStatus.IN_TRANSIT):
        return None
    ahead = session.scalar(
        select(func.count(Hold.id)).where(
            Hold.record_id == hold.record_id,
            Hold.status.in_((HoldStatus.WAITING, HoldStatus.TARGETED, HoldStatus.IN_TRANSIT)),
            (Hold.placed_at < hold.placed_at)
            | ((Hold.placed_at == hold.placed_at) & (Hold.id < hold.id)),
        )
    )
    return int(ahead or 0) + 1


def open_holds_of(session: Session, patron: Patron) -> list[Hold]:
    return list(
        session.scalars(
            select(Hold)
            .where(Hold.patron_id == patron.id, Hold.status.in_(OPEN_HOLD))
            .options(joinedload(Hold.record), joinedload(Hold.pickup_point))
            .order_by(Hold.placed_at)
        )
    )


@dataclass(frozen=True)
class PullLine:
    """One copy to take off the shelf for a hold (取书单)."""

    hold_id: int
    barcode: str
    call_number: str
    title: str
    pickup_code: str
    pickup_name: str
    placed_at: object


def pull_list(session: Session, point: Place) -> list[PullLine]:
    """Copies on this point's shelves promised to holds, in shelf order (call number)."""
    rows = (
        session.execute(
            select(Hold, Copy)
            .join(Copy, Copy.id == Hold.copy_id)
            .where(
                Hold.status == HoldStatus.TARGETED,
                Copy.current_point_id == point.id,
                Copy.status == CopyStatus.AVAILABLE,
            )
            .options(joinedload(Hold.pickup_point), joinedload(Copy.record))
        )
        .unique()
        .all()
    )
    lines = [
        PullLine(
            h.id,
            c.barcode,
            c.call_number,
            c.record.title,
            h.pickup_point.code,
            h.pickup_point.name,
            h.placed_at,
        )
        for h, c in rows
    ]
    return sorted(lines, key=lambda ln: call_number_sort_key(ln.call_number))


def hold_shelf(session: Session, point: Place) -> list[Hold]:
    """Holds waiting on this point's hold shelf, soonest to expire first."""
    return list(
        session.scalars(
            select(Hold)
            .where(Hold.pickup_point_id == point.id, Hold.status == HoldStatus.READY)
            .options(joinedload(Hold.patron), joinedload(Hold.copy).joinedload(Copy.record))
            .order_by(Hold.shelf_until, Hold.id)
        )
    )
