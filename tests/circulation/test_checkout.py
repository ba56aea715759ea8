"""CHECKOUT-1..11 (docs/circulation.md): lending anywhere, and every refusal."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from catalog.network import ClosedDay, point_by_code
from catalog.records import Copy, CopyStatus
from circulation.blocks import block_patron
from circulation.checkin import checkin
from circulation.errors import CirculationRefused, CopyNotFound, PatronBlocked, PatronNotFound
from circulation.hold_service import place_hold
from circulation.loans import checkout
from circulation.models import HoldStatus, Loan, Transit
from circulation.patrons import PatronStatus
from tests.circulation.conftest import events, set_rule


@pytest.fixture
def book(circ):
    record = circ.record()
    circ.copy("31001", record, "QX")
    circ.patron("20001")
    return record


def refused(code: str, call) -> CirculationRefused:
    with pytest.raises(CirculationRefused) as caught:
        call()
    assert caught.value.code == code, caught.value.message_en
    return caught.value


def test_checkout_1_any_point_lends_any_copy_and_the_loan_records_it(circ, book):
    receipt = checkout(circ.db, circ.desk("QX01V01"), "20001", "31001")
    loan = circ.db.get(Loan, receipt.loan.id)
    assert loan.point.code == "QX01V01" and loan.returned_at is None
    copy = loan.copy
    assert copy.status == CopyStatus.ON_LOAN and copy.current_point.code == "QX01V01"
    [entry] = events(circ.db, "checkout")
    assert entry.point_id == point_by_code(circ.db, "QX01V01").id
    assert entry.copy_home_point_id == point_by_code(circ.db, "QX").id
    assert entry.patron_home_point_id == point_by_code(circ.db, "QX01").id
    assert entry.details["loan_id"] == loan.id and entry.actor == "staff:test"


def test_checkout_1_1_whereabouts_corrected_and_said(circ, book):
    receipt = checkout(circ.db, circ.desk("QX02"), "20001", "31001")
    assert [n.code for n in receipt.notes] == ["whereabouts_corrected"]
    assert "清溪县图书馆" in receipt.notes[0].zh


def test_checkout_1_2_transit_5_copy_in_transit_is_lent_and_its_transit_closed(circ, book):
    circ.copy("31002", book, "QX01")
    checkout(circ.db, circ.desk("QX02"), "20001", "31002")
    checkin(circ.db, circ.desk("QX02"), "31002")  # on its way home to QX01
    circ.patron("20002")
    receipt = checkout(circ.db, circ.desk("QX02W01"), "20002", "31002")
    assert "transit_closed" in [n.code for n in receipt.notes]
    transit = circ.db.scalar(select(Transit))
    assert transit.outcome == "checked_out" and transit.closed_at is not None
    assert transit.closed_point_id == point_by_code(circ.db, "QX02W01").id


def test_checkout_2_blocked_patron_refused_with_every_reason(circ, book):
    patron = circ.patron("20002", status=PatronStatus.CARD_LOST, expires_on=dt.date(2026, 1, 1))
    block_patron(circ.db, circ.desk("QX"), patron, "损坏图书未赔")
    with pytest.raises(PatronBlocked) as caught:
        checkout(circ.db, circ.desk("QX"), "20002", "31001")
    codes = [r["code"] for r in caught.value.details["reasons"]]
    assert codes == ["card_lost", "card_expired", "manual_block"]
    assert "损坏图书未赔" in caught.value.message_zh


def test_checkout_2_unknown_card_or_barcode(circ, book):
    with pytest.raises(PatronNotFound):
        checkout(circ.db, circ.desk("QX"), "nobody", "31001")
    with pytest.raises(CopyNotFound):
        checkout(circ.db, circ.desk("QX"), "20001", "nothing")


def test_checkout_3_reference_items_are_not_lent(circ, book):
    circ.copy("31009", book, "QX", item_type="reference")
    set_rule(circ.db, item_type="reference", lendable=False)
    refused("not_lendable", lambda: checkout(circ.db, circ.desk("QX"), "20001", "31009"))


@pytest.mark.parametrize("status", ["withdrawn", "damaged", "in_processing"])
def test_checkout_4_copies_out_of_circulation_refused(circ, book, status):
    circ.copy("31003", book, "QX").status = status
    refused("copy_not_in_circulation", lambda: checkout(circ.db, circ.desk("QX"), "20001", "31003"))


def test_checkout_5_on_loan_to_same_card_says_renew(circ, book):
    checkout(circ.db, circ.desk("QX"), "20001", "31001")
    error = refused("already_on_loan", lambda: checkout(circ.db, circ.desk("QX"), "20001", "31001"))
    assert "续借" in error.message_zh


def test_checkout_5_on_loan_to_another_card_needs_an_override(circ, book):
    checkout(circ.db, circ.desk("QX"), "20001", "31001")
    circ.patron("20002")
    refused("on_loan_to_other", lambda: checkout(circ.db, circ.desk("QX01"), "20002", "31001"))
    receipt = checkout(circ.db, circ.desk("QX01"), "20002", "31001", override="读者归还未扫描")
    assert "previous_loan_closed" in [n.code for n in receipt.notes]
    loans = list(circ.db.scalars(select(Loan).order_by(Loan.id)))
    assert loans[0].returned_at is not None and loans[0].outcome == "returned"
    assert loans[1].returned_at is None and loans[1].patron.card == "20002"
    assert events(circ.db, "checkout")[-1].details["override"] == "读者归还未扫描"


def test_checkout_6_lost_copy_is_restored_and_lent(circ, book):
    circ.copy("31004", book, "QX").status = CopyStatus.LOST
    receipt = checkout(circ.db, circ.desk("QX"), "20001", "31004")
    assert "restored" in [n.code for n in receipt.notes]
    changes = [e.details for e in events(circ.db, "status_changed")]
    assert changes[0]["from"] == "lost" and changes[0]["to"] == "available"


def test_checkout_7_loan_limit(circ, book):
    set_rule(circ.db, max_loans=2)
    for n in (2, 3, 4):
        circ.copy(f"3100{n}", book, "QX")
    checkout(circ.db, circ.desk("QX"), "20001", "31002")
    checkout(circ.db, circ.desk("QX"), "20001", "31003")
    error = refused("loan_limit", lambda: checkout(circ.db, circ.desk("QX"), "20001", "31004"))
    assert error.details["limit"] == 2


def test_checkout_7_item_type_limit_counts_that_type_only(circ, book):
    set_rule(circ.db, item_type="periodical", max_loans=1)
    circ.copy("31005", book, "QX", item_type="periodical")
    circ.copy("31006", book, "QX", item_type="periodical")
    checkout(circ.db, circ.desk("QX"), "20001", "31001")  # a book does not count
    checkout(circ.db, circ.desk("QX"), "20001", "31005")
    refused("loan_limit", lambda: checkout(circ.db, circ.desk("QX"), "20001", "31006"))


def test_checkout_8_1_targeted_copy_lent_and_the_hold_retargeted(circ, book):
    other = circ.patron("20002")
    circ.copy("31002", book, "QX01")
    hold = place_hold(circ.db, circ.desk("QX01"), other, book, point_by_code(circ.db, "QX01"))
    assert hold.copy.barcode == "31002"  # same point first (HOLD-3)
    receipt = checkout(circ.db, circ.desk("QX01"), "20001", "31002")
    assert "hold_requeued" in [n.code for n in receipt.notes]
    assert hold.status == HoldStatus.TARGETED and hold.copy.barcode == "31001"


def test_checkout_8_2_copy_on_hold_shelf_for_another_refused_unless_overridden(circ, book):
    other = circ.patron("20002")
    hold = place_hold(circ.db, circ.desk("QX"), other, book, point_by_code(circ.db, "QX"))
    checkin(circ.db, circ.desk("QX"), "31001")  # pulled: on the hold shelf for 20002
    assert hold.status == HoldStatus.READY
    error = refused(
        "on_hold_for_other", lambda: checkout(circ.db, circ.desk("QX"), "20001", "31001")
    )
    assert "预约" in error.message_zh and error.details["hold_id"] == hold.id
    checkout(circ.db, circ.desk("QX"), "20001", "31001", override="预约读者同意")
    assert hold.status == HoldStatus.WAITING and hold.copy_id is None


def test_checkout_9_own_hold_filled_and_its_other_copy_released(circ, book):
    circ.copy("31002", book, "QX01")
    reader = circ.patron("20004")
    hold = place_hold(circ.db, circ.desk("QX"), reader, book, point_by_code(circ.db, "QX"))
    assert hold.copy.barcode == "31001"
    receipt = checkout(circ.db, circ.desk("QX01"), "20004", "31002")  # borrows the other copy
    assert hold.status == HoldStatus.FILLED and hold.copy.barcode == "31002"
    assert "hold_filled" in [n.code for n in receipt.notes]
    assert [e.details["hold_id"] for e in events(circ.db, "hold_filled")] == [hold.id]


def test_checkout_10_policy_4_due_date_skips_closed_days(circ, book):
    # Wednesday + 30 days = Friday 2027-01-01; the village bookshop opens Saturday and Sunday.
    receipt = checkout(circ.db, circ.desk("QX01V01"), "20001", "31001")
    assert receipt.loan.due_date == dt.date(2027, 1, 2)
    circ.copy("31002", book, "QX01")
    point = point_by_code(circ.db, "QX01")
    point.closed_days = [ClosedDay(day=dt.date(2027, 1, 1), reason="元旦")]
    circ.db.flush()
    receipt = checkout(circ.db, circ.desk("QX01"), "20001", "31002")
    assert receipt.loan.due_date == dt.date(2027, 1, 2)  # Saturday; QX01 opens Tue-Sat


def test_checkout_10_policy_4_1_a_closed_day_taken_away_elsewhere_is_seen(circ, book):
    """The tree in memory notices a closed day added or removed by another process (a plain
    DELETE here, which no session event sees), though it counts only the days ahead."""
    from sqlalchemy import delete

    point = point_by_code(circ.db, "QX01V01")
    point.closed_days = [ClosedDay(day=dt.date(2027, 1, 2), reason="盘点"),
                         ClosedDay(day=dt.date(2020, 1, 1), reason="long ago")]  # fmt: skip
    circ.copy("31002", book, "QX")
    circ.db.commit()
    receipt = checkout(circ.db, circ.desk("QX01V01"), "20001", "31001")
    assert receipt.loan.due_date == dt.date(2027, 1, 3)  # Saturday closed: Sunday
    circ.db.commit()
    circ.db.execute(delete(ClosedDay).where(ClosedDay.day == dt.date(2027, 1, 2)))
    circ.db.commit()
    receipt = checkout(circ.db, circ.desk("QX01V01"), "20001", "31002")
    assert receipt.loan.due_date == dt.date(2027, 1, 2)


def test_checkout_10_loan_days_by_most_specific_rule(circ, book):
    set_rule(circ.db, point="QX01", loan_days=60)
    set_rule(circ.db, patron_category="child", loan_days=14)
    circ.patron("20005", category="child")
    circ.copy("31002", book, "QX")
    at_village = checkout(circ.db, circ.desk("QX01V01"), "20005", "31001")
    assert at_village.loan.due_date == dt.date(2027, 1, 31)  # the point rule wins: Sunday
    at_central = checkout(circ.db, circ.desk("QX"), "20005", "31002")
    assert at_central.loan.due_date == dt.date(2026, 12, 16)


def test_checkout_refusal_writes_nothing(circ, book):
    circ.db.commit()
    circ.patron("20006", status=PatronStatus.CLOSED)
    circ.db.commit()
    with pytest.raises(PatronBlocked):
        checkout(circ.db, circ.desk("QX"), "20006", "31001")
    circ.db.rollback()
    assert circ.db.scalar(select(Loan)) is None and events(circ.db) == []


def test_api_3_a_copy_changed_by_another_desk_meanwhile_is_refused(app, circ, book):
    """The desk that read the copy before another desk lent it cannot write over that loan."""
    from circulation.errors import ConcurrentChange
    from circulation.writes import set_copy_state

    circ.db.commit()
    other = app.extensions["tongjie.sessionmaker"]()
    stale = other.scalar(select(Copy).where(Copy.barcode == "31001"))
    checkout(circ.db, circ.desk("QX"), "20001", "31001")
    circ.db.commit()
    with pytest.raises(ConcurrentChange):
        set_copy_state(other, stale, CopyStatus.AVAILABLE, stale.current_point_id)
    other.rollback()
    other.close()
    assert circ.db.scalar(select(Loan)).returned_at is None
