"""CHECKIN-1..4 and TRANSIT-1..6: return anywhere, and what the receipt says to do."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from catalog.network import point_by_code
from catalog.records import CopyStatus
from circulation.checkin import checkin, receive
from circulation.errors import CirculationRefused
from circulation.hold_service import place_hold
from circulation.loans import checkout
from circulation.models import Fine, HoldStatus, Loan, Transit, TransitReason
from circulation.patrons import PatronStatus
from circulation.transits import send, transit_list
from circulation.tree import NetworkTree
from tests.circulation.conftest import WEDNESDAY, events, set_rule

LATER = WEDNESDAY + dt.timedelta(days=3)


@pytest.fixture
def book(circ):
    record = circ.record()
    circ.copy("31001", record, "QX01")  # home: the 城关镇 branch
    circ.patron("20001")
    checkout(circ.db, circ.desk("QX01"), "20001", "31001")
    return record


def test_checkin_1_loan_closes_wherever_returned(circ, book):
    receipt = checkin(circ.db, circ.desk("QX02", LATER), "31001")
    loan = circ.db.scalar(select(Loan))
    assert loan.returned_at is not None and loan.return_point.code == "QX02"
    assert loan.outcome == "returned"
    assert receipt.loan.patron.card == "20001" and receipt.loan.point == "QX01"
    [entry] = events(circ.db, "checkin")
    assert entry.point_id == point_by_code(circ.db, "QX02").id
    assert entry.details["loan_id"] == loan.id


def test_checkin_2_1_hold_here_goes_to_the_hold_shelf(circ, book):
    reader = circ.patron("20002", name="张三丰")
    hold = place_hold(circ.db, circ.desk("QX02"), reader, book, point_by_code(circ.db, "QX02"))
    receipt = checkin(circ.db, circ.desk("QX02", LATER), "31001")
    assert receipt.action == "hold_shelf" and receipt.destination is None
    assert hold.status == HoldStatus.READY and hold.copy.status == CopyStatus.ON_HOLD_SHELF
    assert receipt.hold.patron.slip_name == "张*丰 (…0002)"
    assert "放预约架" in receipt.instruction.zh


def test_checkin_2_1_hold_elsewhere_goes_in_transit_to_the_pickup(circ, book):
    reader = circ.patron("20002")
    hold = place_hold(circ.db, circ.desk("QX"), reader, book, point_by_code(circ.db, "QX02W01"))
    receipt = checkin(circ.db, circ.desk("QX01V01", LATER), "31001")
    assert receipt.action == "transit" and receipt.destination.code == "QX02W01"
    assert hold.status == HoldStatus.IN_TRANSIT
    transit = circ.db.scalar(select(Transit))
    assert transit.reason == TransitReason.HOLD and transit.hold_id == hold.id
    assert [e.event for e in events(circ.db)][-3:] == ["checkin", "hold_trapped", "transit_sent"]


def test_checkin_2_2_floating_group_keeps_the_copy(circ, book):
    point_by_code(circ.db, "QX01").floating = True
    receipt = checkin(circ.db, circ.desk("QX01V01", LATER), "31001")
    assert receipt.action == "shelve" and "floating" in [n.code for n in receipt.notes]
    assert circ.db.scalar(select(Loan)).copy.current_point.code == "QX01V01"
    checkout(circ.db, circ.desk("QX01V01", LATER), "20001", "31001")
    receipt_outside = checkin(circ.db, circ.desk("QX02", LATER), "31001")  # outside the group
    assert receipt_outside.action == "transit" and receipt_outside.destination.code == "QX01"


def test_checkin_2_3_home_point_shelves(circ, book):
    receipt = checkin(circ.db, circ.desk("QX01", LATER), "31001")
    assert receipt.action == "shelve" and receipt.instruction.zh == "上架"


def test_checkin_2_4_elsewhere_goes_home(circ, book):
    receipt = checkin(circ.db, circ.desk("QX02", LATER), "31001")
    assert receipt.action == "transit" and receipt.destination.code == "QX01"
    assert receipt.instruction.zh == "送往 城关镇分馆 (QX01)"
    copy = circ.db.scalar(select(Loan)).copy
    assert copy.status == CopyStatus.IN_TRANSIT and copy.current_point.code == "QX02"


def test_checkin_2_5_copy_sent_elsewhere_stays_where_it_arrives(circ, book):
    checkin(circ.db, circ.desk("QX01", LATER), "31001")
    copy = circ.db.scalar(select(Loan)).copy
    send(circ.db, circ.desk("QX01", LATER), copy, point_by_code(circ.db, "QX02W01"),
         TransitReason.MANUAL)  # fmt: skip
    receipt = checkin(circ.db, circ.desk("QX02W01", LATER), "31001")
    assert receipt.action == "shelve" and copy.current_point.code == "QX02W01"


def test_checkin_2_5_hold_closed_on_the_way_is_routed_again(circ, book):
    from circulation.hold_service import cancel_hold

    reader = circ.patron("20002")
    hold = place_hold(circ.db, circ.desk("QX"), reader, book, point_by_code(circ.db, "QX02W01"))
    checkin(circ.db, circ.desk("QX01V01", LATER), "31001")  # on its way to QX02W01
    cancel_hold(circ.db, circ.desk("QX", LATER), hold, "不需要了")
    receipt = checkin(circ.db, circ.desk("QX02W01", LATER), "31001")
    assert receipt.action == "transit" and receipt.destination.code == "QX01"


def test_checkin_3_1_lost_copy_is_restored_and_routed(circ, book):
    checkin(circ.db, circ.desk("QX01", LATER), "31001")
    copy = circ.db.scalar(select(Loan)).copy
    copy.status = CopyStatus.LOST
    receipt = checkin(circ.db, circ.desk("QX02", LATER), "31001")
    assert "restored" in [n.code for n in receipt.notes]
    assert receipt.action == "transit" and receipt.destination.code == "QX01"


def test_checkin_3_2_transit_received_at_its_destination(circ, book):
    checkin(circ.db, circ.desk("QX02", LATER), "31001")  # in transit home to QX01
    elsewhere = checkin(circ.db, circ.desk("QX01V01", LATER), "31001")
    assert elsewhere.action == "transit" and elsewhere.destination.code == "QX01"
    assert "in_transit_elsewhere" in [n.code for n in elsewhere.notes]
    arrived = checkin(circ.db, circ.desk("QX01", LATER), "31001")
    assert arrived.action == "shelve"
    transit = circ.db.scalar(select(Transit))
    assert transit.outcome == "received"
    assert transit.closed_point_id == point_by_code(circ.db, "QX01").id
    assert len(events(circ.db, "transit_received")) == 1


def test_checkin_3_3_copy_on_another_hold_shelf_is_sent_there(circ, book):
    reader = circ.patron("20002")
    hold = place_hold(circ.db, circ.desk("QX"), reader, book, point_by_code(circ.db, "QX01"))
    checkin(circ.db, circ.desk("QX01", LATER), "31001")
    assert hold.status == HoldStatus.READY
    again = checkin(circ.db, circ.desk("QX01", LATER), "31001")
    assert again.action == "hold_shelf" and "on_hold_shelf" in [n.code for n in again.notes]
    away = checkin(circ.db, circ.desk("QX02", LATER), "31001")  # someone carried it off
    assert away.action == "transit" and away.destination.code == "QX01"
    assert hold.status == HoldStatus.IN_TRANSIT


@pytest.mark.parametrize("status", ["withdrawn", "damaged", "in_processing"])
def test_checkin_3_4_copies_out_of_circulation_refused(circ, book, status):
    checkin(circ.db, circ.desk("QX01", LATER), "31001")
    circ.db.scalar(select(Loan)).copy.status = status
    with pytest.raises(CirculationRefused) as caught:
        checkin(circ.db, circ.desk("QX01", LATER), "31001")
    assert caught.value.code == "copy_not_in_circulation"


def test_checkin_3_5_whereabouts_corrected(circ, book):
    checkin(circ.db, circ.desk("QX01", LATER), "31001")
    receipt = checkin(circ.db, circ.desk("QX01V01", LATER), "31001")  # found at the village
    assert "whereabouts_corrected" in [n.code for n in receipt.notes]
    assert receipt.action == "transit" and receipt.destination.code == "QX01"


def test_checkin_4_returns_taken_from_blocked_and_expired_cards(circ, book):
    patron = circ.db.scalar(select(Loan)).patron
    patron.status = PatronStatus.BLOCKED
    patron.expires_on = dt.date(2026, 1, 1)
    receipt = checkin(circ.db, circ.desk("QX01", LATER), "31001")
    assert receipt.loan is not None and receipt.action == "shelve"


def test_fine_1_overdue_fine_charged_at_return_capped(circ, book):
    set_rule(circ.db, fine_per_day=Decimal("0.20"), fine_cap=Decimal("5.00"))
    due = circ.db.scalar(select(Loan)).due_date
    at = dt.datetime.combine(due + dt.timedelta(days=4), dt.time(2), tzinfo=dt.UTC)
    receipt = checkin(circ.db, circ.desk("QX01", at), "31001")
    assert receipt.loan.days_overdue == 4 and receipt.fine.amount == Decimal("0.80")
    checkout(circ.db, circ.desk("QX01", at), "20001", "31001")
    much_later = at + dt.timedelta(days=400)
    assert checkin(circ.db, circ.desk("QX01", much_later), "31001").fine.amount == Decimal("5.00")
    fines = list(circ.db.scalars(select(Fine).order_by(Fine.id)))
    assert [f.kind for f in fines] == ["overdue", "overdue"]
    assert [e.details["amount"] for e in events(circ.db, "fine_charged")] == ["0.80", "5.00"]


def test_fine_1_no_fine_by_default(circ, book):
    due = circ.db.scalar(select(Loan)).due_date
    at = dt.datetime.combine(due + dt.timedelta(days=10), dt.time(2), tzinfo=dt.UTC)
    receipt = checkin(circ.db, circ.desk("QX01", at), "31001")
    assert receipt.fine is None and receipt.loan.days_overdue == 10
    assert "overdue" in [n.code for n in receipt.notes]


def test_transit_1_database_allows_one_open_transit_per_copy(circ, book):
    checkin(circ.db, circ.desk("QX02", LATER), "31001")
    copy = circ.db.scalar(select(Loan)).copy
    circ.db.add(Transit(copy_id=copy.id, from_point_id=copy.current_point_id,
                        to_point_id=copy.home_point_id, reason="manual", sent_at=LATER))  # fmt: skip
    with pytest.raises(IntegrityError):
        circ.db.flush()


def test_transit_2_sending_is_ledgered(circ, book):
    checkin(circ.db, circ.desk("QX02", LATER), "31001")
    [entry] = events(circ.db, "transit_sent")
    assert entry.point_id == point_by_code(circ.db, "QX02").id
    assert entry.details["to"] == "QX01" and entry.details["reason"] == "home"


def test_transit_3_receive_puts_a_hold_copy_on_the_hold_shelf(circ, book):
    reader = circ.patron("20002")
    hold = place_hold(circ.db, circ.desk("QX"), reader, book, point_by_code(circ.db, "QX02"))
    checkin(circ.db, circ.desk("QX01", LATER), "31001")
    receipt = receive(circ.db, circ.desk("QX02", LATER), "31001")
    assert receipt.action == "hold_shelf" and hold.status == HoldStatus.READY
    assert hold.shelf_until == dt.date(2026, 12, 12)  # 7 days on, a Saturday: QX02 is open


def test_transit_4_receive_elsewhere_or_not_in_transit(circ, book):
    checkin(circ.db, circ.desk("QX02", LATER), "31001")
    elsewhere = receive(circ.db, circ.desk("QX", LATER), "31001")
    assert elsewhere.action == "transit" and elsewhere.destination.code == "QX01"
    receive(circ.db, circ.desk("QX01", LATER), "31001")
    with pytest.raises(CirculationRefused) as caught:
        receive(circ.db, circ.desk("QX01", LATER), "31001")
    assert caught.value.code == "not_in_transit"


def test_transit_6_lists_in_and_out_by_delivery_run(circ, book):
    other = circ.record("水浒传")
    circ.copy("31002", other, "QX01V01")
    checkout(circ.db, circ.desk("QX02"), "20001", "31002")
    checkin(circ.db, circ.desk("QX02", LATER), "31001")
    checkin(circ.db, circ.desk("QX02", LATER), "31002")
    tree = NetworkTree.load(circ.db)
    out = transit_list(circ.db, tree, point_by_code(circ.db, "QX02"), "out")
    assert [(ln.barcode, ln.to_code, ln.run_code) for ln in out] == [
        ("31001", "QX01", "QX01"),
        ("31002", "QX01V01", "QX01"),
    ]
    incoming = transit_list(circ.db, tree, point_by_code(circ.db, "QX01V01"), "in")
    assert [ln.barcode for ln in incoming] == ["31002"]
