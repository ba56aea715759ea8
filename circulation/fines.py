"""Fines and fees (费用): overdue fines, lost and damaged charges, payment and waiving.

FINE-1 A loan returned late is charged the rule's ``fine_per_day`` for each
       calendar day after the due date, at most ``fine_cap`` per loan (0: no
       cap), by the rule of the lending point; with ``fine_per_day`` 0 nothing
       is charged (block instead, BLOCK-4).
FINE-2 A payment takes any amount up to what is outstanding; the fine closes
       when nothing is left.
FINE-3 A waiver, with its reason, forgives all or part of what is outstanding.
FINE-4 Every charge, payment and waiver is in the ledger with the amount.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.errors import NotFound
from catalog.records import Copy
from circulation.desk import Desk
from circulation.errors import CirculationRefused, InvalidCirculationInput
from circulation.ledger import LedgerEvent, append
from circulation.models import Fine, FineKind, Loan
from circulation.patrons import Patron
from circulation.policies import ResolvedPolicy

CENT = Decimal("0.01")


def overdue_amount(policy: ResolvedPolicy, days_overdue: int) -> Decimal:
    """FINE-1: days x rate, capped."""
    if days_overdue <= 0 or policy.fine_per_day <= 0:
        return Decimal("0.00")
    amount = policy.fine_per_day * days_overdue
    if policy.fine_cap > 0:
        amount = min(amount, policy.fine_cap)
    return amount.quantize(CENT)


def charge(
    session: Session,
    desk: Desk,
    patron: Patron,
    kind: FineKind,
    amount: Decimal,
    *,
    loan: Loan | None = None,
    copy: Copy | None = None,
    note: str = "",
) -> Fine:
    fine = Fine(
        patron_id=patron.id,
        loan_id=loan.id if loan else None,
        copy_id=copy.id if copy else None,
        point_id=desk.point.id,
        kind=kind.value,
        amount=amount.quantize(CENT),
        paid=Decimal("0"),
        waived=Decimal("0"),
        note=note,
        created_at=desk.now,
    )
    session.add(fine)
    session.flush()
    _ledger(session, desk, LedgerEvent.FINE_CHARGED, fine, patron, fine.amount, copy=copy)
    return fine


def _ledger(
    session: Session,
    desk: Desk,
    event: LedgerEvent,
    fine: Fine,
    patron: Patron,
    amount: Decimal,
    *,
    copy: Copy | None = None,
    reason: str = "",
) -> None:
    details = {"fine_id": fine.id, "kind": fine.kind, "amount": str(amount)}
    if reason:
        details["reason"] = reason
    append(
        session,
        event,
        point_id=desk.point.id,
        actor=desk.actor,
        patron_id=patron.id,
        patron_home_point_id=patron.home_point_id,
        copy_id=copy.id if copy else fine.copy_id,
        copy_home_point_id=copy.home_point_id if copy else None,
        details=details,
        at=desk.now,
    )


def get_fine(session: Session, fine_id: int) -> Fine:
    fine = session.get(Fine, fine_id) if 0 < fine_id < 2**63 else None
    if fine is None:
        raise NotFound(f"no fine {fine_id}", f"没有编号为 {fine_id} 的费用")
    return fine


def _amount(fine: Fine, amount: Decimal | None) -> Decimal:
    if fine.closed_at is not None:
        raise CirculationRefused(
            "fine_closed", f"fine {fine.id} is settled already", f"费用 {fine.id} 已结清"
        )
    outstanding = fine.outstanding
    amount = outstanding if amount is None else amount.quantize(CENT)
    if amount <= 0 or amount > outstanding:
        raise InvalidCirculationInput(
            f"the amount must be more than 0 and at most the {outstanding} outstanding",
            f"金额必须大于 0 且不超过未缴的 {outstanding} 元",
            outstanding=str(outstanding),
        )
    return amount


def pay(session: Session, desk: Desk, fine: Fine, amount: Decimal | None = None) -> Fine:
    """FINE-2: pay part or all of a fine (all when no amount is given)."""
    paid = _amount(fine, amount)
    fine.paid += paid
    _settle(session, desk, fine)
    _ledger(session, desk, LedgerEvent.FINE_PAID, fine, _patron(session, fine), paid)
    return fine


def waive(
    session: Session, desk: Desk, fine: Fine, reason: str, amount: Decimal | None = None
) -> Fine:
    """FINE-3: forgive part or all of a fine, with the reason."""
    if not reason.strip():
        raise InvalidCirculationInput("give the reason for the waiver", "请填写减免原因")
    waived = _amount(fine, amount)
    fine.waived += waived
    _settle(session, desk, fine)
    _ledger(
        session,
        desk,
        LedgerEvent.FINE_WAIVED,
        fine,
        _patron(session, fine),
        waived,
        reason=reason.strip(),
    )
    return fine


def _settle(session: Session, desk: Desk, fine: Fine) -> None:
    if fine.outstanding <= 0:
        fine.closed_at = desk.now
    session.flush()


def _patron(session: Session, fine: Fine) -> Patron:
    patron = session.get(Patron, fine.patron_id)
    assert patron is not None
    return patron


def open_fines(session: Session, patron: Patron) -> list[Fine]:
    return list(
        session.scalars(
            select(Fine)
            .where(Fine.patron_id == patron.id, Fine.closed_at.is_(None))
            .order_by(Fine.created_at)
        )
    )
