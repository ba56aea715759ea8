"""The copy in front of the librarian (or the kiosk), read in one statement.

A checkout, a check-in, a renewal and a van's delivery all start from a scanned
barcode and need the same things: the copy, locked for the transaction, with the
title and home point a receipt shows; its open loan and the borrower; its open
transit; and whether any reader holds its title. One query answers all of them:
round trips are most of a checkout's cost (docs/benchmarks.md).

Only the copy's row is locked. Every change to a copy's loan or transit starts by
locking the copy through this look-up, and the writes that close a loan or a transit
still change only one that is open (circulation/writes.py), so the copy's lock covers
them. The database allows one open loan and one open transit per copy (LOAN-1,
TRANSIT-1), so the outer joins give one row.

A desk that waited for the lock while another desk changed the copy gets the copy as
that desk left it, but PostgreSQL gives the joined rows as they were when the query
began. The query therefore also reads the copy's version as it was then; when the two
differ, the loan and the transit are read again and the holds are looked at. Every
change that makes a copy promised to a hold moves its version: the trap and the hold
shelf change its status, and targeting it (which only locks it) bumps the version
(``writes.mark_promised``).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, bindparam, exists, select
from sqlalchemy.orm import Session, aliased, joinedload

from catalog.records import Copy, CopyStatus, Record
from circulation.errors import CopyNotFound
from circulation.models import OPEN_HOLD, Hold, Loan, Transit


@dataclass(frozen=True)
class InHand:
    copy: Copy
    loan: Loan | None  # open, with its borrower; only a copy on loan has one
    transit: Transit | None  # open; only a copy in transit has one
    # Whether any reader holds the title, as read with the copy's lock: without one, a
    # checkout or a check-in has no holds to look at. Nothing in them places a hold.
    title_held: bool


_TITLE_HELD = (
    exists().where(Hold.record_id == Copy.record_id, Hold.status.in_(OPEN_HOLD)).label("held")
)
_BEFORE = aliased(Copy)
_VERSION_AT_START = (
    select(_BEFORE.version).where(_BEFORE.id == Copy.id).scalar_subquery().label("version")
)
_IN_HAND = (
    select(Copy, Loan, Transit, _TITLE_HELD, _VERSION_AT_START)
    .outerjoin(Loan, and_(Loan.copy_id == Copy.id, Loan.returned_at.is_(None)))
    .outerjoin(Transit, and_(Transit.copy_id == Copy.id, Transit.closed_at.is_(None)))
    .where(Copy.barcode == bindparam("barcode"))
    .options(
        joinedload(Copy.record).load_only(Record.id, Record.title),
        joinedload(Copy.home_point),
        joinedload(Loan.patron),
    )
    .with_for_update(of=Copy)
)
_OPEN_LOAN = (
    select(Loan)
    .where(Loan.copy_id == bindparam("copy_id"), Loan.returned_at.is_(None))
    .options(joinedload(Loan.patron))
    .with_for_update(of=Loan)
)
_OPEN_TRANSIT = select(Transit).where(
    Transit.copy_id == bindparam("copy_id"), Transit.closed_at.is_(None)
)


def copy_in_hand(session: Session, barcode: str) -> InHand:
    row = session.execute(_IN_HAND, {"barcode": barcode}).one_or_none()
    if row is None:
        raise CopyNotFound(barcode)
    copy, loan, transit, held, version_at_start = row
    if version_at_start != copy.version:  # changed by another desk while this one waited
        return InHand(copy, open_loan(session, copy), _open_transit(session, copy), True)
    return InHand(
        copy,
        loan if copy.status == CopyStatus.ON_LOAN else None,
        transit if copy.status == CopyStatus.IN_TRANSIT else None,
        bool(held),
    )


def open_loan(session: Session, copy: Copy) -> Loan | None:
    """The copy's open loan with its borrower, locked (a staff status change reads the copy
    without locking it: the loan's lock keeps a check-in at the same moment out)."""
    if copy.status != CopyStatus.ON_LOAN:
        return None
    return session.scalar(_OPEN_LOAN, {"copy_id": copy.id})


def _open_transit(session: Session, copy: Copy) -> Transit | None:
    if copy.status != CopyStatus.IN_TRANSIT:
        return None
    return session.scalar(_OPEN_TRANSIT, {"copy_id": copy.id})
