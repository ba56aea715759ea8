"""Every figure of docs/figures.md for any period and any unit: point, branch group, region.

FIG-2 A unit is a set of points: one point; a branch group (a branch and every point
under it, and the central library with the points under it that are under no branch);
a region (the points whose region code falls in it, at township level: a village's
12-digit code counts for its 9-digit township); the whole network. A unit's population
is the sum of its points' (each point counts the residents it serves directly).
FIG-3 Loans, renewals and returns are counted by the point where they happened
(the default), by the copy's home point, or by the patron's home point, as asked; the
loans of a unit's own copies (by copy's home, wherever lent) are always given too.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import asdict, dataclass, field

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from catalog.network import PointKind
from circulation.figures.aggregates import THROUGH_EVENTS, CirculationDay
from circulation.figures.holdings import (
    added_by_point,
    changes_since,
    end_of,
    held_by_point,
    titles_by_point,
)
from circulation.patrons import Patron, PatronStatus
from circulation.policies import resolve
from circulation.tree import NetworkTree, TreePoint

TARGET_PER_CAPITA = 0.8  # 人均藏书 target of the assessment
BASELINE_VOLUMES = 1500  # 农家书屋: at least 1,500 volumes
BASELINE_TITLES = 500  # of at least 500 titles
ATTRIBUTIONS = ("point", "copy_home", "patron_home")
BY = ("point", "branch", "region", "network")


@dataclass
class Figures:
    """One row of figures for one unit and period (the columns of the export)."""

    code: str
    name: str
    unit: str  # point kind, "branch_group", "region" or "network"
    population: int = 0
    copies_held: int = 0
    holdings_per_capita: float | None = None
    copies_added: int = 0
    new_per_capita: float | None = None
    checkouts: int = 0
    renewals: int = 0
    loans: int = 0
    returns: int = 0
    own_copies_loans: int = 0
    lendable_copies: int = 0
    turnover: float | None = None
    registered_patrons: int = 0
    through_events: int = 0
    all_events: int = 0
    through_share: float | None = None
    village_bookshops: int = 0
    bookshops_meeting_baseline: int = 0
    titles: int | None = None
    meets_baseline: bool | None = None
    point_ids: list[int] = field(default_factory=list, repr=False)

    def as_dict(self) -> dict[str, object]:
        out = asdict(self)
        out.pop("point_ids")
        return out


def _ratio(numerator: int, denominator: int, places: int = 3) -> float | None:
    return round(numerator / denominator, places) if denominator > 0 else None


def units(tree: NetworkTree, by: str) -> list[Figures]:
    """FIG-2: the units of a table, each with its points (empty figures to fill)."""
    points = sorted(tree.points.values(), key=lambda p: p.code)
    if by == "point":
        return [Figures(p.code, p.name, p.kind, point_ids=[p.id]) for p in points]
    if by == "network":
        root = tree.root()
        name = root.name if root else "network"
        return [Figures("network", name, "network", point_ids=[p.id for p in points])]
    groups: dict[str, list[TreePoint]] = defaultdict(list)
    for p in points:
        groups[_group_code(tree, p) if by == "branch" else _township(p.region_code)].append(p)
    out = []
    for code, members in sorted(groups.items()):
        lead = tree.by_code(code) if by == "branch" else None
        name = lead.name if lead is not None else code
        out.append(Figures(code, name, "branch_group" if by == "branch" else "region",
                           point_ids=[p.id for p in members]))  # fmt: skip
    return out


def _group_code(tree: NetworkTree, point: TreePoint) -> str:
    lineage = [tree[i] for i in tree.lineage(point.id)]
    lead = next((p for p in lineage if p.kind == PointKind.BRANCH), None)
    lead = lead or next((p for p in lineage if p.kind == PointKind.CENTRAL), lineage[-1])
    return lead.code


def _township(region: str) -> str:
    return region[:9] if len(region) > 9 else (region or "-")


def compute(
    session: Session,
    start: dt.date,
    end: dt.date,
    by: str = "point",
    attribution: str = "point",
    within: int | None = None,
) -> list[Figures]:
    """The figures of every unit for [start, end]; ``within`` keeps points under one point."""
    return compute_many(session, start, end, (by,), attribution, within)[by]


def compute_many(
    session: Session,
    start: dt.date,
    end: dt.date,
    bys: Collection[str],
    attribution: str = "point",
    within: int | None = None,
) -> dict[str, list[Figures]]:
    """Several tables of one period at once: the counts per point are read once."""
    tree = NetworkTree.load(session)
    keep = {p for p in tree.points if within is None or tree.is_within(p, within)}
    per_point = _per_point(session, tree, start, end, attribution)
    tables: dict[str, list[Figures]] = {}
    for by in bys:
        rows = [r for r in units(tree, by) if set(r.point_ids) <= keep]
        for row in rows:
            _fill(row, tree, per_point)
        tables[by] = rows
    return tables


def _per_point(
    session: Session, tree: NetworkTree, start: dt.date, end: dt.date, attribution: str
) -> dict[str, dict[int, int]]:
    """Each basic count per point; units add them up."""
    changes = changes_since(session, end)  # found once, used by each holdings count
    held = held_by_point(session, end, changes)
    root = tree.root()
    villages = [p.id for p in tree.points.values() if p.kind == PointKind.VILLAGE_BOOKSHOP]
    lendable_types = {
        t for by_type in held.values() for t in by_type
        if root is None or resolve(tree, root.id, None, t).lendable
    }  # fmt: skip
    out: dict[str, dict[int, int]] = {
        "population": {p.id: p.population for p in tree.points.values()},
        "copies_held": {pid: sum(v.values()) for pid, v in held.items()},
        "lendable_copies": {
            pid: sum(n for t, n in v.items() if t in lendable_types) for pid, v in held.items()
        },
        "copies_added": added_by_point(session, start, end, changes),
        "titles": titles_by_point(session, end, villages, changes),
        "registered_patrons": _patrons(session, end),
    }
    out.update(_circulation(session, start, end, attribution))
    return out


def _circulation(
    session: Session, start: dt.date, end: dt.date, attribution: str
) -> dict[str, dict[int, int]]:
    """Loans, renewals, returns by ``attribution``; own copies' loans; 通借通还 (one scan)."""
    out: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    names = {"checkout": "checkouts", "renew": "renewals", "checkin": "returns"}
    for dimension, event, point_id, n in session.execute(
        select(CirculationDay.dimension, CirculationDay.event, CirculationDay.point_id,
               func.sum(CirculationDay.count))
        .where(CirculationDay.day >= start, CirculationDay.day <= end,
               CirculationDay.dimension.in_({attribution, "copy_home", "point", "through"}))
        .group_by(CirculationDay.dimension, CirculationDay.event, CirculationDay.point_id)
    ):  # fmt: skip
        n = int(n)
        if dimension == attribution:
            out[names[event]][point_id] += n
        if dimension == "copy_home" and event != "checkin":
            out["own_copies_loans"][point_id] += n
        if dimension == "point" and event in THROUGH_EVENTS:
            out["all_events"][point_id] += n
        if dimension == "through":
            out["through_events"][point_id] += n
    return {k: dict(v) for k, v in out.items()}


