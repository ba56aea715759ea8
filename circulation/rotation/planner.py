"""The rotation planner (流转方案): which idle copies would lift which points to the target.

PLAN-1 Destinations are points below the holdings-per-capita target (0.8), and points
       where readers wait for holds no copy can fill; the furthest below come first.
       Each needs enough copies to reach the target (its deficit), at most 300 in one
       plan (a van load).
PLAN-2 Sources are points above the target, which give at most their surplus, and the
       central library, the network's reserve, which gives what sits idle on its shelves
       (and is never a destination); only idle copies (FIG-11) on their own shelf, not
       already in an open batch, the longest idle first.
PLAN-3 Subject mix: a destination's copies are shared out over the Chinese Library
       Classification's top classes in the proportions the network's readers borrowed
       them in the last year (classes nobody borrowed still get a share of what is left).
PLAN-4 Titles: a destination gets at most one copy of a title, never a title it holds
       already, so a village bookshop's title count grows with its volumes (500 titles).
PLAN-5 Each proposal says what it changes: the destination's and the sources' copies,
       per capita and titles, before and after.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from catalog.network import PointKind
from catalog.records import Copy, CopyStatus, Record
from circulation.figures.compute import TARGET_PER_CAPITA
from circulation.figures.holdings import held_by_point, titles_by_point
from circulation.models import Hold, HoldStatus, Loan
from circulation.rotation.models import OPEN_BATCH, RotationBatch, RotationCopy
from circulation.tree import NetworkTree

MAX_PER_DESTINATION = 300  # a van load: one season's batch for one point
OTHER_CLASS = "?"


@dataclass(frozen=True)
class Line:
    copy_id: int
    barcode: str
    title: str
    call_number: str
    top_class: str
    from_id: int


@dataclass
class Proposal:
    """What to send one destination, and what it changes (PLAN-5)."""

    to_id: int
    deficit: int
    waiting_holds: int
    held_before: int
    titles_before: int
    population: int
    lines: list[Line] = field(default_factory=list)

    @property
    def held_after(self) -> int:
        return self.held_before + len(self.lines)

    @property
    def titles_after(self) -> int:
        return self.titles_before + len(self.lines)  # PLAN-4: each line is a new title

    def per_capita(self, held: int) -> float | None:
        return round(held / self.population, 3) if self.population else None


@dataclass
class Plan:
    proposals: list[Proposal]
    given: dict[int, int]  # source point id -> copies it gives
    held: dict[int, int]  # point id -> copies held now


def _top(clc: str | None) -> str:
    clc = (clc or "").strip().upper()
    if clc.startswith("T") and len(clc) > 1 and clc[1].isalpha():
        return clc[:2]
    return clc[:1] if clc[:1].isalpha() else OTHER_CLASS


def borrowed_mix(session: Session, today: dt.date) -> dict[str, float]:
    """PLAN-3: each top class's share of the last year's loans in the network."""
    since = dt.datetime.combine(today - dt.timedelta(days=365), dt.time(), tzinfo=dt.UTC)
    counts: Counter[str] = Counter()
    for clc, n in session.execute(
        select(Record.clc, func.count())
        .join(Copy, Copy.record_id == Record.id)
        .join(Loan, Loan.copy_id == Copy.id)
        .where(Loan.checked_out_at >= since)
        .group_by(Record.clc)
    ):  # counted by the database: a year's loans are hundreds of thousands of rows
        counts[_top(clc)] += int(n)
    total = sum(counts.values())
    return {cls: n / total for cls, n in counts.items()} if total else {}


def plan(
    session: Session, today: dt.date, months: int = 12, target: float = TARGET_PER_CAPITA
) -> Plan:
    tree = NetworkTree.load(session)
    held = {pid: sum(v.values()) for pid, v in held_by_point(session, today).items()}
    titles = titles_by_point(session, today, list(tree.points))
    waiting = Counter(
        pid for pid, in session.execute(
            select(Hold.pickup_point_id).where(Hold.status == HoldStatus.WAITING))
    )  # fmt: skip
    proposals: list[Proposal] = []
    surplus: dict[int, int] = {}
    for point in tree.points.values():
        need = math.ceil(target * point.population) - held.get(point.id, 0)
        if point.kind == PointKind.CENTRAL:  # the network's reserve: gives what sits idle
            surplus[point.id] = held.get(point.id, 0)
        elif point.population and (need > 0 or waiting[point.id]):
            proposals.append(Proposal(point.id, max(need, 0), waiting[point.id],
                                      held.get(point.id, 0), titles.get(point.id, 0),
                                      point.population))  # fmt: skip
        elif point.population and need < 0:
            surplus[point.id] = -need
    proposals.sort(key=lambda p: (-(p.deficit / p.population), -p.waiting_holds))
    demand = sum(min(max(p.deficit, p.waiting_holds), MAX_PER_DESTINATION) for p in proposals)
    pool = _idle_copies(session, today, months, set(surplus), limit=demand * 4 + 100)
    mix = borrowed_mix(session, today)
    given: Counter[int] = Counter()
    taken: set[int] = set()
    for proposal in proposals:
        wanted = min(max(proposal.deficit, proposal.waiting_holds), MAX_PER_DESTINATION)
        _fill(proposal, wanted, _Stock(pool, surplus, given, taken,
                                       _records_at(session, proposal.to_id)), mix)  # fmt: skip
    return Plan([p for p in proposals if p.lines or p.deficit], dict(given), held)


@dataclass
class _Stock:
    """What is left to give while one destination's list is drawn up."""

    pool: dict[str, list[tuple[int, Line]]]
    surplus: dict[int, int]
    given: Counter[int]
    taken: set[int]
    have: set[int]  # records the destination holds already (PLAN-4)

    def take(self, proposal: Proposal, line: tuple[int, Line]) -> bool:
        record_id, ln = line
        if ln.copy_id in self.taken or record_id in self.have:
            return False
        if self.given[ln.from_id] >= self.surplus[ln.from_id]:
            return False
        proposal.lines.append(ln)
        self.taken.add(ln.copy_id)
        self.have.add(record_id)
        self.given[ln.from_id] += 1
        return True


