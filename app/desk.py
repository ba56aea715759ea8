"""The acting point of a circulation call: where the book and the librarian (or kiosk) are.

- A terminal acts at its own point; naming another point is refused.
- A librarian names the point (``"point": CODE`` in the API, a choice on the
  counter pages) within their part of the network, and defaults to their
  scope point; a network administrator without one defaults to the central
  library at the root of the network.

Answered from the network tree circulation keeps in memory (circulation/tree.py),
so finding the desk costs no query of its own.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.accounts import Principal, Role
from catalog.errors import NotFound, PermissionDenied
from circulation.desk import Desk
from circulation.tree import NetworkTree, TreePoint


def acting_point(session: Session, principal: Principal, code: str | None) -> TreePoint:
    tree = NetworkTree.load(session)
    if principal.role == Role.TERMINAL:
        point = tree.points.get(principal.scope_point_id or 0)
        if point is None:
            raise NotFound("the terminal's point no longer exists", "该终端所属服务点已不存在")
        if code and code != point.code:
            raise PermissionDenied(
                f"a terminal acts at its own point {point.code} only",
                f"终端只能在其所在服务点 {point.code} 办理业务",
            )
        return point
    if code:
        found = tree.by_code(code)
        if found is None:
            raise NotFound(f"no service point with code {code}", f"没有代码为 {code} 的服务点")
        if principal.role == Role.BRANCH_LIBRARIAN and not (
            principal.scope_point_id is not None
            and tree.is_within(found.id, principal.scope_point_id)
        ):
            raise PermissionDenied(
                f"{found.code} is outside the part of the network you manage",
                f"{found.code} 不在您管辖的范围内",
            )
        return found
    if principal.scope_point_id is not None and principal.scope_point_id in tree.points:
        return tree[principal.scope_point_id]
    root = tree.root()
    if root is None:
        raise NotFound("the network has no service points yet", "网络中还没有服务点")
    return root


def desk_for(session: Session, principal: Principal, code: str | None) -> Desk:
    return Desk(acting_point(session, principal, code), principal.actor)
