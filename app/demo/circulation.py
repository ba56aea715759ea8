"""A year of plausible circulation for the demo network, made through the service functions.

Every loan, return, hold, transit and block here goes through circulation/
exactly as a counter would make it (so the ledger, the figures and the
counter pages have something real in them), on a simulated clock that ends
at the moment of loading. Deterministic for a seed: the same events, shifted
to the day the demo is loaded.

What it makes, per open day of each point: readers come (mostly to their own
point, some to the central library or a neighbour), return what is due
(some late, some at another point: 通借通还) and borrow from the shelf there;
village readers place holds on books at the central library and collect them
at their village; the van delivers transits a day or two later; staff pull
the pull list each morning; the daily round expires uncollected holds. A few
readers are blocked by a librarian, a few keep books overdue, two village
bookshops hold collective cards (集体证) with hundreds of books out, and this
spring's rotation batches went out to the points furthest below 0.8 copies per
resident (app/demo/rotation.py).
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.demo.rotation import ROTATION_DAYS_AGO, spring_rotation
from catalog.errors import DomainError
from catalog.network import ServicePoint
from catalog.records import Copy, CopyStatus, Record
from circulation.blocks import block_patron
from circulation.checkin import checkin
from circulation.desk import NETWORK_TIMEZONE, Desk
from circulation.hold_service import daily_round, place_hold
from circulation.loans import checkout
from circulation.models import Hold, HoldStatus
from circulation.patrons import Patron
from circulation.policies import save_rule
from circulation.renewals import renew

DAYS = 365
VISITS_PER_CARD_DAY = 0.005  # a reader comes about four times a year
LATE_SHARE = 0.08  # returned after the due date
ELSEWHERE_SHARE = 0.15  # returned at another point (通借通还)
RENEW_SHARE = 0.12  # renewed once
KEPT_SHARE = 0.01  # still out, long overdue, at the end
HOLDS_PER_DAY = 1.5  # at scale 1
COLLECTIVE_LOANS = 320  # books out on each collective card (a village bookshop's 集体证), scale 1
COLLECTIVE_DAYS_AGO = 60  # this season's boxes went to the villages two months ago
ACTOR = "staff:demo"


@dataclass
class World:
    """The simulation's own view of the shelves, so that choices need no queries."""

    rng: random.Random
    points: dict[str, ServicePoint]
    shelf: dict[str, list[str]]  # point code -> barcodes on the shelf there
    records_at_central: list[int]
    readers: dict[str, list[Patron]]  # home point code -> patrons
    start: dt.datetime
    scale: float
    returns: dict[int, list[tuple[str, str]]] = field(default_factory=lambda: defaultdict(list))
    van: dict[int, list[tuple[str, str]]] = field(default_factory=lambda: defaultdict(list))
    renewals: dict[int, list[tuple[str, str]]] = field(default_factory=lambda: defaultdict(list))
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def desk(self, code: str, day: dt.datetime, minute: int) -> Desk:
        return Desk(self.points[code], ACTOR, day + dt.timedelta(minutes=minute))

    def open_on(self, code: str, day: dt.datetime) -> bool:
        return str(day.astimezone(NETWORK_TIMEZONE).isoweekday()) in self.points[code].opening_days


def simulate_year(
    session: Session, seed: int, end: dt.datetime, scale: float = 1.0
) -> dict[str, int]:
    """Run DAYS days of circulation ending at ``end``; returns what was made."""
    start = end - dt.timedelta(days=DAYS)
    world = _world(session, random.Random(seed), start, scale)
    _rules(session)
    for n in range(DAYS):
        morning = start + dt.timedelta(days=n, hours=1)  # 09:00 in Beijing
        if n == DAYS - COLLECTIVE_DAYS_AGO:
            _collective_cards(session, world, morning)
        if n == DAYS - ROTATION_DAYS_AGO:
            spring_rotation(session, world, n, morning)
        _day(session, world, n, morning)
        session.commit()
    _blocks(session, world, end)
    session.commit()
    return dict(world.counts)