def _fill(proposal: Proposal, wanted: int, stock: _Stock, mix: dict[str, float]) -> None:
    quota = _quotas(mix, wanted, set(stock.pool))
    for cls in sorted(quota, key=lambda c: -quota[c]):
        for line in stock.pool.get(cls, []):
            if quota[cls] <= 0 or len(proposal.lines) >= wanted:
                break
            if stock.take(proposal, line):
                quota[cls] -= 1
    # A class that could not fill its share leaves the rest to the others in turn.
    queues = [iter(stock.pool[c]) for c in sorted(stock.pool, key=lambda c: -mix.get(c, 0.0))]
    while queues and len(proposal.lines) < wanted:
        for queue in list(queues):
            if len(proposal.lines) >= wanted:
                break
            if not any(stock.take(proposal, line) for line in queue):
                queues.remove(queue)


def _quotas(mix: dict[str, float], wanted: int, classes: set[str]) -> dict[str, int]:
    """PLAN-3: ``wanted`` shared out by the borrowed mix, the rest evenly over other classes."""
    shares = {c: mix.get(c, 0.0) for c in classes}
    total = sum(shares.values())
    quota = {c: math.floor(wanted * s / total) for c, s in shares.items()} if total else {}
    rest = wanted - sum(quota.values())
    for cls in sorted(classes, key=lambda c: -shares.get(c, 0.0)):
        if rest <= 0:
            break
        quota[cls] = quota.get(cls, 0) + 1
        rest -= 1
    if rest > 0 and classes:  # few classes: let the biggest take the remainder
        biggest = max(classes, key=lambda c: shares.get(c, 0.0))
        quota[biggest] = quota.get(biggest, 0) + rest
    return quota


def _records_at(session: Session, point_id: int) -> set[int]:
    return set(
        session.scalars(
            select(Copy.record_id).where(
                Copy.home_point_id == point_id,
                Copy.status.not_in((CopyStatus.WITHDRAWN, CopyStatus.LOST)),
            )
        )
    )


def _idle_copies(
    session: Session, today: dt.date, months: int, sources: set[int], limit: int
) -> dict[str, list[tuple[int, Line]]]:
    """PLAN-2: idle copies on their own shelf at the sources, by top class, oldest loan first."""
    if not sources:
        return {}
    cutoff = today - dt.timedelta(days=round(months * 30.44))
    in_batch = (
        select(RotationCopy.copy_id)
        .join(RotationBatch, RotationBatch.id == RotationCopy.batch_id)
        .where(RotationBatch.status.in_(OPEN_BATCH))
    )
    rows = session.execute(
        select(Copy.id, Copy.barcode, Copy.call_number, Copy.home_point_id, Copy.record_id,
               Record.title, Record.clc)
        .join(Record, Record.id == Copy.record_id)
        .where(Copy.home_point_id.in_(sources), Copy.current_point_id == Copy.home_point_id,
               Copy.status == CopyStatus.AVAILABLE, Copy.date_added < cutoff,
               or_(Copy.last_lent_on.is_(None), Copy.last_lent_on < cutoff),
               Copy.id.not_in(in_batch))
        .order_by(Copy.last_lent_on.is_not(None), Copy.last_lent_on, Copy.id)
        .limit(limit)
    )  # fmt: skip
    pool: dict[str, list[tuple[int, Line]]] = defaultdict(list)
    for r in rows:
        cls = _top(r.clc)
        pool[cls].append((r.record_id, Line(r.id, r.barcode, r.title, r.call_number, cls,
                                            r.home_point_id)))  # fmt: skip
    return dict(pool)
