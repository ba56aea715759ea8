"""The indexer (索引程序): drains the outbox in bulk, and rebuilds whole indexes.

Draining takes outbox rows oldest first, builds each record's document once
from the database, writes the embedded index (in the database, in the same
transaction that deletes the rows) and, when Elasticsearch is configured,
the Elasticsearch index. If Elasticsearch does not answer, the embedded
index is still brought up to date and the rows stay, marked
``embedded_done``, until the node is back: nothing is lost and nothing waits.

A full reindex builds a new Elasticsearch index beside the old one and swaps
the alias when it is complete; the embedded index is rewritten in place, a
batch per transaction, so a search sees the old or the new document of a
record, never none.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.orm import Session

from catalog.network import all_points
from catalog.records import Copy, Record
from catalog.search.document import CopyFacts, Document, PointInfo, build_document, point_infos
from catalog.search.elastic import UNAVAILABLE, ElasticsearchBackend
from catalog.search.embedded import EmbeddedBackend
from catalog.search.outbox import SearchOutbox

log = logging.getLogger(__name__)
BATCH = 500
DRAIN_LOCK = 0x746A5344  # "tjSD": PostgreSQL advisory lock, one drain at a time
Progress = Callable[[int, int], None]


@dataclass
class DrainReport:
    records: int = 0  # records whose documents were written
    elasticsearch_down: bool = False
    seconds: float = 0.0
    busy: bool = False  # another process was draining (``wait=False``): nothing done


# What a document needs of a record's copies, as plain rows (no ORM objects: a drain
# reads them for every copy of every record it indexes).
_COPY_FACTS = select(
    Copy.record_id, Copy.status, Copy.item_type, Copy.current_point_id, Copy.call_number
).order_by(Copy.id)


def build_documents(session: Session, record_ids: list[int],
                    points: dict[int, PointInfo]) -> tuple[list[Document], list[int]]:  # fmt: skip
    """Documents of these records, and the ids of those that no longer exist."""
    records = session.scalars(select(Record).where(Record.id.in_(record_ids))).all()
    copies: dict[int, list[CopyFacts]] = {r.id: [] for r in records}
    for row in session.execute(_COPY_FACTS.where(Copy.record_id.in_(list(copies)))):
        copies[row.record_id].append(row)
    documents = [build_document(r, copies[r.id], points) for r in records]
    return documents, [i for i in record_ids if i not in copies]


class Indexer:
    """Keeps the embedded index and, when configured, Elasticsearch in step with the database."""

    def __init__(self, elasticsearch: ElasticsearchBackend | None = None) -> None:
        self.elasticsearch = elasticsearch

    def drain(self, session: Session, *, batch: int = BATCH, refresh: bool = False,
              max_batches: int | None = None, wait: bool = True) -> DrainReport:  # fmt: skip
        """Index everything the outbox holds, a batch per transaction.

        With ``wait=False`` (the web process's background indexer) a drain that finds another
        process draining returns at once with ``busy`` set: that one is taking the rows.
        """
        started = time.monotonic()
        report = DrainReport()
        points: dict[int, PointInfo] | None = None
        es = self.elasticsearch
        if es is not None and not self._ensure_index(session, es):
            es = None
            report.elasticsearch_down = True
        done = 0
        while max_batches is None or done < max_batches:
            rows = self._claim(
                session,
                batch,
                embedded_only=es is None and self.elasticsearch is not None,
                wait=wait,
            )
            if rows is None:
                report.busy = True
                session.rollback()
                break
            if not rows:
                break
            done += 1
            if points is None:
                points = point_infos(all_points(session))
            ids = sorted({r.record_id for r in rows})
            documents, deleted = build_documents(session, ids, points)
            pending_embedded = sorted({r.record_id for r in rows if not r.embedded_done})
            if pending_embedded:
                wanted = set(pending_embedded)
                EmbeddedBackend(session).write(
                    [d for d in documents if d.record_id in wanted],
                    [i for i in deleted if i in wanted],
                )
            row_ids = [r.id for r in rows]
            if es is not None:
                try:
                    es.write(documents, deleted, refresh=refresh)
                except UNAVAILABLE as exc:
                    log.warning("Elasticsearch did not take the batch (%s); kept in the outbox",
                                type(exc).__name__)  # fmt: skip
                    es = None
                    report.elasticsearch_down = True
            if es is None and self.elasticsearch is not None:
                session.execute(
                    update(SearchOutbox).where(SearchOutbox.id.in_(row_ids))
                    .values(embedded_done=True)
                )  # fmt: skip
            else:
                session.execute(delete(SearchOutbox).where(SearchOutbox.id.in_(row_ids)))
            session.commit()
            report.records += len(ids)
            if len(rows) < batch:
                break  # all there was; what came since wakes the next drain
        report.seconds = time.monotonic() - started
        return report

    def _claim(self, session: Session, batch: int, *, embedded_only: bool,
               wait: bool = True) -> list[SearchOutbox] | None:  # fmt: skip
        """The oldest rows to do, or None when another process holds the drain and ``wait``
        is false.

        On PostgreSQL one batch is drained at a time across every process (a transaction
        advisory lock, released at the batch's commit): the outbox has a row per change, so
        two indexers with different rows of one record would both replace its document (the
        second insert failing on the first, or an older document written last). SQLite has
        one writer anyway."""
        statement = select(SearchOutbox).order_by(SearchOutbox.id).limit(batch)
        if embedded_only:
            statement = statement.where(SearchOutbox.embedded_done.is_(False))
        if session.get_bind().dialect.name == "postgresql":
            if wait:
                session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": DRAIN_LOCK})
            elif not session.scalar(
                text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": DRAIN_LOCK}
            ):
                return None
        return list(session.scalars(statement))

    def _ensure_index(self, session: Session, es: ElasticsearchBackend) -> bool:
        """An Elasticsearch index behind the alias, built in full the first time."""
        try:
            if not es.has_index():
                self.reindex_elasticsearch(session, es)
            return True
        except UNAVAILABLE as exc:
            log.warning("Elasticsearch unavailable (%s): embedded index only", type(exc).__name__)
            return False

    # -------------------------------------------------------------- reindex

    def reindex(self, session: Session, progress: Progress | None = None) -> int:
        """Rebuild the embedded index and, when configured, Elasticsearch; return the records."""
        first_pending = session.scalar(select(func.max(SearchOutbox.id))) or 0
        count = self.reindex_embedded(session, progress)
        if self.elasticsearch is not None:
            self.reindex_elasticsearch(session, self.elasticsearch, progress)
        session.execute(delete(SearchOutbox).where(SearchOutbox.id <= first_pending))
        session.commit()
        return count

    def _batches(self, session: Session) -> list[list[int]]:
        ids = list(session.scalars(select(Record.id).order_by(Record.id)))
        return [ids[i : i + BATCH] for i in range(0, len(ids), BATCH)]

    def reindex_embedded(self, session: Session, progress: Progress | None = None) -> int:
        points = point_infos(all_points(session))
        batches = self._batches(session)
        total = sum(len(b) for b in batches)
        embedded = EmbeddedBackend(session)
        done = 0
        for ids in batches:
            documents, deleted = build_documents(session, ids, points)
            embedded.write(documents, deleted)
            session.commit()
            done += len(ids)
            if progress:
                progress(done, total)
        embedded.clear_missing(i for b in batches for i in b)
        session.commit()
        return total

    def reindex_elasticsearch(self, session: Session, es: ElasticsearchBackend,
                              progress: Progress | None = None) -> int:  # fmt: skip
        """Build a new index from the database, then swap the alias to it and drop the old."""
        points = point_infos(all_points(session))
        batches = self._batches(session)
        total = sum(len(b) for b in batches)
        index = es.create_index(building=True)
        done = 0
        try:
            for ids in batches:
                documents, _ = build_documents(session, ids, points)
                session.rollback()  # end the read transaction between batches
                es.write(documents, [], index=index)
                done += len(ids)
                if progress:
                    progress(done, total)
            old = es.swap_alias(index)
        except BaseException:
            es.delete_indices([index])
            raise
        es.delete_indices(old)
        return total
