"""Checkout, renewal and check-in (借、续、还): borrow anywhere, return anywhere (通借通还).

Each function is one unit of work in the caller's transaction and returns a
receipt; a refusal raises before anything is written (and the caller rolls
back). The rules are numbered in docs/circulation.md; comments name them.
Nothing here reads or waits for the search engine: the copy's change reaches
search through the outbox (catalog/search/outbox.py) after commit.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import and_, bindparam, func, or_, select
from sqlalchemy.orm import Session

from catalog.records import Copy, CopyStatus
from circulation.blocks import LoanCounts, block_reasons, loan_count_columns
from circulation.copy_status import restore_found
from circulation.desk import Desk
from circulation.errors import CirculationRefused, PatronBlocked, PatronNotFound
from circulation.fines import charge, overdue_amount
from circulation.holds import target
from circulation.in_hand import InHand, copy_in_hand
from circulation.ledger import LedgerEvent, append
from circulation.models import OPEN_HOLD, PROMISED, FineKind, Hold, HoldStatus, Loan
from circulation.patrons import Patron
from circulation.policies import due_date, resolve
from circulation.receipts import (
    CheckoutReceipt,
    CopyRef,
    FineRef,
    HoldRef,
    LoanRef,
    Note,
    PatronRef,
    PointRef,
)
from circulation.routing import release
from circulation.transits import close
from circulation.tree import NetworkTree
from circulation.writes import close_loan_row, open_loan_row, set_copy_state

NOT_IN_CIRCULATION = (CopyStatus.WITHDRAWN, CopyStatus.IN_PROCESSING, CopyStatus.DAMAGED)
STATUS_ZH = {"withdrawn": "已剔旧注销", "in_processing": "加工中", "damaged": "破损待修"}


# The statements every checkout and check-in runs, built once (building them is not free).
_PATRON_BY_CARD = select(Patron).where(Patron.card == bindparam("card"))
# A checkout's patron with the counts its limits and blocks need, in one query.
_PATRON_AND_COUNTS = select(Patron, *loan_count_columns(Patron.id)).where(
    Patron.card == bindparam("card")
)
# A hold promising this copy, or the borrower's own open hold on its title: one query.
_HOLDS_FOR_CHECKOUT = (
    select(Hold)
    .where(
        or_(
            and_(Hold.copy_id == bindparam("copy_id"), Hold.status.in_(PROMISED)),
            and_(
                Hold.patron_id == bindparam("patron_id"),
                Hold.record_id == bindparam("record_id"),
                Hold.status.in_(OPEN_HOLD),
            ),
        )
    )
    .with_for_update()
)


def find_patron(session: Session, card: str) -> Patron:
    patron = session.scalar(_PATRON_BY_CARD, {"card": card})
    if patron is None:
        raise PatronNotFound(card)
    return patron


def find_patron_and_counts(
    session: Session, card: str, today: dt.date
) -> tuple[Patron, LoanCounts]:
    row = session.execute(_PATRON_AND_COUNTS, {"card": card, "today": today}).one_or_none()
    if row is None:
        raise PatronNotFound(card)
    patron, open_loans, overdue, blocks = row
    return patron, LoanCounts(int(open_loans), int(overdue), int(blocks))


def loan_ref(loan: Loan, patron: Patron | None, point_code: str, days_overdue: int = 0) -> LoanRef:
    return LoanRef(
        loan.id,
        PatronRef.of(patron) if patron else None,
        loan.due_date,
        loan.renewals,
        loan.checked_out_at,
        point_code,
        days_overdue,
    )


def hold_ref(hold: Hold) -> HoldRef:
    return HoldRef(
        hold.id,
        PatronRef.of(hold.patron) if hold.patron else None,
        PointRef.of(hold.pickup_point),
        hold.status,
        hold.shelf_until,
    )


def refuse_out_of_circulation(copy: Copy) -> None:
    if copy.status in NOT_IN_CIRCULATION:
        raise CirculationRefused(
            "copy_not_in_circulation",
            f"copy {copy.barcode} is {copy.status}: it cannot circulate",
            f"图书 {copy.barcode} {STATUS_ZH[copy.status]}，不能流通",
            status=copy.status,
        )


def checkout(
    session: Session, desk: Desk, card: str, barcode: str, *, override: str | None = None
) -> CheckoutReceipt:
    """Lend a copy at the desk's point (CHECKOUT-1..11). Every refusal comes before any write."""
    tree = NetworkTree.load(session)
    patron, counts = find_patron_and_counts(session, card, desk.today)
    scanned = copy_in_hand(session, barcode)
    copy = scanned.copy
    policy = resolve(tree, desk.point.id, patron.category, copy.item_type)
    reasons = block_reasons(session, patron, policy, desk.today, counts)
    if reasons:  # CHECKOUT-2
        raise PatronBlocked(reasons)
    if not policy.lendable:  # CHECKOUT-3
        raise CirculationRefused(
            "not_lendable",
            f"{copy.item_type} items are for use in the library only",
            f"{copy.item_type} 类文献仅限馆内阅览，不外借",
        )
    refuse_out_of_circulation(copy)  # CHECKOUT-4
    override = (override or "").strip() or None
    previous = scanned.loan
    if previous is not None:  # CHECKOUT-5
        _refuse_loaned(previous, patron, override)
    limited = policy.max_loans_item_type
    count = counts.open if limited is None else _open_loans_of_type(session, patron, limited)
    if count >= policy.max_loans:  # CHECKOUT-7
        raise CirculationRefused(
            "loan_limit",
            f"the card has {count} loans, the most allowed",
            f"该读者已借 {count} 册，已达上限",
            limit=policy.max_loans,
        )
    promise, own_hold = (
        _promises(session, copy, patron, override) if scanned.title_held else (None, None)
    )  # CHECKOUT-8.2
    notes: list[Note] = []
    if previous is not None:
        close_loan(session, desk, None, previous, copy, outcome="returned")
        notes.append(Note("previous_loan_closed", "the previous loan of this copy was closed",
                          "该书之前的借阅已结束"))  # fmt: skip
    elif copy.status in (CopyStatus.LOST, CopyStatus.MISSING):  # CHECKOUT-6
        restore_found(session, desk, copy, "found at a checkout")
        notes.append(Note("restored", "the copy was lost or missing and is restored",
                          "该书原登记为遗失或丢失待查，已恢复"))  # fmt: skip
    notes.extend(_correct_whereabouts(session, desk, tree, scanned))  # CHECKOUT-1.1, 1.2
    due = due_date(tree, desk.point.id, desk.today, policy.loan_days)  # CHECKOUT-10
    loan = open_loan_row(session, copy_id=copy.id, patron_id=patron.id, point_id=desk.point.id,
                         checked_out_at=desk.now, renewals=0, due_date=due)  # fmt: skip
    set_copy_state(session, copy, CopyStatus.ON_LOAN, desk.point.id, lent_on=desk.today)
    details: dict[str, object] = {"loan_id": loan.id, "due_date": loan.due_date.isoformat()}
    if override:
        details["override"] = override
    append(session, LedgerEvent.CHECKOUT, point_id=desk.point.id, actor=desk.actor,
           copy_id=copy.id, copy_home_point_id=copy.home_point_id, patron_id=patron.id,
           patron_home_point_id=patron.home_point_id, details=details, at=desk.now)  # fmt: skip
    if promise is not None:  # CHECKOUT-8
        notes.append(_requeue(session, tree, promise))
    if own_hold is not None:  # CHECKOUT-9
        _fill(session, desk, tree, own_hold, copy, patron, notes)
    return CheckoutReceipt(loan_ref(loan, patron, desk.point.code), CopyRef.of(copy),
                           PointRef.of(desk.point), notes)  # fmt: skip


