"""The figures tests use the circulation tests' small network and desks, and one scripted year.

The year (used by test_year.py and test_exports.py) is described in test_year.py's docstring.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from catalog.network import point_by_code
from catalog.records import Copy
from circulation.checkin import checkin, receive
from circulation.loans import checkout
from circulation.lost import set_status
from circulation.renewals import renew
from circulation.rotation.batches import create_batch, send_batch
from circulation.rotation.moves import transfer
from tests.circulation.conftest import Circ, circ  # noqa: F401 (a fixture, found by name)

YEAR = (dt.date(2026, 1, 1), dt.date(2026, 12, 31))
BEIJING = dt.timezone(dt.timedelta(hours=8))


def at(y: int, m: int, d: int, hour: int = 10, minute: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, hour, minute, tzinfo=BEIJING).astimezone(dt.UTC)


@pytest.fixture
def year(db, network):
    net = Circ(db)
    record = net.record("乡村振兴读本")
    stock = {"QX": (10, dt.date(2025, 6, 1)), "QX01V01": (3, dt.date(2025, 1, 1)),
             "QX01": (4, dt.date(2026, 2, 1)), "QX02": (2, dt.date(2026, 3, 1))}  # fmt: skip
    for code, (n, added) in stock.items():
        for i in range(n):
            net.copy(f"{code}-{i}", record, code).date_added = added
    people = [("20001", "王一", "QX01", None), ("20002", "李二", "QX01V01", None),
              ("20003", "张三", "QX02", dt.date(2026, 6, 30)), ("20004", "赵四", "QX", None)]  # fmt: skip
    for card, name, home, expires in people:
        joined = at(2027, 1, 5) if card == "20004" else at(2025, 1, 1)
        net.patron(card, home=home, name=name, expires_on=expires).created_at = joined
    db.commit()

    def desk(code: str, when: dt.datetime):
        return net.desk(code, when)

    checkout(db, desk("QX", at(2025, 8, 1)), "20004", "QX-9")  # 2025: not in the year
    checkin(db, desk("QX", at(2025, 8, 20)), "QX-9")
    set_status(db, desk("QX02", at(2026, 5, 1)), copy(db, "QX02-1"), "withdrawn", "破损剔旧")
    batch, left = create_batch(db, desk("QX", at(2026, 4, 1)), "春季流转", point_by_code(db, "QX01V01"),
                               ["QX-5", "QX-6", "QX-7"])  # fmt: skip
    assert left == []
    send_batch(db, desk("QX", at(2026, 4, 1, 11)), batch)
    for barcode in ("QX-5", "QX-6", "QX-7"):
        receive(db, desk("QX01V01", at(2026, 4, 2)), barcode)
    checkout(db, desk("QX01", at(2026, 3, 10)), "20001", "QX-0")
    checkin(db, desk("QX02", at(2026, 3, 30)), "QX-0")
    receive(db, desk("QX", at(2026, 4, 1, 9)), "QX-0")  # the van: no loan, no return counted
    checkout(db, desk("QX01V01", at(2026, 4, 11)), "20002", "QX-5")
    renew(db, desk("QX01V01", at(2026, 5, 2)), "QX-5")
    checkin(db, desk("QX01V01", at(2026, 5, 23)), "QX-5")
    checkout(db, desk("QX02", at(2026, 6, 2)), "20003", "QX02-0")
    checkin(db, desk("QX02", at(2026, 6, 16)), "QX02-0")
    checkout(db, desk("QX01", at(2027, 1, 1, 0, 30)), "20001", "QX01-0")  # 2026 in UTC only
    set_status(db, desk("QX", at(2027, 1, 15)), copy(db, "QX-9"), "withdrawn", "剔旧")
    transfer(db, desk("QX01", at(2027, 2, 2)), copy(db, "QX01-3"), "QX02")
    db.commit()
    return db


def copy(db, barcode: str) -> Copy:
    found = db.scalar(select(Copy).where(Copy.barcode == barcode))
    assert found is not None, barcode
    return found


def idle_stock(
    db, net: Circ, n: int, classes: tuple[str, ...] = ("",), qx_population: int = 10
) -> None:
    """``n`` copies of ``n`` new titles added in 2020 and never lent, on the central library's
    shelf, and populations that leave the village bookshop QX01V01 (6 copies, 20 residents)
    the one point below the target: the planner's test network."""
    for i in range(n):
        record = net.record(f"闲置图书{i}")
        record.clc = (classes[i % len(classes)] + "1") if classes[0] else None
        net.copy(f"IDLE{i:02d}", record, "QX").date_added = dt.date(2020, 1, 1)
    point_by_code(db, "QX").population = qx_population
    point_by_code(db, "QX01V01").population = 20
    for code in ("QX01", "QX02", "QX02W01"):  # further below, they would come first
        point_by_code(db, code).population = 0
    db.commit()
