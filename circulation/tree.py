"""The network tree as circulation sees it: ancestors, branch groups, floating groups, nearness.

Every circulation action needs the tree, each point's opening days and closed
dates, and the circulation rules (流通规则). All of them change rarely, so they
are read together and kept in memory per database: a transaction asks one
small question first (how many points, rules and closed dates there are, and
when each last changed; an API call asks it inside its token's query) and
reads them again only when the answer changed;
within the transaction the answer is reused until something it covers is
changed in the session. Every rule that asks "is P under Q?", "how near is P
to Q?", "is P open that day?" or "which rule applies?" then answers from memory.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, Select, bindparam, event, func, select
from sqlalchemy.orm import Session

from catalog.network import ClosedDay, PointKind, ServicePoint
from circulation.models import Policy


@dataclass(frozen=True)
class TreePoint:
    """A service point without its session: what circulation needs to know about it."""

    id: int
    code: str
    name: str
    kind: str
    parent_id: int | None
    floating: bool
    opening_days: str
    population: int
    region_code: str
    closed: frozenset[dt.date] = frozenset()

    def is_open_on(self, day: dt.date) -> bool:
        return str(day.isoweekday()) in self.opening_days and day not in self.closed


@dataclass(frozen=True)
class Rule:
    """A circulation rule as read from ``circulation_policies``, detached from any session."""

    id: int
    point_id: int | None
    patron_category: str | None
    item_type: str | None
    loan_days: int | None
    max_renewals: int | None
    max_loans: int | None
    max_holds: int | None
    hold_shelf_days: int | None
    fine_per_day: Decimal | None
    fine_cap: Decimal | None
    overdue_block_items: int | None
    fine_block_amount: Decimal | None
    lendable: bool | None


_RULE_COLUMNS = [getattr(Policy, f.name) for f in fields(Rule)]
_TREE_COLUMNS = [getattr(ServicePoint, f.name) for f in fields(TreePoint) if f.name != "closed"]
_VERSION_COLUMNS = (
    select(func.count(ServicePoint.id)).scalar_subquery(),
    select(func.max(ServicePoint.updated_at)).scalar_subquery(),
    select(func.count(Policy.id)).scalar_subquery(),
    select(func.max(Policy.updated_at)).scalar_subquery(),
    # Only the days the tree holds (from a week ago on), by the index on day: the calendar
    # grows every year, and counting all of it at every checkout grew with it (6.5 ms on
    # PostgreSQL at 108,000 days). max(id) sees any day added; the count, one taken away.
    select(func.count(ClosedDay.id)).where(ClosedDay.day >= bindparam("since")).scalar_subquery(),
    select(func.max(ClosedDay.id)).scalar_subquery(),
)
_VERSION = select(*_VERSION_COLUMNS)
_CLOSED_FROM = dt.timedelta(days=7)  # due dates and shelf dates lie ahead: older days are skipped
_CACHE: dict[str, tuple[tuple[Any, ...], NetworkTree]] = {}
_IN_SESSION = "tongjie.network_tree"
_ASKED = "tongjie.network_tree_version"  # the version, asked alongside another query
_COVERED = (ServicePoint, ClosedDay, Policy)


def _since() -> dt.date:
    return dt.date.today() - _CLOSED_FROM


def asking_tree_version(statement: Select[Any]) -> Select[Any]:
    """``statement`` with the tree's version added to its columns (build it once).

    A query every request makes before any circulation work (the bearer token's) then
    also asks the freshness question, and the transaction's first ``NetworkTree.load``
    skips its own round trip. Run it with ``tree_version_params()`` among its parameters
    and give the row to ``note_tree_version``.
    """
    return statement.add_columns(*_VERSION_COLUMNS)


def tree_version_params() -> dict[str, Any]:
    return {"since": _since()}


def note_tree_version(session: Session, row: Row[Any], params: dict[str, Any]) -> None:
    """Keep the version a row from ``asking_tree_version`` carries, for this transaction."""
    values = tuple(row)[-len(_VERSION_COLUMNS) :]
    session.info[_ASKED] = (params["since"], *(_normalised(v) for v in values))


class NetworkTree:
    """Every point with its parent, and the circulation rules, for questions about the tree."""

    def __init__(self, points: list[TreePoint], rules: tuple[Rule, ...] = ()) -> None:
        self.points = {p.id: p for p in points}
        self.rules = rules

    @classmethod
    def load(cls, session: Session) -> NetworkTree:
        """The tree and rules of this session's database: from memory unless they changed."""
        pending = (*session.new, *session.dirty, *session.deleted)
        if any(isinstance(obj, _COVERED) for obj in pending):
            _forget(session)
        in_session: NetworkTree | None = session.info.get(_IN_SESSION)
        if in_session is not None:
            return in_session
        version = session.info.pop(_ASKED, None)
        if version is None:
            since = _since()
            version = (
                since,
                *(_normalised(v) for v in session.execute(_VERSION, {"since": since}).one()),
            )
        since = version[0]
        key = str(session.get_bind().engine.url)
        cached = _CACHE.get(key)
        if cached is not None and cached[0] == version:
            tree = cached[1]
        else:
            tree = cls._read(session, since)
            _CACHE[key] = (version, tree)
        session.info[_IN_SESSION] = tree
        return tree

    @classmethod
    def _read(cls, session: Session, since: dt.date) -> NetworkTree:
        closed: dict[int, set[dt.date]] = {}
        for point_id, day in session.execute(
            select(ClosedDay.point_id, ClosedDay.day).where(ClosedDay.day >= since)
        ):
            closed.setdefault(point_id, set()).add(day)
        points = [
            TreePoint(**row._mapping, closed=frozenset(closed.get(row.id, ())))
            for row in session.execute(select(*_TREE_COLUMNS))
        ]
        rules = tuple(Rule(*row) for row in session.execute(select(*_RULE_COLUMNS)))
        return cls(points, rules)

    def by_code(self, code: str) -> TreePoint | None:
        return next((p for p in self.points.values() if p.code == code), None)

    def root(self) -> TreePoint | None:
        """The central library at the top (the first by code if a city has several)."""
        roots = [p for p in self.points.values() if p.parent_id is None]
        return min(roots, key=lambda p: (p.kind != PointKind.CENTRAL, p.code), default=None)

    def __getitem__(self, point_id: int) -> TreePoint:
        return self.points[point_id]

    def lineage(self, point_id: int) -> list[int]:
        """The point, its parent, and so on up to the root (cycles cannot occur but are cut)."""
        out: list[int] = []
        current: int | None = point_id
        while current is not None and current not in out and current in self.points:
            out.append(current)
            current = self.points[current].parent_id
        return out

    def is_within(self, point_id: int, root_id: int) -> bool:
        return root_id in self.lineage(point_id)

    def _nearest(self, point_id: int, kind: str) -> int | None:
        return next((p for p in self.lineage(point_id) if self.points[p].kind == kind), None)

    def central_of(self, point_id: int) -> int:
        """The central library (总馆) a point belongs to: the nearest central above, or the root."""
        return self._nearest(point_id, PointKind.CENTRAL) or self.lineage(point_id)[-1]

    def branch_group_of(self, point_id: int) -> int:
        """The root of a point's branch group: its branch (分馆), or the point itself above those.

        A branch and the village bookshops, reading rooms and bookmobiles under
        it form one group; a central library is a group of its own.
        """
        return self._nearest(point_id, PointKind.BRANCH) or point_id

    def floating_group_of(self, point_id: int) -> int | None:
        """The root of the floating group (浮动馆藏) a copy homed at ``point_id`` belongs to."""
        return next((p for p in self.lineage(point_id) if self.points[p].floating), None)

    def nearness(self, copy_at: int, pickup: int) -> int:
        """HOLD-3: 0 same point, 1 same branch group, 2 the central library, 3 anywhere else."""
        if copy_at == pickup:
            return 0
        if self.is_within(copy_at, self.branch_group_of(pickup)):
            return 1
        if copy_at == self.central_of(pickup):
            return 2
        return 3

    def delivery_run_of(self, point_id: int) -> int:
        """A delivery run (物流线路) serves one branch group: the van goes to the branch and on."""
        return self.branch_group_of(point_id)


def _forget(session: Session) -> None:
    session.info.pop(_IN_SESSION, None)
    session.info.pop(_ASKED, None)


@event.listens_for(Session, "after_transaction_end")
def _forget_in_session(session: Session, _transaction: Any) -> None:
    """A new transaction asks the version again (another worker may have changed the rules)."""
    _forget(session)


@event.listens_for(Session, "before_flush")
def _forget_when_changed(session: Session, _context: Any, _instances: Any) -> None:
    """The session writes a point, a closed day or a rule: what it read before is stale."""
    if any(isinstance(o, _COVERED) for o in (*session.new, *session.dirty, *session.deleted)):
        _forget(session)


def _normalised(value: Any) -> Any:
    """SQLite hands back timestamps as naive UTC, PostgreSQL as aware: compare them alike."""
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.UTC).replace(tzinfo=None)
    return value
