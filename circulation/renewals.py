"""Renewal (续借): a loan's due date moved on, by the rules of the point that lent it.

RENEW-1 Only an open loan can be renewed; any point may renew any loan.
RENEW-2 A blocked patron may not renew (BLOCK-6).
RENEW-3 An overdue loan cannot be renewed: return it (and settle any fine) first.
RENEW-4 At most the rule's ``max_renewals`` renewals per loan.
RENEW-5 Not while another reader's hold on the title waits with no copy found for it.
RENEW-6 The new due date is the renewal day + the rule's ``loan_days``, past the
        lending point's closed days (POLICY-4), never earlier than the old one; a
        renewal that would not move the due date is refused.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from circulation.blocks import block_reasons
from circulation.desk import Desk
from circulation.errors import CirculationRefused, PatronBlocked
from circulation.in_hand import copy_in_hand
from circulation.ledger import LedgerEvent, append
from circulation.loans import loan_ref
from circulation.models import Hold, HoldStatus
from circulation.policies import due_date, resolve
from circulation.receipts import CopyRef, PointRef, RenewalReceipt
from circulation.tree import NetworkTree


def renew(session: Session, desk: Desk, barcode: str) -> RenewalReceipt:
    tree = NetworkTree.load(session)
    scanned = copy_in_hand(session, barcode)
    copy, loan = scanned.copy, scanned.loan
    if loan is None or loan.patron is None:  # RENEW-1
        raise CirculationRefused(
            "not_on_loan",
            f"copy {copy.barcode} is not on loan",
            f"图书 {copy.barcode} 未借出，无法续借",
        )
    patron = loan.patron
    lent_at = tree[loan.point_id]
    policy = resolve(tree, loan.point_id, patron.category, copy.item_type)
    reasons = block_reasons(session, patron, policy, desk.today)
    if loan.due_date < desk.today:  # RENEW-3
        raise CirculationRefused(
            "overdue",
            f"the loan was due on {loan.due_date}: return it first",
            f"该书已于 {loan.due_date} 到期，请先归还",
        )
    if reasons:  # RENEW-2
        raise PatronBlocked(reasons)
    if loan.renewals >= policy.max_renewals:  # RENEW-4
        raise CirculationRefused(
            "renewal_limit",
            f"renewed {loan.renewals} time(s), the most allowed",
            f"已续借 {loan.renewals} 次，已达上限",
            limit=policy.max_renewals,
        )
    waiting = session.scalar(
        select(Hold.id).where(Hold.record_id == copy.record_id, Hold.status == HoldStatus.WAITING)
    )
    if waiting is not None:  # RENEW-5
        raise CirculationRefused(
            "hold_waiting",
            "another reader is waiting for this title",
            "其他读者正在预约此书，不能续借",
        )
    new_due = max(loan.due_date, due_date(tree, loan.point_id, desk.today, policy.loan_days))
    if new_due == loan.due_date:  # RENEW-6
        raise CirculationRefused(
            "renewal_too_soon",
            "renewing today would not move the due date",
            "今天续借不会延长应还日期",
        )
    previous = loan.due_date
    loan.due_date, loan.renewals = new_due, loan.renewals + 1
    session.flush()
    append(
        session,
        LedgerEvent.RENEW,
        point_id=desk.point.id,
        actor=desk.actor,
        copy_id=copy.id,
        copy_home_point_id=copy.home_point_id,
        patron_id=patron.id,
        patron_home_point_id=patron.home_point_id,
        details={"loan_id": loan.id, "from": previous.isoformat(), "to": new_due.isoformat()},
        at=desk.now,
    )
    return RenewalReceipt(
        loan_ref(loan, patron, lent_at.code), CopyRef.of(copy), PointRef.of(desk.point), previous
    )