def _open_loans_of_type(session: Session, patron: Patron, item_type: str) -> int:
    return int(
        session.scalar(
            select(func.count(Loan.id))
            .join(Copy, Copy.id == Loan.copy_id)
            .where(
                Loan.patron_id == patron.id,
                Loan.returned_at.is_(None),
                Copy.item_type == item_type,
            )
        )
        or 0
    )


def _refuse_loaned(loan: Loan, patron: Patron, override: str | None) -> None:
    """CHECKOUT-5: the system has this copy on loan, yet it is in front of the librarian."""
    if loan.patron_id == patron.id:
        raise CirculationRefused(
            "already_on_loan",
            "this patron has the copy already: renew it instead",
            "该读者已借此书，如需延长请办理续借",
        )
    if override is None:
        raise CirculationRefused(
            "on_loan_to_other",
            "the copy is on loan to another card: check it in first, "
            "or lend it anyway with a reason",
            "该书登记为其他读者借出：请先归还，或填写原因后强制借出",
        )


def _promises(
    session: Session, copy: Copy, patron: Patron, override: str | None
) -> tuple[Hold | None, Hold | None]:
    """Another reader's hold this copy is promised to, and the borrower's own hold on the title.

    CHECKOUT-8.2: a trapped copy (hold shelf, in transit for a hold) is refused without an
    override; a copy merely targeted (on a pull list) is not.
    """
    holds = session.scalars(
        _HOLDS_FOR_CHECKOUT,
        {"copy_id": copy.id, "patron_id": patron.id, "record_id": copy.record_id},
    ).all()
    own = next((h for h in holds if h.patron_id == patron.id and h.status in OPEN_HOLD), None)
    promise = next(
        (h for h in holds if h.copy_id == copy.id and h.status in PROMISED and h is not own),
        None,
    )
    if promise is not None and promise.patron_id == patron.id:
        promise = None
    if promise is not None and promise.status != HoldStatus.TARGETED and override is None:
        until = promise.shelf_until.isoformat() if promise.shelf_until else ""
        raise CirculationRefused(
            "on_hold_for_other",
            f"kept for another reader's hold (pickup {promise.pickup_point.code} {until}); "
            "lend it anyway only with a reason",
            f"该书为其他读者预约保留（{promise.pickup_point.name} {until}），如需借出请填写原因",
            hold_id=promise.id,
        )
    return promise, own


