"""HOLD-1..11: holds on titles, picked up anywhere; the queue, the pull list, the daily round."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from catalog.network import point_by_code
from catalog.records import CopyStatus
from circulation.checkin import checkin, receive
from circulation.errors import CirculationRefused, PatronBlocked
from circulation.hold_service import cancel_hold, change_pickup, daily_round, place_hold
from circulation.holds import hold_shelf, pull_list, queue_position
from circulation.loans import checkout
from circulation.models import Hold, HoldStatus, PatronNotice, Transit
from circulation.patrons import Patron, PatronStatus
from tests.circulation.conftest import WEDNESDAY, events, set_rule


def at(days: int) -> dt.datetime:
    return WEDNESDAY + dt.timedelta(days=days)


@pytest.fixture
def title(circ):
    return circ.record("三国演义")


def reader(circ, card: str, **kw) -> Patron:
    found = circ.db.scalar(select(Patron).where(Patron.card == card))
    return found or circ.patron(card, **kw)


def hold_for(circ, card: str, record, pickup: str, when: dt.datetime | None = None) -> Hold:
    desk = circ.desk(pickup, when)
    return place_hold(circ.db, desk, reader(circ, card), record, point_by_code(circ.db, pickup))


def refused(code: str, call) -> None:
    with pytest.raises(CirculationRefused) as caught:
        call()
    assert caught.value.code == code, caught.value.message_en


def test_hold_1_placed_and_ledgered(circ, title):
    circ.copy("31001", title, "QX")
    hold = hold_for(circ, "20001", title, "QX01V01")
    assert hold.status == HoldStatus.TARGETED and hold.pickup_point.code == "QX01V01"
    [entry] = events(circ.db, "hold_placed")
    assert entry.details == {"hold_id": hold.id, "record_id": title.id, "pickup": "QX01V01"}


def test_hold_1_refusals(circ, title):
    circ.copy("31001", title, "QX")
    hold_for(circ, "20001", title, "QX")
    refused("hold_exists", lambda: hold_for(circ, "20001", title, "QX02"))
    other = circ.record("水浒传")
    circ.copy("31002", other, "QX")
    checkout(circ.db, circ.desk("QX"), "20001", "31002")
    refused("already_on_loan", lambda: hold_for(circ, "20001", other, "QX"))
    set_rule(circ.db, max_holds=1)
    third = circ.record("西游记")
    circ.copy("31003", third, "QX")
    refused("hold_limit", lambda: hold_for(circ, "20001", third, "QX"))
    reference = circ.record("辞海")
    circ.copy("31004", reference, "QX", item_type="reference")
    set_rule(circ.db, item_type="reference", lendable=False)
    refused("no_copy_to_hold", lambda: hold_for(circ, "20002", reference, "QX"))
    reader(circ, "20003", status=PatronStatus.CLOSED)
    with pytest.raises(PatronBlocked):
        hold_for(circ, "20003", third, "QX")


def test_hold_2_database_allows_one_promise_per_copy(circ, title):
    copy = circ.copy("31001", title, "QX")
    first = hold_for(circ, "20001", title, "QX")
    assert first.copy is copy
    second = hold_for(circ, "20002", title, "QX")
    assert second.status == HoldStatus.WAITING
    second.status, second.copy = HoldStatus.TARGETED, copy
    with pytest.raises(IntegrityError):
        circ.db.flush()


def test_hold_3_nearest_copy_by_the_tree(circ, title):
    circ.copy("31001", title, "QX02")  # anywhere
    circ.copy("31002", title, "QX")  # the central library
    circ.copy("31003", title, "QX01")  # same branch group as QX01V01
    assert hold_for(circ, "20001", title, "QX01V01").copy.barcode == "31003"
    assert hold_for(circ, "20002", title, "QX01V01").copy.barcode == "31002"
    assert hold_for(circ, "20003", title, "QX01V01").copy.barcode == "31001"
    assert hold_for(circ, "20004", title, "QX01V01").status == HoldStatus.WAITING
    assert pull_list(circ.db, point_by_code(circ.db, "QX01"))[0].barcode == "31003"


def test_hold_3_same_point_first_and_a_copy_at_home_before_a_visitor(circ, title):
    circ.copy("31001", title, "QX02", at="QX01V01")  # visiting
    circ.copy("31002", title, "QX01V01")  # at home
    assert hold_for(circ, "20001", title, "QX01V01").copy.barcode == "31002"
    assert hold_for(circ, "20002", title, "QX01V01").copy.barcode == "31001"


def test_hold_4_pulled_copy_traps_its_own_hold(circ, title):
    circ.copy("31001", title, "QX")
    hold = hold_for(circ, "20001", title, "QX02")
    receipt = checkin(circ.db, circ.desk("QX"), "31001")  # pulled from the shelf
    assert receipt.action == "transit" and receipt.destination.code == "QX02"
    assert hold.status == HoldStatus.IN_TRANSIT and hold.trapped_at is not None


def test_hold_4_returned_copy_fills_the_oldest_hold_and_frees_its_target(circ, title):
    on_shelf = circ.copy("31001", title, "QX02")
    lent = circ.copy("31002", title, "QX")
    reader(circ, "20009")
    checkout(circ.db, circ.desk("QX"), "20009", "31002")
    first = hold_for(circ, "20001", title, "QX", at(1))  # gets the copy on QX02's shelf
    second = hold_for(circ, "20002", title, "QX", at(2))  # waits
    assert first.copy is on_shelf and second.status == HoldStatus.WAITING
    receipt = checkin(circ.db, circ.desk("QX", at(3)), "31002")
    assert receipt.action == "hold_shelf" and receipt.hold.id == first.id
    assert first.copy is lent and first.status == HoldStatus.READY
    assert second.status == HoldStatus.TARGETED and second.copy is on_shelf
    assert "other_copy_released" in [n.code for n in receipt.notes]


def test_hold_5_hold_shelf_date_skips_closed_days_and_notice_written(circ, title):
    circ.copy("31001", title, "QX01V01")
    hold = hold_for(circ, "20001", title, "QX01V01")
    checkin(circ.db, circ.desk("QX01V01"), "31001")
    # Wednesday + 7 = Wednesday 12-09; the bookshop opens Saturday and Sunday.
    assert hold.shelf_until == dt.date(2026, 12, 12)
    [notice] = circ.db.scalars(select(PatronNotice))
    assert notice.kind == "hold_ready" and "白沙村农家书屋" in notice.message_zh


def test_hold_6_queue_position(circ, title):
    circ.copy("31001", title, "QX")
    holds = [hold_for(circ, f"2000{n}", title, "QX", at(n)) for n in (1, 2, 3)]
    assert [queue_position(circ.db, h) for h in holds] == [1, 2, 3]
    checkin(circ.db, circ.desk("QX", at(4)), "31001")  # first hold now on the shelf
    assert [queue_position(circ.db, h) for h in holds] == [None, 1, 2]


def test_hold_7_cancel_releases_the_shelf_copy_to_the_next_hold(circ, title):
    circ.copy("31001", title, "QX")
    first = hold_for(circ, "20001", title, "QX", at(0))
    second = hold_for(circ, "20002", title, "QX02", at(1))
    checkin(circ.db, circ.desk("QX", at(2)), "31001")
    assert first.status == HoldStatus.READY
    routing = cancel_hold(circ.db, circ.desk("QX", at(3)), first, "读者来电取消")
    assert first.status == HoldStatus.CANCELLED and first.close_reason == "读者来电取消"
    assert routing.action == "transit" and routing.destination.code == "QX02"
    assert second.status == HoldStatus.IN_TRANSIT
    assert events(circ.db, "hold_cancelled")[0].details["reason"] == "读者来电取消"
    refused("hold_closed", lambda: cancel_hold(circ.db, circ.desk("QX"), first, "again"))


def test_hold_8_change_pickup(circ, title):
    circ.copy("31001", title, "QX")
    hold = hold_for(circ, "20001", title, "QX")
    checkin(circ.db, circ.desk("QX"), "31001")
    assert hold.status == HoldStatus.READY
    change_pickup(circ.db, circ.desk("QX"), hold, point_by_code(circ.db, "QX02"))
    assert hold.status == HoldStatus.IN_TRANSIT
    transit = circ.db.scalar(select(Transit).where(Transit.closed_at.is_(None)))
    assert transit.to_point.code == "QX02" and transit.hold_id == hold.id
    receive(circ.db, circ.desk("QX02"), "31001")
    assert hold.status == HoldStatus.READY and hold.copy.current_point.code == "QX02"
    assert events(circ.db, "hold_pickup_changed")[0].details["to"] == "QX02"


def test_hold_8_pickup_changed_while_in_transit_is_sent_on(circ, title):
    circ.copy("31001", title, "QX")
    hold = hold_for(circ, "20001", title, "QX01")
    checkin(circ.db, circ.desk("QX"), "31001")  # to QX01
    change_pickup(circ.db, circ.desk("QX"), hold, point_by_code(circ.db, "QX02"))
    receipt = checkin(circ.db, circ.desk("QX01"), "31001")
    assert receipt.action == "transit" and receipt.destination.code == "QX02"
    receipt = checkin(circ.db, circ.desk("QX02"), "31001")
    assert receipt.action == "hold_shelf"


def test_hold_9_filled_with_another_copy_releases_the_shelf_copy(circ, title):
    circ.copy("31001", title, "QX")
    circ.copy("31002", title, "QX02")
    hold = hold_for(circ, "20001", title, "QX")
    checkin(circ.db, circ.desk("QX"), "31001")  # on QX's hold shelf
    receipt = checkout(circ.db, circ.desk("QX02"), "20001", "31002")  # took the other one
    assert hold.status == HoldStatus.FILLED
    shelf_copy = circ.db.scalar(select(type(hold.copy)).where(type(hold.copy).barcode == "31001"))
    assert shelf_copy.status == CopyStatus.AVAILABLE and shelf_copy.current_point.code == "QX"
    assert "hold_filled" in [n.code for n in receipt.notes]


def test_hold_10_daily_round_expires_and_is_idempotent(circ, title):
    circ.copy("31001", title, "QX01")
    first = hold_for(circ, "20001", title, "QX02", at(0))
    second = hold_for(circ, "20002", title, "QX", at(1))
    checkin(circ.db, circ.desk("QX01", at(1)), "31001")
    receive(circ.db, circ.desk("QX02", at(2)), "31001")
    assert first.status == HoldStatus.READY
    day = at(30)
    report = daily_round(circ.db, circ.desk("QX", day, actor="system:daily"))
    assert [h.id for h, _ in report.expired] == [first.id]
    assert first.status == HoldStatus.EXPIRED
    [(_, routing)] = report.expired
    assert routing.action == "transit" and routing.destination.code == "QX"  # to the next hold
    assert second.status == HoldStatus.IN_TRANSIT
    expired_entry = events(circ.db, "hold_expired")[0]
    assert expired_entry.point_id == point_by_code(circ.db, "QX02").id
    assert expired_entry.actor == "system:daily"
    kinds = [n.kind for n in circ.db.scalars(select(PatronNotice).order_by(PatronNotice.id))]
    assert kinds == ["hold_ready", "hold_expired"]
    before = len(events(circ.db))
    again = daily_round(circ.db, circ.desk("QX", day, actor="system:daily"))
    assert again.expired == [] and again.retargeted == 0 and len(events(circ.db)) == before


def test_hold_10_daily_round_targets_waiting_holds(circ, title):
    copy = circ.copy("31001", title, "QX")
    copy.status = CopyStatus.IN_PROCESSING
    hold = hold_for(circ, "20001", title, "QX")
    assert hold.status == HoldStatus.WAITING
    copy.status = CopyStatus.AVAILABLE
    report = daily_round(circ.db, circ.desk("QX"))
    assert report.retargeted == 1 and hold.copy is copy


def test_hold_11_pull_list_in_shelf_order_and_hold_shelf(circ, title):
    other = circ.record("水浒传")
    circ.copy("31001", title, "QX").call_number = "I242.4/5"
    circ.copy("31002", other, "QX").call_number = "I242.4/12"
    hold_for(circ, "20001", title, "QX02")
    hold_for(circ, "20002", other, "QX")
    lines = pull_list(circ.db, point_by_code(circ.db, "QX"))
    assert [ln.call_number for ln in lines] == ["I242.4/5", "I242.4/12"]
    assert [ln.pickup_code for ln in lines] == ["QX02", "QX"]
    checkin(circ.db, circ.desk("QX"), "31002")
    assert [h.patron.card for h in hold_shelf(circ.db, point_by_code(circ.db, "QX"))] == ["20002"]