def _patrons(session: Session, end: dt.date) -> dict[int, int]:
    """FIG-8: valid cards (active, not expired) made by the end of the period."""
    return {
        home: int(n)
        for home, n in session.execute(
            select(Patron.home_point_id, func.count(Patron.id))
            .where(
                Patron.status == PatronStatus.ACTIVE,
                Patron.created_at < end_of(end),
                or_(Patron.expires_on.is_(None), Patron.expires_on >= end),
            )
            .group_by(Patron.home_point_id)
        )
    }


def _fill(row: Figures, tree: NetworkTree, per_point: dict[str, dict[int, int]]) -> None:
    def total(name: str, ids: Iterable[int] = row.point_ids) -> int:
        values = per_point.get(name, {})
        return sum(values.get(i, 0) for i in ids)

    for name in ("population", "copies_held", "copies_added", "checkouts", "renewals", "returns",
                 "own_copies_loans", "lendable_copies", "registered_patrons", "through_events",
                 "all_events"):  # fmt: skip
        setattr(row, name, total(name))
    row.loans = row.checkouts + row.renewals
    row.holdings_per_capita = _ratio(row.copies_held, row.population)
    row.new_per_capita = _ratio(row.copies_added, row.population, 4)
    row.turnover = _ratio(row.loans, row.lendable_copies)
    row.through_share = _ratio(row.through_events, row.all_events)
    villages = [i for i in row.point_ids if tree[i].kind == PointKind.VILLAGE_BOOKSHOP]
    row.village_bookshops = len(villages)
    row.bookshops_meeting_baseline = sum(
        total("copies_held", [i]) >= BASELINE_VOLUMES and total("titles", [i]) >= BASELINE_TITLES
        for i in villages
    )
    if row.unit == PointKind.VILLAGE_BOOKSHOP:
        row.titles = total("titles")
        row.meets_baseline = row.bookshops_meeting_baseline == 1
