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
