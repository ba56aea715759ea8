"""The network of service points (总分馆制): one tree, from the central library down.

A point's ``population`` is the residents it serves directly (常住人口), not
its subtree's: figures for a subtree add the populations of its points, so
nobody is counted twice.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint, false, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from catalog.db import Base, Timestamped


class PointKind(enum.StrEnum):
    """Kinds of service point. Stored as their English code."""

    CENTRAL = "central"  # 总馆
    BRANCH = "branch"  # 分馆 (乡镇综合文化站)
    VILLAGE_BOOKSHOP = "village_bookshop"  # 农家书屋
    WORKSITE_READING_ROOM = "worksite_reading_room"  # 工地书屋
    BOOKMOBILE = "bookmobile"  # 流动图书车
    COMMUNITY = "community"  # 社区服务点
    SCHOOL = "school"  # 学校服务点
    OTHER = "other"  # 其他


POINT_KIND_NAMES_ZH = {
    PointKind.CENTRAL: "总馆",
    PointKind.BRANCH: "分馆",
    PointKind.VILLAGE_BOOKSHOP: "农家书屋",
    PointKind.WORKSITE_READING_ROOM: "工地书屋",
    PointKind.BOOKMOBILE: "流动图书车",
    PointKind.COMMUNITY: "社区服务点",
    PointKind.SCHOOL: "学校服务点",
    PointKind.OTHER: "其他服务点",
}

ALL_WEEKDAYS = "1234567"  # ISO weekdays, Monday = 1


class ServicePoint(Timestamped, Base):
    """A library, branch, bookshop, reading room or bookmobile in the network (服务点)."""

    __tablename__ = "service_points"
    __table_args__ = (
        CheckConstraint("population >= 0", name="population_not_negative"),
        CheckConstraint("parent_id IS NULL OR parent_id <> id", name="not_own_parent"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("service_points.id"), index=True)
    region_code: Mapped[str] = mapped_column(String(12), default="")
    population: Mapped[int] = mapped_column(default=0)
    address: Mapped[str] = mapped_column(String(300), default="")
    opening_days: Mapped[str] = mapped_column(String(7), default=ALL_WEEKDAYS)
    # The point and its subtree share stock (浮动馆藏): a copy returned anywhere in it stays there.
    floating: Mapped[bool] = mapped_column(default=False, server_default=false())

    parent: Mapped[ServicePoint | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[ServicePoint]] = relationship(back_populates="parent")
    closed_days: Mapped[list[ClosedDay]] = relationship(
        back_populates="point", cascade="all, delete-orphan", order_by="ClosedDay.day"
    )

    def is_open_on(self, day: dt.date) -> bool:
        """Whether the point opens on ``day``: a weekday it opens and not a closed date."""
        if str(day.isoweekday()) not in self.opening_days:
            return False
        return all(c.day != day for c in self.closed_days)


class ClosedDay(Base):
    """A date a point is closed (holiday, stocktaking); due dates skip these."""

    __tablename__ = "closed_days"
    __table_args__ = (UniqueConstraint("point_id", "day", name="point_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    point_id: Mapped[int] = mapped_column(ForeignKey("service_points.id", ondelete="CASCADE"))
    # indexed: circulation checks the days from last week on at every transaction (tree.py)
    day: Mapped[dt.date] = mapped_column(index=True)
    reason: Mapped[str] = mapped_column(String(200), default="")

    point: Mapped[ServicePoint] = relationship(back_populates="closed_days")


def point_by_code(session: Session, code: str) -> ServicePoint | None:
    """Look a point up by its code (case as written)."""
    return session.scalar(select(ServicePoint).where(ServicePoint.code == code))


def all_points(session: Session) -> list[ServicePoint]:
    """Every point, ordered by code, in one query."""
    return list(session.scalars(select(ServicePoint).order_by(ServicePoint.code)))


def subtree_ids(points: Iterable[ServicePoint], root_id: int) -> set[int]:
    """Ids of ``root_id`` and everything under it, from an already-loaded list of points."""
    children: dict[int | None, list[int]] = {}
    for p in points:
        children.setdefault(p.parent_id, []).append(p.id)
    found = {root_id}
    stack = [root_id]
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in found:
                found.add(child)
                stack.append(child)
    return found


def is_within(session: Session, point_id: int, root_id: int) -> bool:
    """Whether ``point_id`` lies in the subtree of ``root_id`` (itself included)."""
    seen: set[int] = set()
    current: int | None = point_id
    while current is not None and current not in seen:
        if current == root_id:
            return True
        seen.add(current)
        current = session.scalar(select(ServicePoint.parent_id).where(ServicePoint.id == current))
    return False


def ordered_tree(points: list[ServicePoint]) -> list[tuple[int, ServicePoint]]:
    """Points in display order: each followed by its children, with depth for indentation."""
    children: dict[int | None, list[ServicePoint]] = {}
    for p in points:
        children.setdefault(p.parent_id, []).append(p)
    for kids in children.values():
        kids.sort(key=lambda p: p.code)
    known = {p.id for p in points}
    roots = [p for p in points if p.parent_id is None or p.parent_id not in known]
    out: list[tuple[int, ServicePoint]] = []
    stack = [(0, p) for p in sorted(roots, key=lambda p: p.code, reverse=True)]
    while stack:
        depth, point = stack.pop()
        out.append((depth, point))
        stack.extend((depth + 1, c) for c in reversed(children.get(point.id, [])))
    return out
