"""The transactional outbox (待索引队列) that keeps search in step with the database.

Any flush that adds, changes or deletes a record or a copy adds the record's
id here in the same transaction, so a change is never committed without its
reindex request, and circulation never waits for the search engine: the
indexer drains this table in bulk, whenever the engine is up.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import BigInteger, Integer, event, false, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from catalog.bulk import insert_rows
from catalog.db import Base, table_of, utcnow
from catalog.records import Copy, Record

# Set in ``session.info`` when a transaction queued something, so that the web
# process can wake its indexer right after the commit (app/search.py).
QUEUED = "search_outbox_queued"


class SearchOutbox(Base):
    """One pending "reindex this record" request."""

    __tablename__ = "search_outbox"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    record_id: Mapped[int] = mapped_column(index=True)
    enqueued_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # The embedded index already has this change; only Elasticsearch still lacks it.
    embedded_done: Mapped[bool] = mapped_column(default=False, server_default=false())


def _touched_record_ids(session: Session) -> set[int]:
    ids: set[int] = set()
    dirty = [o for o in session.dirty if session.is_modified(o)]
    for obj in (*session.new, *dirty, *session.deleted):
        if isinstance(obj, Record) and obj.id is not None:
            ids.add(obj.id)
        elif isinstance(obj, Copy):
            record_id = obj.record_id if obj.record_id is not None else obj.record and obj.record.id
            if record_id is not None:
                ids.add(record_id)
    return ids


_PENDING = "tongjie.outbox_pending"


@event.listens_for(Session, "before_flush")
def _enqueue_before_flush(session: Session, _context: Any, _instances: Any) -> None:
    """Note the records changed in this flush (copies point at their record)."""
    session.info[_PENDING] = _touched_record_ids(session)


@event.listens_for(Session, "after_flush")
def _enqueue_after_flush(session: Session, _context: Any) -> None:
    """Queue them with one plain INSERT; new records only have their id by now.

    Outbox rows stay out of the unit of work: nothing reads them back in the session.
    """
    ids = session.info.pop(_PENDING, set())
    ids |= {obj.id for obj in session.new if isinstance(obj, Record)}
    enqueue(session, sorted(ids))


_FEW = 100  # below this, a plain INSERT; above, the bulk path (COPY on PostgreSQL)


def enqueue(session: Session, record_ids: list[int]) -> None:
    """Queue records explicitly, for writes that bypass the ORM unit of work."""
    if not record_ids:
        return
    session.info[QUEUED] = True
    now = utcnow()
    if len(record_ids) < _FEW:
        session.connection().execute(
            table_of(SearchOutbox).insert(),
            [{"record_id": rid, "enqueued_at": now} for rid in record_ids],
        )
        return
    insert_rows(session, SearchOutbox, ("record_id", "enqueued_at"),
                [(rid, now) for rid in record_ids])  # fmt: skip


def index_lag(session: Session) -> dict[str, Any]:
    """How far search is behind: pending requests and the age of the oldest, in seconds."""
    pending, oldest = session.execute(
        select(func.count(SearchOutbox.id), func.min(SearchOutbox.enqueued_at))
    ).one()
    age = 0.0
    if oldest is not None:
        if oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=dt.UTC)
        age = max(0.0, (utcnow() - oldest).total_seconds())
    return {"pending": int(pending), "oldest_seconds": round(age, 1)}
