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


def test_ledger_4_written_at_commit_in_one_statement_and_dropped_by_a_rollback(app, network):
    """A checkout's ledger row, counts and reindex request wait for the commit; a query of the
    ledger in the transaction sees them; a rollback leaves none. On PostgreSQL the commit
    writes all three in one statement, and an API checkout and check-in at the copy's own
    point stay at 6 and 5 statements (round trips are most of their cost, benchmarks.md): the
    copy's look-up also brings its open loan and says whether its title has an open hold, so an
    unheld title has no holds query (circulation/in_hand.py)."""
    from sqlalchemy import event

    from catalog.records import Copy, Record
    from catalog.search.outbox import SearchOutbox
    from circulation.desk import Desk
    from circulation.figures.aggregates import CirculationDay
    from circulation.loans import checkout
    from circulation.patrons import Patron
    from tests.conftest import bearer

    factory = app.extensions["tongjie.sessionmaker"]
    with factory() as db:
        qx = point_by_code(db, "QX")
        record = Record(title="红楼梦", authors=["曹雪芹"])
        db.add_all([record, Patron(card="20001", name="读者", category="adult", home_point=qx)])
        db.add(Copy(barcode="31001", record=record, home_point=qx, current_point=qx))
        db.commit()
        before = db.scalar(select(func.count(SearchOutbox.id)))
        checkout(db, Desk(qx, "staff:test"), "20001", "31001")
        assert [e.event for e in db.scalars(select(LedgerEntry))] == ["checkout"]  # seen
        db.rollback()
        assert db.scalar(select(func.count(LedgerEntry.id))) == 0
        assert db.scalar(select(func.count(CirculationDay.day))) == 0
        assert db.scalar(select(func.count(SearchOutbox.id))) == before

    if app.extensions["tongjie.engine"].dialect.name != "postgresql":
        return
    from app.accounts import add_user, create_token

    with app.app_context():
        from app.db import get_session

        session = get_session()
        add_user(session, "admin", "pw-123456789", "network_admin")
        _, secret = create_token(session, "t", username="admin")
        session.commit()
    client = app.test_client()
    headers = bearer(secret)
    lend = {"card": "20001", "barcode": "31001"}
    client.post("/api/v1/checkouts", json=lend, headers=headers)  # the token's first use
    client.post("/api/v1/checkins", json={"barcode": "31001"}, headers=headers)
    seen: list[str] = []
    event.listen(app.extensions["tongjie.engine"], "before_cursor_execute",
                 lambda *a: seen.append(a[2]))  # fmt: skip
    assert client.post("/api/v1/checkouts", json=lend, headers=headers).status_code == 201
    lent = list(seen)
    seen.clear()
    assert (
        client.post("/api/v1/checkins", json={"barcode": "31001"}, headers=headers).status_code
        == 200
    )
    writes = [s for s in lent if "circulation_ledger" in s]
    assert len(writes) == 1 and "search_outbox" in writes[0] and "circulation_daily" in writes[0]
    assert (len(lent), len(seen)) == (6, 5), (lent, seen)
    assert not any("FROM holds" in s and "EXISTS" not in s for s in lent + seen)
    with factory() as db:
        assert [e.event for e in db.scalars(select(LedgerEntry).order_by(LedgerEntry.id))][-2:] == [
            "checkout",
            "checkin",
        ]
        assert (
            db.scalar(
                select(func.sum(CirculationDay.count)).where(
                    CirculationDay.event == "checkout", CirculationDay.dimension == "point"
                )
            )
            == 2
        )
