"""Where a copy in hand goes next (分拣): a hold, its floating group, or home.

CHECKIN-2 A copy in hand at point P goes, in this order:
  CHECKIN-2.1 to a hold it can fill (HOLD-4): if the pickup point is P, onto
              P's hold shelf (HOLD-5); otherwise in transit to the pickup point;
  CHECKIN-2.2 P is in the copy's floating group (the subtree of the nearest
              point above its home marked floating): it stays at P;
  CHECKIN-2.3 P is its home point: it stays at P;
  CHECKIN-2.4 otherwise in transit to its home point.
CHECKIN-2.5 A copy arriving at its transit's destination stays there (after a hold
            has had its chance), except a copy sent for a hold that has closed on
            the way: that one is routed as if checked in there.
HOLD-9      A copy promised to a hold that closes (cancelled, expired, filled with
            another copy) is routed again: from the hold shelf as if checked in at
            the pickup point; on a shelf it is offered to the next waiting hold; on
            the road it is routed when it arrives.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from catalog.network import ServicePoint
from catalog.records import Copy, CopyStatus
from circulation.desk import Desk
from circulation.holds import hold_to_trap, make_ready, offer, trap
from circulation.models import Hold, HoldStatus, Transit, TransitReason
from circulation.receipts import Note
from circulation.rotation.batches import received as rotation_received
from circulation.transits import close, send
from circulation.tree import NetworkTree
from circulation.writes import set_copy_state


@dataclass
class Routing:
    action: str  # shelve, hold_shelf, transit
    destination: ServicePoint | None = None
    hold: Hold | None = None
    transit: Transit | None = None
    notes: list[Note] = field(default_factory=list)


def route(
    session: Session,
    desk: Desk,
    tree: NetworkTree,
    copy: Copy,
    *,
    arrived: bool = False,
    title_held: bool = True,
) -> Routing:
    """CHECKIN-2: decide and apply where ``copy`` goes from the desk's point.

    ``title_held=False``: the caller read with the copy's lock that no open hold is on its
    title, so there is none to look for.
    """
    hold = hold_to_trap(session, tree, copy) if title_held else None
    if hold is not None:
        return _to_hold(session, desk, tree, hold, copy)
    here = desk.point.id
    group = tree.floating_group_of(copy.home_point_id)
    floats_here = group is not None and tree.is_within(here, group)
    if arrived or copy.home_point_id == here or floats_here:
        set_copy_state(session, copy, CopyStatus.AVAILABLE, here)
        notes = []
        if floats_here and copy.home_point_id != here:
            notes.append(Note("floating", "floating stock: it stays here", "浮动馆藏：留在本馆"))
        return Routing("shelve", notes=notes)
    home = copy.home_point
    transit = send(session, desk, copy, home, TransitReason.HOME)
    return Routing("transit", destination=home, transit=transit)


def _to_hold(session: Session, desk: Desk, tree: NetworkTree, hold: Hold, copy: Copy) -> Routing:
    released = trap(session, desk, tree, hold, copy)
    notes: list[Note] = []
    if released is not None:
        offer(session, tree, released)
        notes.append(
            Note(
                "other_copy_released",
                f"copy {released.barcode} on the pull list is no longer needed for this hold",
                f"取书单上的 {released.barcode} 不再用于该预约",
            )
        )
    if hold.pickup_point_id == desk.point.id:
        make_ready(session, desk, tree, hold, copy)
        return Routing("hold_shelf", hold=hold, notes=notes)
    transit = send(session, desk, copy, hold.pickup_point, TransitReason.HOLD, hold=hold)
    return Routing(
        "transit", destination=hold.pickup_point, hold=hold, transit=transit, notes=notes
    )


def arrive(
    session: Session, desk: Desk, tree: NetworkTree, copy: Copy, transit: Transit
) -> Routing:
    """TRANSIT-3: a copy scanned at its transit's destination."""
    close(session, desk, transit, "received")
    hold = transit.hold
    if hold is not None and hold.status == HoldStatus.IN_TRANSIT and hold.copy_id == copy.id:
        if hold.pickup_point_id == desk.point.id:
            make_ready(session, desk, tree, hold, copy)
            return Routing("hold_shelf", hold=hold)
        onward = send(session, desk, copy, hold.pickup_point, TransitReason.HOLD, hold=hold)
        return Routing(
            "transit",
            destination=hold.pickup_point,
            hold=hold,
            transit=onward,
            notes=[
                Note("pickup_changed", "the hold's pickup point changed", "该预约已更改取书地点")
            ],
        )
    if transit.reason == TransitReason.ROTATION:  # ROTATION-3, or home-bound after a recall
        return route(
            session, desk, tree, copy, arrived=rotation_received(session, desk, copy, transit)
        )
    return route(session, desk, tree, copy, arrived=transit.reason != TransitReason.HOLD)


def release(
    session: Session, desk: Desk, tree: NetworkTree, copy: Copy, was: str, pickup: ServicePoint
) -> Routing | None:
    """HOLD-9: the copy a closed (or re-queued) hold had promised goes to its next use.

    ``was`` is the hold's status before it closed; the hold row keeps the
    copy's id for history (only open promises are unique).
    """
    if was == HoldStatus.TARGETED:
        offer(session, tree, copy)
        return None
    if was == HoldStatus.READY:
        at_pickup = Desk(pickup, desk.actor, desk.now)
        return route(session, at_pickup, tree, copy)
    return None  # in transit: routed when it arrives (CHECKIN-2.5)
