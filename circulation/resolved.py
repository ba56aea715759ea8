"""The resolved table (规则一览): every setting that applies at a point, per category and item type.

Shown on the policy page and the API so that an administrator sees the effect
of their rules, not only the rules.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.network import ServicePoint
from catalog.records import Copy
from circulation.models import Policy
from circulation.patrons import PATRON_CATEGORIES
from circulation.policies import resolve_from
from circulation.tree import NetworkTree


def item_types(session: Session) -> list[str]:
    """Item types in use: on copies, and named by rules."""
    found = set(session.scalars(select(Copy.item_type).distinct()))
    found |= {t for t in session.scalars(select(Policy.item_type).distinct()) if t}
    return sorted(found or {"book"})


def resolved_table(session: Session, point: ServicePoint | None) -> dict[str, Any]:
    """One row per patron category x item type at ``point`` (the network level when None)."""
    tree = NetworkTree.load(session)
    lineage = tree.lineage(point.id) if point is not None else []
    rules = list(session.scalars(select(Policy)))
    rows = []
    for category in PATRON_CATEGORIES:
        for item_type in item_types(session):
            matching = [
                r
                for r in rules
                if (r.point_id is None or r.point_id in lineage)
                and r.patron_category in (None, category)
                and r.item_type in (None, item_type)
            ]
            resolved = asdict(resolve_from(matching, lineage))
            resolved.pop("max_loans_item_type")
            rows.append({"patron_category": category, "item_type": item_type, **resolved})
    return {"point": point.code if point is not None else None, "rows": rows}
