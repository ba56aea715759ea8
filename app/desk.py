"""The acting point of a circulation call: where the book and the librarian (or kiosk) are.

- A terminal acts at its own point; naming another point is refused.
- A librarian names the point (``"point": CODE`` in the API, a choice on the
  counter pages) within their part of the network, and defaults to their
  scope point; a network administrator without one defaults to the central
  library at the root of the network.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts import Principal, Role, require_point_scope
from catalog.errors import NotFound, PermissionDenied
from catalog.network import PointKind, ServicePoint, point_by_code
from circulation.desk import Desk


def acting_point(session: Session, principal: Principal, code: str | None) -> ServicePoint:
    if principal.role == Role.TERMINAL:
        point = session.get(ServicePoint, principal.scope_point_id)
        if point is None:
            raise NotFound("the terminal's point no longer exists", "该终端所属服务点已不存在")
        if code and code != point.code:
            raise PermissionDenied(
                f"a terminal acts at its own point {point.code} only",
                f"终端只能在其所在服务点 {point.code} 办理业务",
            )
        return point
    if code:
        point = point_by_code(session, code)
        if point is None:
            raise NotFound(f"no service point with code {code}", f"没有代码为 {code} 的服务点")
        require_point_scope(session, principal, point)
        return point
    if principal.scope_point_id is not None:
        scope = session.get(ServicePoint, principal.scope_point_id)
        if scope is not None:
            return scope
    return network_root(session)


def network_root(session: Session) -> ServicePoint:
    """The central library at the top of the tree (the first by code if there are several)."""
    root = session.scalar(
        select(ServicePoint)
        .where(ServicePoint.parent_id.is_(None))
        .order_by(ServicePoint.kind != PointKind.CENTRAL, ServicePoint.code)
    )
    if root is None:
        raise NotFound("the network has no service points yet", "网络中还没有服务点")
    return root


def desk_for(session: Session, principal: Principal, code: str | None) -> Desk:
    return Desk(acting_point(session, principal, code), principal.actor)