def _world(session: Session, rng: random.Random, start: dt.datetime, scale: float) -> World:
    points = {p.code: p for p in session.scalars(select(ServicePoint))}
    shelf: dict[str, list[str]] = defaultdict(list)
    central_records: set[int] = set()
    codes = {p.id: p.code for p in points.values()}
    for barcode, point_id, record_id, item_type in session.execute(
        select(Copy.barcode, Copy.current_point_id, Copy.record_id, Copy.item_type)
        .where(Copy.status == CopyStatus.AVAILABLE)
        .order_by(Copy.id)
    ):
        if item_type != "reference":
            shelf[codes[point_id]].append(barcode)
        if points[codes[point_id]].kind == "central":
            central_records.add(record_id)
    readers: dict[str, list[Patron]] = defaultdict(list)
    for patron in session.scalars(select(Patron).order_by(Patron.id)):
        readers[codes[patron.home_point_id]].append(patron)
    return World(rng, points, shelf, sorted(central_records), readers, start, scale)


def _rules(session: Session) -> None:
    """The demo network's own rules, as an administrator would set them (POLICY-2)."""
    save_rule(session, {"item_type": "reference", "lendable": False, "note": "工具书不外借"})
    save_rule(session, {"item_type": "periodical", "loan_days": 14, "max_renewals": 0})
    save_rule(session, {"patron_category": "child", "max_loans": 5, "loan_days": 21})
    save_rule(session, {"patron_category": "institution", "max_loans": 600, "loan_days": 180,
                        "overdue_block_items": 0, "note": "农家书屋、学校集体证"})  # fmt: skip


def _collective_cards(session: Session, world: World, start: dt.datetime) -> None:
    """Two village bookshops borrow a few hundred books each from the central library."""
    villages = [c for c, p in world.points.items() if p.kind == "village_bookshop"][:2]
    for n, code in enumerate(villages):
        card = Patron(card=f"29{n:08d}", name=f"{world.points[code].name}（集体证）",
                      category="institution", home_point=world.points[code])  # fmt: skip
        session.add(card)
        session.flush()
        desk = world.desk("QX", start, 30 + n)
        for _ in range(max(5, int(COLLECTIVE_LOANS * world.scale))):
            if world.shelf["QX"]:
                _lend(session, world, desk, card.card, world.shelf["QX"].pop(), plan=False)


def _day(session: Session, world: World, n: int, morning: dt.datetime) -> None:
    for code, barcode in world.van.pop(n, []):  # the van, a day or two after sending
        _return(session, world, world.desk(code, morning, 0), barcode)
    for code, barcode in world.renewals.pop(n, []):
        try:
            renew(session, world.desk(code, morning, 3), barcode)
            world.counts["renewals"] += 1
        except DomainError:
            world.counts["refused renewals"] += 1
    for code, barcode in world.returns.pop(n, []):
        if world.open_on(code, morning):
            _return(session, world, world.desk(code, morning, 5), barcode)
        else:
            world.returns[n + 1].append((code, barcode))
    for code, barcode in _pull_lists(session, world):  # staff take the pull list round
        if world.open_on(code, morning):
            _return(session, world, world.desk(code, morning, 10), barcode)
    _collect_holds(session, world, morning)
    _place_holds(session, world, morning)
    for code, readers in world.readers.items():
        if not readers or not world.open_on(code, morning):
            continue
        visits = world.rng.random() * len(readers) * VISITS_PER_CARD_DAY * 2
        for minute in range(int(visits) + (world.rng.random() < visits % 1)):
            _visit(session, world, world.rng.choice(readers), code, morning, 20 + minute)
    daily_round(session, world.desk("QX", morning, 600))


def _visit(
    session: Session, world: World, patron: Patron, home: str, morning: dt.datetime, minute: int
) -> None:
    """A reader at a point: usually their own, sometimes the central library or a neighbour."""
    code = home
    roll = world.rng.random()
    if roll < 0.15 and world.open_on("QX", morning):
        code = "QX"
    elif roll < 0.22:
        parent = world.points[home].parent
        if parent is not None and world.open_on(parent.code, morning):
            code = parent.code
    desk = world.desk(code, morning, minute)
    for _ in range(world.rng.choice((1, 1, 2, 2, 3))):
        if world.shelf[code]:
            shelf = world.shelf[code]
            barcode = shelf.pop(world.rng.randrange(len(shelf)))
            if not _lend(session, world, desk, patron.card, barcode):
                shelf.append(barcode)


