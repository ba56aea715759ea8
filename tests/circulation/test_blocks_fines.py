"""BLOCK-1..6, FINE-2..4 and STATUS-6..7: who may borrow, what is owed, lost and found copies."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select

from catalog.records import CopyStatus
from circulation.blocks import block_patron, block_reasons, lift_block
from circulation.checkin import checkin
from circulation.errors import InvalidCirculationInput, PatronBlocked
from circulation.fines import charge, pay, waive
from circulation.hold_service import place_hold
from circulation.loans import checkout
from circulation.lost import set_status
from circulation.models import Fine, FineKind, HoldStatus, Loan
from circulation.patrons import PatronStatus
from circulation.policies import resolve
from circulation.tree import NetworkTree
from tests.circulation.conftest import WEDNESDAY, events, set_rule


@pytest.fixture
def shelf(circ):
    record = circ.record()
    for n in range(1, 6):
        circ.copy(f"3100{n}", record, "QX", price="36.00")
    return record


def reasons(circ, patron, today=None) -> list[str]:
    policy = resolve(NetworkTree.load(circ.db), patron.home_point_id, patron.category, None)
    return [r["code"] for r in block_reasons(circ.db, patron, policy, today or WEDNESDAY.date())]


@pytest.mark.parametrize(
    ("status", "code"),
    [(PatronStatus.CARD_LOST, "card_lost"), (PatronStatus.CLOSED, "card_closed"),
     (PatronStatus.BLOCKED, "card_blocked")],
)  # fmt: skip
def test_block_1_inactive_card(circ, status, code):
    assert reasons(circ, circ.patron("20001", status=status)) == [code]


def test_block_2_expired_card(circ):
    patron = circ.patron("20001", expires_on=dt.date(2026, 12, 1))
    assert reasons(circ, patron) == ["card_expired"]
    patron.expires_on = dt.date(2026, 12, 2)  # valid through its last day
    assert reasons(circ, patron) == []


def test_block_3_manual_block_until_lifted_both_ledgered(circ, shelf):
    patron = circ.patron("20001")
    block = block_patron(circ.db, circ.desk("QX"), patron, "多次损坏图书")
    with pytest.raises(PatronBlocked):
        checkout(circ.db, circ.desk("QX"), "20001", "31001")
    with pytest.raises(InvalidCirculationInput):
        block_patron(circ.db, circ.desk("QX"), patron, "  ")
    lift_block(circ.db, circ.desk("QX"), patron, block.id, "已赔偿")
    checkout(circ.db, circ.desk("QX"), "20001", "31001")
    assert [e.event for e in events(circ.db)][:2] == ["patron_blocked", "patron_unblocked"]


def test_block_4_overdue_items_block_borrowing(circ, shelf):
    patron = circ.patron("20001")
    checkout(circ.db, circ.desk("QX"), "20001", "31001")
    due = circ.db.scalar(select(Loan)).due_date
    assert reasons(circ, patron, due) == []
    assert reasons(circ, patron, due + dt.timedelta(days=1)) == ["overdue"]
    set_rule(circ.db, overdue_block_items=0)  # never block
    assert reasons(circ, patron, due + dt.timedelta(days=1)) == []


def test_block_5_fines_over_the_limit(circ):
    patron = circ.patron("20001")
    set_rule(circ.db, fine_block_amount=Decimal("10.00"))
    charge(circ.db, circ.desk("QX"), patron, FineKind.MANUAL, Decimal("9.99"))
    assert reasons(circ, patron) == []
    charge(circ.db, circ.desk("QX"), patron, FineKind.MANUAL, Decimal("0.01"))
    assert reasons(circ, patron) == ["fines"]


def test_block_6_blocks_stop_holds_but_not_returns(circ, shelf):
    patron = circ.patron("20001")
    checkout(circ.db, circ.desk("QX"), "20001", "31001")
    block_patron(circ.db, circ.desk("QX"), patron, "核查中")
    with pytest.raises(PatronBlocked):
        place_hold(circ.db, circ.desk("QX"), patron, shelf, circ.desk("QX").point)
    assert checkin(circ.db, circ.desk("QX"), "31001").loan is not None


def test_fine_2_payment_in_parts_closes_the_fine(circ):
    patron = circ.patron("20001")
    fine = charge(circ.db, circ.desk("QX"), patron, FineKind.DAMAGED, Decimal("12.00"))
    pay(circ.db, circ.desk("QX"), fine, Decimal("5"))
    assert fine.outstanding == Decimal("7.00") and fine.closed_at is None
    with pytest.raises(InvalidCirculationInput):
        pay(circ.db, circ.desk("QX"), fine, Decimal("7.01"))
    pay(circ.db, circ.desk("QX"), fine)
    assert fine.outstanding == Decimal("0") and fine.closed_at is not None


def test_fine_3_waiver_needs_a_reason(circ):
    patron = circ.patron("20001")
    fine = charge(circ.db, circ.desk("QX"), patron, FineKind.OVERDUE, Decimal("3.00"))
    with pytest.raises(InvalidCirculationInput):
        waive(circ.db, circ.desk("QX"), fine, "")
    waive(circ.db, circ.desk("QX"), fine, "特殊困难读者", Decimal("1.00"))
    assert fine.waived == Decimal("1.00") and fine.outstanding == Decimal("2.00")


def test_fine_4_every_charge_payment_and_waiver_ledgered(circ):
    patron = circ.patron("20001")
    fine = charge(circ.db, circ.desk("QX"), patron, FineKind.MANUAL, Decimal("4.00"))
    pay(circ.db, circ.desk("QX"), fine, Decimal("1.50"))
    waive(circ.db, circ.desk("QX"), fine, "减免")
    rows = [(e.event, e.details["amount"]) for e in events(circ.db)]
    assert rows == [("fine_charged", "4.00"), ("fine_paid", "1.50"), ("fine_waived", "2.50")]


def test_status_6_copy_on_loan_declared_lost_closes_loan_and_charges_price(circ, shelf):
    circ.patron("20001")
    checkout(circ.db, circ.desk("QX"), "20001", "31001")
    copy = circ.db.scalar(select(Loan)).copy
    set_status(circ.db, circ.desk("QX01"), copy, CopyStatus.LOST, "读者遗失")
    loan = circ.db.scalar(select(Loan))
    assert loan.outcome == "lost" and loan.returned_at is not None
    assert copy.status == CopyStatus.LOST
    [fine] = circ.db.scalars(select(Fine))
    assert fine.kind == "lost" and fine.amount == Decimal("36.00")


def test_status_7_found_copy_waives_unpaid_lost_charge_and_fills_a_hold(circ, shelf):
    circ.patron("20001")
    checkout(circ.db, circ.desk("QX"), "20001", "31001")
    copy = circ.db.scalar(select(Loan)).copy
    set_status(circ.db, circ.desk("QX"), copy, CopyStatus.LOST, "读者遗失")
    fine = circ.db.scalar(select(Fine))
    pay(circ.db, circ.desk("QX"), fine, Decimal("10.00"))
    for barcode in ("31002", "31003", "31004", "31005"):
        circ.db.scalar(select(type(copy)).where(type(copy).barcode == barcode)).status = "missing"
    waiting = circ.patron("20002")
    hold = place_hold(circ.db, circ.desk("QX"), waiting, shelf, circ.desk("QX").point)
    assert hold.status == HoldStatus.WAITING
    set_status(circ.db, circ.desk("QX"), copy, CopyStatus.AVAILABLE, "读者找到送回")
    assert fine.paid == Decimal("10.00") and fine.waived == Decimal("26.00")
    assert fine.closed_at is not None
    assert hold.status == HoldStatus.TARGETED and hold.copy is copy
