"""Every change that affects a record's search document queues the record in the same transaction."""

from __future__ import annotations

from sqlalchemy import select

from catalog.network import point_by_code
from catalog.records import Copy, CopyStatus, Record
from catalog.search.outbox import SearchOutbox, index_lag


def queued(db) -> list[int]:
    return list(db.scalars(select(SearchOutbox.record_id).order_by(SearchOutbox.id)))


def test_new_record_new_copy_and_status_change_are_queued(db, network):
    record = Record(title="水稻高产栽培技术", authors=["李明"])
    db.add(record)
    db.commit()
    assert queued(db) == [record.id]

    point = point_by_code(db, "QX01")
    copy = Copy(barcode="3100000001", record=record, home_point=point, current_point=point)
    db.add(copy)
    db.commit()
    assert queued(db) == [record.id, record.id]

    copy.status = CopyStatus.ON_LOAN
    db.commit()
    assert len(queued(db)) == 3
    assert index_lag(db)["pending"] == 3


def test_rolled_back_change_queues_nothing(db, network):
    db.add(Record(title="不会保存的书"))
    db.flush()
    db.rollback()
    assert queued(db) == []
    assert index_lag(db) == {"pending": 0, "oldest_seconds": 0.0}


def test_unchanged_copy_queues_nothing(db, network):
    point = point_by_code(db, "QX")
    record = Record(title="乡村振兴读本")
    db.add(Copy(barcode="3100000002", record=record, home_point=point, current_point=point))
    db.commit()
    before = len(queued(db))
    copy = db.scalar(select(Copy))
    copy.status = copy.status  # assigned but not changed
    db.commit()
    assert len(queued(db)) == before
