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
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, mapped_column

from catalog.bulk import insert_rows
from catalog.db import Base, table_of, utcnow, waits_for_commit
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
    """Queue them (new records only have their id by now).

    Outbox rows stay out of the unit of work: they are plain INSERTs at the commit.
    """
    ids = session.info.pop(_PENDING, set())
    ids |= {obj.id for obj in session.new if isinstance(obj, Record)}
    enqueue(session, sorted(ids))


_FEW = 100  # below this, the ids wait for the commit; above, the bulk path now (COPY on PostgreSQL)
_WAITING = waits_for_commit("tongjie.outbox_waiting")  # ids to queue at the commit


def enqueue(session: Session, record_ids: list[int]) -> None:
    """Queue records explicitly, for writes that bypass the ORM unit of work.

    A few ids (a checkout's one record) wait in the session and are written just before
    the commit, where circulation writes them in the same statement as its ledger rows
    (circulation/pending.py); a read of the outbox in the transaction writes them first.
    """
    if not record_ids:
        return
    session.info[QUEUED] = True
    if len(record_ids) < _FEW:
        session.info.setdefault(_WAITING, set()).update(record_ids)
        return
    now = utcnow()
    insert_rows(session, SearchOutbox, ("record_id", "enqueued_at"),
                [(rid, now) for rid in record_ids])  # fmt: skip


def take_waiting(session: Session) -> list[int]:
    """The ids waiting for the commit (in order), handed to whoever writes them now."""
    session.flush()  # a last flush may still queue some (the after-flush listener above)
    return sorted(session.info.pop(_WAITING, ()))


def write_waiting(session: Session) -> None:
    record_ids = take_waiting(session)
    if record_ids:
        now = utcnow()
        session.connection().execute(
            table_of(SearchOutbox).insert(),
            [{"record_id": rid, "enqueued_at": now} for rid in record_ids],
        )


@event.listens_for(Session, "before_commit")
def _write_at_commit(session: Session) -> None:
    write_waiting(session)


@event.listens_for(Session, "do_orm_execute")
def _write_before_reading(state: ORMExecuteState) -> None:
    if state.session.info.get(_WAITING) and any(
        m.class_ is SearchOutbox for m in state.all_mappers
    ):
        write_waiting(state.session)


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
