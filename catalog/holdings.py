"""Copies held per point, the base of holdings per capita (人均藏书).

A copy is held by its home point (its owner), whatever point it sits at
today, so that a rotation batch lent to a village bookshop for a season does
not move the figures back and forth. Withdrawn and lost copies are not held.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from catalog.records import NOT_HELD, Copy


def copies_held_by_point(session: Session) -> dict[int, int]:
    """{point id: copies held} for every point holding at least one copy."""
    rows = session.execute(
        select(Copy.home_point_id, func.count(Copy.id))
        .where(Copy.status.not_in([s.value for s in NOT_HELD]))
        .group_by(Copy.home_point_id)
    )
    return {point_id: count for point_id, count in rows}


def per_capita(copies: int, population: int) -> float | None:
    """Copies per resident; None where the population is unknown (zero)."""
    return round(copies / population, 3) if population > 0 else None
