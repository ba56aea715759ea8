"""Several indexers at once on PostgreSQL (docs/search.md section 8): gunicorn's workers and
``tongjie search worker`` each drain the outbox, which has a row per change, so one record's
rows are often in two indexers' hands at the same moment."""

from __future__ import annotations

import threading

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.migrate import scratch_postgres_database, upgrade
from catalog.db import make_engine
from catalog.records import Record
from catalog.search.indexer import Indexer
from catalog.search.outbox import SearchOutbox
from catalog.search.store import SearchDocument
from tests.conftest import require_service

INDEXERS = 4


def test_four_indexers_draining_one_records_many_rows_write_each_document_once():
    url, drop = scratch_postgres_database(require_service("postgres"))
    engine = make_engine(url, pool_size=INDEXERS + 1)
    try:
        upgrade(url)
        factory = sessionmaker(bind=engine, expire_on_commit=False)
        with factory() as session:
            records = [Record(title=f"并发索引 {i}") for i in range(40)]
            session.add_all(records)
            session.commit()
            session.query(SearchOutbox).delete()
            # a checkout and a return of each record's copies, ten times over, interleaved
            session.add_all(SearchOutbox(record_id=r.id) for _ in range(10) for r in records)
            session.commit()
        barrier = threading.Barrier(INDEXERS)
        failures: list[BaseException] = []

        def drain() -> None:
            with factory() as session:
                barrier.wait()
                try:
                    Indexer().drain(session, batch=25)
                except BaseException as exc:
                    failures.append(exc)

        threads = [threading.Thread(target=drain) for _ in range(INDEXERS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert failures == []
        with Session(engine) as session:
            assert session.scalar(select(func.count()).select_from(SearchOutbox)) == 0
            assert session.scalar(select(func.count()).select_from(SearchDocument)) == 40
    finally:
        engine.dispose()
        drop()


def test_a_background_drain_does_not_queue_behind_another_process():
    """The web workers' indexers (``wait=False``) skip while another process holds the drain,
    and take the rows once it is done; ``tongjie search worker`` and explicit drains wait."""
    from sqlalchemy import text

    from catalog.search.indexer import DRAIN_LOCK

    url, drop = scratch_postgres_database(require_service("postgres"))
    engine = make_engine(url)
    try:
        upgrade(url)
        factory = sessionmaker(bind=engine, expire_on_commit=False)
        with factory() as session:
            session.add(Record(title="后台索引"))
            session.commit()
        with factory() as other, factory() as session:
            other.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": DRAIN_LOCK})
            busy = Indexer().drain(session, wait=False)
            assert busy.busy and busy.records == 0
            assert session.scalar(select(func.count()).select_from(SearchOutbox)) == 1
            other.rollback()  # the other drain is done
            done = Indexer().drain(session, wait=False)
            assert not done.busy and done.records == 1
            assert session.scalar(select(func.count()).select_from(SearchDocument)) == 1
    finally:
        engine.dispose()
        drop()
