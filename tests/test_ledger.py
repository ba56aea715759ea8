"""The circulation ledger is append-only: the database itself refuses UPDATE and DELETE."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import DBAPIError

from catalog.network import point_by_code
from circulation.ledger import LedgerEntry, LedgerEvent, append


def test_ledger_2_append_only_update_and_delete_refused(db, network):
    point = point_by_code(db, "QX01")
    append(
        db,
        LedgerEvent.STATUS_CHANGED,
        point_id=point.id,
        actor="staff:test",
        details={"from": "available", "to": "missing"},
    )
    db.commit()
    assert db.scalar(select(func.count(LedgerEntry.id))) == 1

    with pytest.raises(DBAPIError, match="append-only"):
        db.execute(update(LedgerEntry).values(actor="staff:someone-else"))
    db.rollback()
    with pytest.raises(DBAPIError, match="append-only"):
        db.execute(delete(LedgerEntry))
    db.rollback()
    entry = db.scalar(select(LedgerEntry))
    assert entry.actor == "staff:test"
    assert entry.details == {"from": "available", "to": "missing"}


def test_ledger_3_only_erasing_the_patron_link_is_allowed(db, network):
    from circulation.patrons import Patron

    point = point_by_code(db, "QX01")
    patron = Patron(card="2000000009", name="赵六", category="adult", home_point=point)
    db.add(patron)
    db.flush()
    append(db, LedgerEvent.CHECKOUT, point_id=point.id, actor="staff:test", patron_id=patron.id,
           patron_home_point_id=point.id, details={"loan_id": 1})  # fmt: skip
    db.commit()

    with pytest.raises(DBAPIError, match="append-only"):  # erasing and changing something else
        db.execute(update(LedgerEntry).values(patron_id=None, actor="staff:other"))
    db.rollback()
    with pytest.raises(DBAPIError, match="append-only"):  # pointing the row at someone else
        db.execute(update(LedgerEntry).values(patron_home_point_id=None))
    db.rollback()
    db.execute(update(LedgerEntry).values(patron_id=None))
    db.commit()
    entry = db.scalar(select(LedgerEntry))
    assert entry.patron_id is None
    assert entry.patron_home_point_id == point.id  # figures by patron's home point survive
    assert entry.details == {"loan_id": 1}


def test_ledger_1_an_event_is_written_with_its_change_or_not_at_all(db, network):
    """A checkout's ledger row has its time, point, actor, copy, patron and both home points,
    and goes with the transaction: rolled back, neither the loan nor its row remains."""
    from circulation.loans import checkout
    from circulation.models import Loan
    from tests.circulation.conftest import Circ

    circ = Circ(db)
    circ.copy("31001", circ.record(), "QX")
    circ.patron("20001", home="QX02")
    db.commit()
    checkout(db, circ.desk("QX01", actor="terminal:kiosk-1"), "20001", "31001")
    db.rollback()
    assert db.scalar(select(func.count(LedgerEntry.id))) == 0
    assert db.scalar(select(func.count(Loan.id))) == 0
    checkout(db, circ.desk("QX01", actor="terminal:kiosk-1"), "20001", "31001")
    db.commit()
    entry = db.scalar(select(LedgerEntry))
    assert (entry.event, entry.actor) == ("checkout", "terminal:kiosk-1")
    assert entry.point_id == point_by_code(db, "QX01").id
    assert entry.copy_home_point_id == point_by_code(db, "QX").id
    assert entry.patron_home_point_id == point_by_code(db, "QX02").id
    assert entry.occurred_at is not None and entry.patron_id is not None
