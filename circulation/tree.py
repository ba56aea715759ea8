"""The network tree as circulation sees it: ancestors, branch groups, floating groups, nearness.

Loaded once per action in one small query (a network has tens to a few
thousand points), so each rule that asks "is P under Q?" or "how near is
P to Q?" answers from memory.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.network import PointKind, ServicePoint


@dataclass(frozen=True)
class TreePoint:
    id: int
    code: str
    name: str
    kind: str
    parent_id: int | None
    floating: bool


class NetworkTree:
    """Every point with its parent, for questions about the tree."""

    def __init__(self, points: list[TreePoint]) -> None:
        self.points = {p.id: p for p in points}

    @classmethod
    def load(cls, session: Session) -> NetworkTree:
        rows = session.execute(
            select(
                ServicePoint.id,
                ServicePoint.code,
                ServicePoint.name,
                ServicePoint.kind,
                ServicePoint.parent_id,
                ServicePoint.floating,
            )
        )
        return cls([TreePoint(*row) for row in rows])

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
