"""STATUS-1..5 in docs/circulation.md: a copy's status outside loans, and the ledger rows it writes."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from catalog.errors import Conflict
from catalog.holdings import copies_held_by_point
from catalog.network import point_by_code
from catalog.records import Copy, CopyStatus, Record
from circulation.copy_status import InvalidStatus, change_status
from circulation.ledger import LedgerEntry


@pytest.fixture
def copy(db, network) -> Copy:
    point = point_by_code(db, "QX01")
    item = Copy(barcode="3100000001", record=Record(title="乡村医生手册"), home_point=point,
                current_point=point)  # fmt: skip
    db.add(item)
    db.commit()
    return item


def set_status(db, copy: Copy, status: str, reason: str = "") -> None:
    change_status(db, copy, status, reason=reason, point_id=copy.current_point_id, actor="staff:t")
    db.commit()


def ledger(db) -> list[dict]:
    return [e.details for e in db.scalars(select(LedgerEntry).order_by(LedgerEntry.id))]


def test_status_1_change_needs_a_reason_and_is_ledgered(db, copy):
    with pytest.raises(InvalidStatus):
        set_status(db, copy, CopyStatus.DAMAGED)
    db.rollback()
    set_status(db, copy, CopyStatus.DAMAGED, "封面脱落")
    assert copy.status == "damaged" and copy.status_reason == "封面脱落"
    assert ledger(db) == [{"from": "available", "to": "damaged", "reason": "封面脱落"}]
    entry = db.scalar(select(LedgerEntry))
    assert entry.event == "status_changed" and entry.point_id == copy.current_point_id


@pytest.mark.parametrize(
    "busy", [CopyStatus.ON_LOAN, CopyStatus.ON_HOLD_SHELF, CopyStatus.IN_TRANSIT]
)
def test_status_2_copy_in_circulation_must_be_checked_in_first(db, copy, busy):
    copy.status = busy
    db.commit()
    with pytest.raises(Conflict, match="check it in first"):
        set_status(db, copy, CopyStatus.MISSING, "盘点未见")
    db.rollback()
    assert ledger(db) == []


def test_status_3_same_status_is_refused(db, copy):
    with pytest.raises(Conflict, match="already available"):
        set_status(db, copy, CopyStatus.AVAILABLE)


def test_status_4_lost_copy_that_turns_up_is_restored(db, copy):
    set_status(db, copy, CopyStatus.LOST, "读者报失")
    set_status(db, copy, CopyStatus.AVAILABLE)
    assert copy.status == "available"
    assert [d["to"] for d in ledger(db)] == ["lost", "available"]


def test_status_5_withdrawn_and_lost_copies_are_not_held(db, copy):
    point_id = copy.home_point_id
    assert copies_held_by_point(db) == {point_id: 1}
    set_status(db, copy, CopyStatus.WITHDRAWN, "剔旧")
    assert copies_held_by_point(db) == {}
