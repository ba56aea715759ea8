"""MOVE-1..2 and ROTATION-1..6: a copy's home changes, and a season's batch for a village."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from catalog.errors import Conflict
from catalog.network import point_by_code
from catalog.records import Copy, CopyStatus
from circulation.checkin import checkin, receive
from circulation.errors import CirculationRefused, InvalidCirculationInput
from circulation.figures.holdings import held_by_point
from circulation.ledger import LedgerEntry
from circulation.loans import checkout
from circulation.models import Transit
from circulation.rotation.batches import (
    close_if_back,
    create_batch,
    recall_batch,
    send_batch,
)
from circulation.rotation.models import BatchStatus
from circulation.rotation.moves import transfer
from tests.circulation.conftest import WEDNESDAY

LATER = WEDNESDAY + dt.timedelta(days=2)


@pytest.fixture
def shelf(circ):
    record = circ.record("小麦高产栽培技术")
    for n in range(5):
        circ.copy(f"3100{n}", circ.record(f"农技读本{n}") if n else record, "QX")
    circ.patron("20001", home="QX01V01")
    circ.db.commit()
    return circ


def copy(db, barcode: str) -> Copy:
    return db.scalar(select(Copy).where(Copy.barcode == barcode))


def village(db):
    return point_by_code(db, "QX01V01")


def test_move_1_move_2_transfer_is_a_ledger_event(shelf):
    db = shelf.db
    transfer(db, shelf.desk("QX"), copy(db, "31000"), "QX02")
    assert copy(db, "31000").home_point.code == "QX02"
    [moved] = db.scalars(select(LedgerEntry).where(LedgerEntry.event == "copy_moved"))
    assert moved.details == {"from": point_by_code(db, "QX").id, "to": point_by_code(db, "QX02").id,
                             "why": "transfer"}  # fmt: skip
    checkout(db, shelf.desk("QX02"), "20001", "31001")
    with pytest.raises(Conflict):  # only a copy on the shelf can move
        transfer(db, shelf.desk("QX"), copy(db, "31001"), "QX02")


def test_rotation_1_a_batch_of_copies_on_this_shelf(shelf):
    db = shelf.db
    checkout(db, shelf.desk("QX"), "20001", "31004")
    batch, left = create_batch(db, shelf.desk("QX"), "春季农技", village(db),
                               ["31000", "31001", "31004", "nope", "31000"],
                               dt.date(2027, 3, 31))  # fmt: skip
    assert [c.copy.barcode for c in batch.copies] == ["31000", "31001"]
    assert [(x.barcode, x.zh) for x in left] == [("31004", "不在本馆架上"), ("nope", "没有该图书")]
    _, again = create_batch(db, shelf.desk("QX"), "又一批", village(db), ["31000", "31002"])
    assert [(x.barcode, x.en) for x in again] == [("31000", "already in an open batch")]
    with pytest.raises(InvalidCirculationInput):
        create_batch(db, shelf.desk("QX"), "", village(db), ["31003"])


def test_rotation_2_sending_puts_the_copies_in_the_van(shelf):
    db = shelf.db
    batch, _ = create_batch(db, shelf.desk("QX"), "春季农技", village(db), ["31000", "31001"])
    checkout(db, shelf.desk("QX"), "20001", "31001")  # lent before the van came
    left = send_batch(db, shelf.desk("QX"), batch)
    assert [x.barcode for x in left] == ["31001"] and batch.status == BatchStatus.SENT
    transit = db.scalar(select(Transit))
    assert (transit.reason, transit.batch_id, transit.to_point.code) == ("rotation", batch.id,
                                                                          "QX01V01")  # fmt: skip
    with pytest.raises(CirculationRefused):
        send_batch(db, shelf.desk("QX"), batch)


def test_rotation_3_received_copies_belong_to_the_village_for_the_season(shelf):
    db = shelf.db
    batch, _ = create_batch(db, shelf.desk("QX"), "春季农技", village(db), ["31000", "31001"])
    send_batch(db, shelf.desk("QX"), batch)
    receipt = receive(db, shelf.desk("QX01V01", LATER), "31000")
    assert receipt.action == "shelve" and copy(db, "31000").home_point.code == "QX01V01"
    assert held_by_point(db, LATER.date())[village(db).id] == {"book": 1}
    checkout(db, shelf.desk("QX01V01", LATER), "20001", "31000")
    loan = db.scalars(select(LedgerEntry).where(LedgerEntry.event == "checkout")).all()[-1]
    assert loan.copy_home_point_id == village(db).id  # its loans are the village's
    back = checkin(db, shelf.desk("QX01", LATER), "31000")  # returned at the branch
    assert back.action == "transit" and back.destination.code == "QX01V01"


def test_rotation_4_recall_sends_them_home(shelf):
    db = shelf.db
    batch, _ = create_batch(db, shelf.desk("QX"), "春季农技", village(db),
                            ["31000", "31001", "31002"])  # fmt: skip
    send_batch(db, shelf.desk("QX"), batch)
    receive(db, shelf.desk("QX01V01", LATER), "31000")
    receive(db, shelf.desk("QX01V01", LATER), "31001")
    checkout(db, shelf.desk("QX01V01", LATER), "20001", "31001")
    recall_batch(db, shelf.desk("QX", LATER), batch)
    assert batch.status == BatchStatus.RECALLED
    assert {copy(db, b).home_point.code for b in ("31000", "31001", "31002")} == {"QX"}
    on_shelf = checkin(db, shelf.desk("QX01V01", LATER), "31000")
    assert on_shelf.action == "transit" and on_shelf.destination.code == "QX"
    returned = checkin(db, shelf.desk("QX01V01", LATER), "31001")
    assert returned.action == "transit" and returned.destination.code == "QX"
    in_van = receive(db, shelf.desk("QX01V01", LATER), "31002")  # arrived after the recall
    assert in_van.action == "transit" and in_van.destination.code == "QX"


def test_rotation_5_a_recalled_batch_closes_when_all_are_home(shelf):
    db = shelf.db
    batch, _ = create_batch(db, shelf.desk("QX"), "春季农技", village(db), ["31000", "31001"])
    send_batch(db, shelf.desk("QX"), batch)
    for barcode in ("31000", "31001"):
        receive(db, shelf.desk("QX01V01", LATER), barcode)
    recall_batch(db, shelf.desk("QX", LATER), batch)
    checkin(db, shelf.desk("QX01V01", LATER), "31000")
    receive(db, shelf.desk("QX", LATER), "31000")
    assert not close_if_back(db, shelf.desk("QX", LATER), batch)
    checkin(db, shelf.desk("QX01V01", LATER), "31001")
    receive(db, shelf.desk("QX", LATER), "31001")
    assert close_if_back(db, shelf.desk("QX", LATER), batch)
    assert batch.status == BatchStatus.CLOSED
    assert copy(db, "31001").status == CopyStatus.AVAILABLE


def test_rotation_6_batch_list_and_slips_through_the_pages(app, client, shelf, make_token):
    from tests.conftest import bearer, csrf_token, login

    db = shelf.db
    admin = bearer(make_token("network_admin"))
    made = client.post("/api/v1/rotation/batches", headers=admin, json={
        "name": "春季农技", "to": "QX01V01", "barcodes": ["31000", "31001", "gone"],
        "recall_on": "2027-03-31", "point": "QX"})  # fmt: skip
    assert made.status_code == 201, made.json
    assert [x["barcode"] for x in made.json["left_out"]] == ["gone"]
    batch_id = made.json["batch"]["id"]
    sent = client.post(f"/api/v1/rotation/batches/{batch_id}/send", json={"point": "QX"},
                       headers=admin)  # fmt: skip
    assert sent.json["batch"]["status"] == "sent"
    listed = client.get(f"/api/v1/rotation/batches/{batch_id}", headers=admin).json
    assert [(c["barcode"], c["status"], c["original_home"]) for c in listed["copies"]] == [
        ("31000", "in_transit", "QX"), ("31001", "in_transit", "QX")]  # fmt: skip
    app.test_cli_runner().invoke(args=["users", "add", "boss", "--role", "network_admin",
                                       "--password", "password-123"])  # fmt: skip
    login(client, "boss", "password-123")
    page = client.get(f"/staff/rotation/{batch_id}").get_data(as_text=True)
    assert "春季农技" in page and 'data-barcode="31001"' in page
    slip = client.get(f"/staff/rotation/{batch_id}?paper=80mm").get_data(as_text=True)
    assert "paper-80mm" in slip and "小麦高产栽培技术" in slip
    token = csrf_token(client, "/staff/rotation/")
    client.post(f"/staff/rotation/{batch_id}/recall", data={"csrf_token": token})
    db.expire_all()
    assert (
        client.get(f"/api/v1/rotation/batches/{batch_id}", headers=admin).json["status"]
        == "recalled"
    )