def _lend(
    session: Session, world: World, desk: Desk, card: str, barcode: str, plan: bool = True
) -> bool:
    try:
        receipt = checkout(session, desk, card, barcode)
    except DomainError:
        world.counts["refused checkouts"] += 1
        return False
    world.counts["loans"] += 1
    if not plan:
        return True
    rng = world.rng
    roll = rng.random()
    if roll < KEPT_SHARE:
        return True  # never comes back in the year: long overdue at the end
    due = receipt.loan.due_date
    day = desk.now.astimezone(NETWORK_TIMEZONE).date()
    back = (due - day).days - rng.randint(0, 20)
    if rng.random() < RENEW_SHARE:  # renewed a few days before it was due
        world.renewals[_day_index(world, desk) + max(1, (due - day).days - 3)].append(
            (desk.point.code, barcode)
        )
        back += 25
    if roll < KEPT_SHARE + LATE_SHARE:
        back = (due - day).days + rng.randint(1, 40)
    back = max(1, back)
    where = desk.point.code
    if rng.random() < ELSEWHERE_SHARE:
        where = rng.choice([c for c, p in world.points.items() if p.kind != "bookmobile"])
    start = _day_index(world, desk)
    world.returns[start + back].append((where, barcode))
    return True


def _day_index(world: World, desk: Desk) -> int:
    """Days since the simulation began."""
    return (desk.now - world.start).days


def _return(session: Session, world: World, desk: Desk, barcode: str) -> None:
    try:
        receipt = checkin(session, desk, barcode)
    except DomainError:
        world.counts["refused returns"] += 1
        return
    if receipt.loan is not None:
        world.counts["returns"] += 1
    if receipt.action == "shelve":
        world.shelf[desk.point.code].append(barcode)
    elif receipt.action == "transit" and receipt.destination is not None:
        world.counts["transits"] += 1
        world.van[_day_index(world, desk) + world.rng.choice((1, 2, 2, 3))].append(
            (receipt.destination.code, barcode)
        )


def _place_holds(session: Session, world: World, morning: dt.datetime) -> None:
    """Village readers ask for books the central library has, to collect at their village."""
    villages = [c for c, p in world.points.items() if p.kind == "village_bookshop"]
    per_day = HOLDS_PER_DAY * world.scale
    for minute in range(int(per_day) + (world.rng.random() < per_day % 1)):
        code = world.rng.choice(villages)
        if not world.readers.get(code) or not world.records_at_central:
            continue
        patron = world.rng.choice(world.readers[code])
        record_id = world.rng.choice(world.records_at_central)
        desk = world.desk(code, morning, 30 + minute)
        record = session.get(Record, record_id)
        assert record is not None
        try:
            place_hold(session, desk, patron, record, world.points[code])
            world.counts["holds"] += 1
        except DomainError:
            world.counts["refused holds"] += 1


def _pull_lists(session: Session, world: World) -> list[tuple[str, str]]:
    """(point code, barcode) of every copy on a shelf that a hold is waiting for (HOLD-11)."""
    codes = {p.id: c for c, p in world.points.items()}
    targeted = select(Hold.copy_id).where(Hold.status == HoldStatus.TARGETED)
    rows = session.execute(
        select(Copy.current_point_id, Copy.barcode)
        .where(Copy.id.in_(targeted), Copy.status == CopyStatus.AVAILABLE)
        .order_by(Copy.id)
    )
    return [(codes[point_id], barcode) for point_id, barcode in rows]


def _collect_holds(session: Session, world: World, morning: dt.datetime) -> None:
    """Most readers collect a ready hold within a few days; some never come (it expires)."""
    ready = session.scalars(
        select(Hold).where(Hold.status == HoldStatus.READY).order_by(Hold.id)
    ).all()
    for hold in ready:
        code = hold.pickup_point.code
        if hold.patron is None or hold.copy is None or not world.open_on(code, morning):
            continue
        if world.rng.random() < 0.35 * 0.9:  # comes today (and nine in ten come at all)
            _lend(session, world, world.desk(code, morning, 40), hold.patron.card,
                  hold.copy.barcode)  # fmt: skip


def _blocks(session: Session, world: World, end: dt.datetime) -> None:
    """A few readers blocked by a librarian, with the reasons a librarian gives."""
    reasons = ("损坏图书未赔偿", "借书证转借他人", "多次逾期未还，待联系")
    everyone = [p for readers in world.readers.values() for p in readers]
    for n, reason in enumerate(reasons):
        patron = everyone[(n * 397) % len(everyone)]
        block_patron(session, world.desk(patron.home_point.code, end, -60 + n), patron, reason)
        world.counts["blocks"] += 1
