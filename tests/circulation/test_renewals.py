"""RENEW-1..6: renewing a loan by the lending point's rules."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from catalog.network import point_by_code
from circulation.blocks import block_patron
from circulation.errors import CirculationRefused, PatronBlocked
from circulation.hold_service import place_hold
from circulation.loans import checkout
from circulation.models import Loan
from circulation.renewals import renew
from tests.circulation.conftest import WEDNESDAY, events, set_rule

LATER = WEDNESDAY + dt.timedelta(days=20)


@pytest.fixture
def loan(circ) -> Loan:
    record = circ.record()
    circ.copy("31001", record, "QX")
    circ.patron("20001")
    checkout(circ.db, circ.desk("QX01"), "20001", "31001")
    return circ.db.scalar(select(Loan))


def refused(code: str, call) -> None:
    with pytest.raises(CirculationRefused) as caught:
        call()
    assert caught.value.code == code, caught.value.message_en


def test_renew_1_any_point_renews_an_open_loan(circ, loan):
    receipt = renew(circ.db, circ.desk("QX02", LATER), "31001")
    assert receipt.previous_due_date == dt.date(2027, 1, 1)
    assert loan.renewals == 1 and receipt.loan.point == "QX01"
    [entry] = events(circ.db, "renew")
    assert entry.point_id == point_by_code(circ.db, "QX02").id
    assert (
        entry.details["from"] == "2027-01-01" and entry.details["to"] == loan.due_date.isoformat()
    )
    circ.copy("31002", loan.copy.record, "QX")
    refused("not_on_loan", lambda: renew(circ.db, circ.desk("QX"), "31002"))


def test_renew_2_blocked_patron_may_not_renew(circ, loan):
    block_patron(circ.db, circ.desk("QX"), loan.patron, "证件待核实")
    with pytest.raises(PatronBlocked):
        renew(circ.db, circ.desk("QX", LATER), "31001")


def test_renew_3_overdue_loan_cannot_be_renewed(circ, loan):
    late = dt.datetime(2027, 1, 5, 2, tzinfo=dt.UTC)
    refused("overdue", lambda: renew(circ.db, circ.desk("QX01", late), "31001"))


def test_renew_4_renewal_limit_of_the_lending_point(circ, loan):
    set_rule(circ.db, point="QX01", max_renewals=2)
    renew(circ.db, circ.desk("QX", LATER), "31001")
    renew(circ.db, circ.desk("QX", LATER + dt.timedelta(days=20)), "31001")
    refused(
        "renewal_limit",
        lambda: renew(circ.db, circ.desk("QX", LATER + dt.timedelta(days=40)), "31001"),
    )


def test_renew_5_not_while_another_reader_waits(circ, loan):
    waiting = circ.patron("20002")
    place_hold(circ.db, circ.desk("QX"), waiting, loan.copy.record, point_by_code(circ.db, "QX"))
    refused("hold_waiting", lambda: renew(circ.db, circ.desk("QX", LATER), "31001"))


def test_renew_6_new_due_date_from_today_past_closed_days(circ, loan):
    set_rule(circ.db, max_renewals=3)
    receipt = renew(circ.db, circ.desk("QX", LATER), "31001")
    # 2026-12-22 + 30 = 2027-01-21, a Thursday; the lending point QX01 is open.
    assert receipt.loan.due_date == dt.date(2027, 1, 21)
    refused("renewal_too_soon", lambda: renew(circ.db, circ.desk("QX", LATER), "31001"))
