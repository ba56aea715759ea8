"""Forgetting who borrowed what (隐私): old loans lose their patron link.

PRIVACY-1 Loans returned before the cut-off, and their ledger rows, lose the patron's id;
          so do closed holds and their ledger rows. What the figures need stays: the
          patron's home point at the time is kept on every ledger row (LEDGER-3), and the
          daily counts never held a patron at all, so every figure is the same afterwards.
PRIVACY-2 Open loans keep their reader, however old (the book is still out).
PRIVACY-3 Fines and their ledger rows keep their reader: they are money records the desk
          must be able to account for.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import and_, exists, select, update
from sqlalchemy.orm import Session

from circulation.ledger import LedgerEntry
from circulation.models import OPEN_HOLD, Hold, Loan


@dataclass(frozen=True)
class Forgotten:
    loans: int
    holds: int
    ledger_rows: int


def anonymise(session: Session, before: dt.datetime) -> Forgotten:
    """PRIVACY-1..3 for everything that ended before ``before``."""
    loans = session.execute(
        update(Loan)
        .where(Loan.returned_at < before, Loan.patron_id.is_not(None))
        .values(patron_id=None)
    )
    holds = session.execute(
        update(Hold)
        .where(Hold.closed_at < before, Hold.status.not_in(OPEN_HOLD), Hold.patron_id.is_not(None))
        .values(patron_id=None)
    )
    still_out = exists(
        select(Loan.id).where(
            Loan.returned_at.is_(None),
            Loan.patron_id == LedgerEntry.patron_id,
            Loan.copy_id == LedgerEntry.copy_id,
        )
    )
    open_hold = exists(
        select(Hold.id).where(Hold.patron_id == LedgerEntry.patron_id, Hold.status.in_(OPEN_HOLD))
    )
    unpaid = ("fine_charged", "fine_paid", "fine_waived")
    rows = session.execute(
        update(LedgerEntry)
        .where(
            and_(
                LedgerEntry.occurred_at < before,
                LedgerEntry.patron_id.is_not(None),
                LedgerEntry.event.not_in(unpaid),
                ~still_out,
                ~(LedgerEntry.event.like("hold_%") & open_hold),
            )
        )
        .values(patron_id=None)
        .execution_options(synchronize_session=False)
    )
    return Forgotten(_count(loans), _count(holds), _count(rows))


def _count(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