def _correct_whereabouts(
    session: Session, desk: Desk, tree: NetworkTree, scanned: InHand
) -> list[Note]:
    """CHECKOUT-1.1 and 1.2: the book is here, whatever the system believed."""
    copy, transit = scanned.copy, scanned.transit
    if transit is not None:
        close(session, desk, transit, "checked_out")
        return [Note("transit_closed", f"it was in transit to {transit.to_point.code}: closed",
                     f"该书原在送往 {transit.to_point.name} 的途中，已结束在途")]  # fmt: skip
    if copy.current_point_id != desk.point.id:
        where = tree[copy.current_point_id]
        return [Note("whereabouts_corrected", f"the system had it at {where.code}: corrected",
                     f"系统记录该书在 {where.name}，已更正为本馆")]  # fmt: skip
    return []


def _requeue(session: Session, tree: NetworkTree, promise: Hold) -> Note:
    """CHECKOUT-8.1: the other reader's hold goes back to the queue and gets another copy."""
    promise.status, promise.copy = HoldStatus.WAITING, None
    session.flush()
    other = target(session, tree, promise)
    if other is not None:
        return Note("hold_requeued", f"another reader's hold gets copy {other.barcode}",
                    f"其他读者的预约改由 {other.barcode} 满足")  # fmt: skip
    return Note("hold_requeued", "another reader's hold waits for the next copy returned",
                "其他读者的预约改为等待下一册归还的图书")  # fmt: skip


def _fill(
    session: Session,
    desk: Desk,
    tree: NetworkTree,
    hold: Hold,
    copy: Copy,
    patron: Patron,
    notes: list[Note],
) -> None:
    """CHECKOUT-9: the patron's hold on the title is filled by this loan."""
    other = session.get(Copy, hold.copy_id) if hold.copy_id not in (None, copy.id) else None
    was = hold.status
    hold.status, hold.closed_at, hold.copy = HoldStatus.FILLED, desk.now, copy
    session.flush()
    append(
        session,
        LedgerEvent.HOLD_FILLED,
        point_id=desk.point.id,
        actor=desk.actor,
        copy_id=copy.id,
        copy_home_point_id=copy.home_point_id,
        patron_id=patron.id,
        patron_home_point_id=patron.home_point_id,
        details={"hold_id": hold.id},
        at=desk.now,
    )
    notes.append(
        Note("hold_filled", "the reader's hold on this title is filled", "该读者的预约已满足")
    )
    if other is not None:
        routing = release(session, desk, tree, other, was, hold.pickup_point)
        if routing is not None and routing.action != "shelve":
            where = routing.destination.code if routing.destination else hold.pickup_point.code
            notes.append(
                Note(
                    "other_copy_released",
                    f"copy {other.barcode} kept for this hold is released "
                    f"({routing.action} {where})",
                    f"为该预约保留的 {other.barcode} 已释放",
                )
            )


def close_loan(
    session: Session, desk: Desk, tree: NetworkTree | None, loan: Loan, copy: Copy, *, outcome: str
) -> tuple[int, FineRef | None]:
    """Close a loan at the desk; with a tree, charge the overdue fine (FINE-1).

    Returns the days overdue and the fine charged, if any.
    """
    close_loan_row(session, loan, desk.now, desk.point.id, outcome)
    days_overdue = max(0, (desk.today - loan.due_date).days)
    patron = loan.patron
    fine_ref = None
    if tree is not None and patron is not None and days_overdue > 0:
        policy = resolve(tree, loan.point_id, patron.category, copy.item_type)
        amount = overdue_amount(policy, days_overdue)
        if amount > 0:
            row = charge(
                session,
                desk,
                patron,
                FineKind.OVERDUE,
                amount,
                loan=loan,
                copy=copy,
                note=f"{days_overdue} days overdue",
            )
            fine_ref = FineRef(row.id, row.kind, row.amount)
    append(
        session,
        LedgerEvent.CHECKIN,
        point_id=desk.point.id,
        actor=desk.actor,
        copy_id=copy.id,
        copy_home_point_id=copy.home_point_id,
        patron_id=loan.patron_id,
        patron_home_point_id=patron.home_point_id if patron else None,
        details={"loan_id": loan.id, "days_overdue": days_overdue, "outcome": outcome},
        at=desk.now,
    )
    session.flush()
    return days_overdue, fine_ref
