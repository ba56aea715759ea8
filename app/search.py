"""Search in the web process: which engine answers, and the indexer that runs after commits.

One ``SearchRuntime`` per app (``app.extensions["tongjie.search"]``). It owns
the Elasticsearch client (when TONGJIE_ELASTICSEARCH_URL is set), the typo
dictionary, and a background thread that drains the outbox: a commit that
queued records wakes it, and it also looks every few seconds (for changes made
by other processes, such as ``tongjie catalog import``). A request never waits
for it. When Elasticsearch fails, searches go to the embedded index for a
while (``DOWN_SECONDS``) without trying the node on every request.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from flask import Flask, current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from catalog.search import service
from catalog.search.elastic import ElasticsearchBackend
from catalog.search.indexer import DrainReport, Indexer
from catalog.search.outbox import QUEUED, index_lag
from catalog.search.pinyin import syllables
from catalog.search.typos import Dictionary

log = logging.getLogger(__name__)
DOWN_SECONDS = 15.0
# After a commit wakes the indexer it waits this long for more before draining, so that a
# busy counter (hundreds of checkouts a second) costs one bulk drain per interval, not one
# drain of one record per checkout (measured: that halved the checkouts a worker served).
GATHER_SECONDS = 0.5


class SearchRuntime:
    def __init__(self, app: Flask) -> None:
        url = app.config["ELASTICSEARCH_URL"]
        self.elasticsearch = ElasticsearchBackend(url, app.config["INDEX_PREFIX"]) if url else None
        self.indexer = Indexer(self.elasticsearch)
        self.dictionary = Dictionary()
        self.background = bool(app.config.get("SEARCH_INDEX_IN_BACKGROUND", not app.testing))
        self.interval = float(app.config.get("SEARCH_INDEX_INTERVAL", 10.0))
        self.gather = float(app.config.get("SEARCH_INDEX_GATHER", GATHER_SECONDS))
        self.sessionmaker = app.extensions["tongjie.sessionmaker"]
        self._down_until = 0.0
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._drain_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        event.listen(self.sessionmaker, "after_commit", self._after_commit)
        event.listen(self.sessionmaker, "after_rollback", self._after_rollback)

    # ------------------------------------------------------------ answering

    @property
    def engine_name(self) -> str:
        return "elasticsearch" if self.elasticsearch is not None else "embedded"

    def engine(self) -> ElasticsearchBackend | None:
        """Elasticsearch unless it failed in the last few seconds (then the embedded index)."""
        if self.elasticsearch is None or time.monotonic() < self._down_until:
            return None
        return self.elasticsearch

    def search(self, session: Session, **kwargs: Any) -> service.Outcome:
        engine = self.engine()
        outcome = service.search(
            session, elasticsearch=engine, dictionary=self.dictionary, **kwargs
        )
        if outcome.degraded:
            self._down_until = time.monotonic() + DOWN_SECONDS
        if self.elasticsearch is not None and engine is None:
            outcome.degraded = True
        return outcome

    def suggest(self, session: Session, q: str, size: int) -> tuple[list[dict[str, Any]], bool]:
        engine = self.engine()
        found, degraded = service.suggest(session, q, size=size, elasticsearch=engine)
        if degraded:
            self._down_until = time.monotonic() + DOWN_SECONDS
        return found, degraded or (self.elasticsearch is not None and engine is None)

    def status(self, session: Session) -> dict[str, Any]:
        """Engine status and index lag, for /healthz and the admin page."""
        if self.elasticsearch is not None:
            status = self.elasticsearch.status()
            if status["status"] == "down":
                status["fallback"] = "embedded"
        else:
            status = {"backend": "embedded", "status": "ok"}
        status["lag"] = index_lag(session)
        return status

    # ------------------------------------------------------------- indexing

    def drain(self, *, refresh: bool = False, wait: bool = True) -> DrainReport:
        """Drain the outbox now, in this thread (one drain at a time per process)."""
        with self._drain_lock:
            session = self.sessionmaker()
            try:
                report = self.indexer.drain(session, refresh=refresh, wait=wait)
            finally:
                session.close()
        if report.records:
            self.dictionary.invalidate()
        if report.elasticsearch_down:
            self._down_until = time.monotonic() + DOWN_SECONDS
        elif self.elasticsearch is not None:
            self._down_until = 0.0  # it took the batch: searches may use it again
        return report

    def wake(self) -> None:
        """Ask the background indexer to drain soon; returns at once."""
        if not self.background:
            return
        self.start()
        self._wake.set()

    def start(self) -> None:
        """Start the background indexer of this process if it is not running."""
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="tongjie-indexer", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        syllables()  # the pinyin table, built once, off the request path
        while not self._stop.is_set():
            try:
                # Several web workers each run one of these: when another is draining, this
                # one does not queue behind it, and looks again after the gathering pause.
                if self.drain(wait=False).busy:
                    self._wake.set()
            except Exception:
                log.exception("search indexer: drain failed; will retry")
            woken = self._wake.wait(timeout=self.interval)
            if woken and self.gather > 0:
                self._stop.wait(self.gather)  # let the commits of the next moment join
            self._wake.clear()

    def _after_commit(self, session: Session) -> None:
        if session.info.pop(QUEUED, False):
            self.wake()

    def _after_rollback(self, session: Session) -> None:
        session.info.pop(QUEUED, None)

    def close(self, *, delete_indices: bool = False) -> None:
        """Stop the indexer thread; tests also drop the indices their prefix made."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        event.remove(self.sessionmaker, "after_commit", self._after_commit)
        event.remove(self.sessionmaker, "after_rollback", self._after_rollback)
        if delete_indices and self.elasticsearch is not None and self.elasticsearch.created_index:
            try:
                self.elasticsearch.delete_all()
            except Exception:
                log.warning("could not delete the test indices of %s", self.elasticsearch.alias)


def runtime() -> SearchRuntime:
    found: SearchRuntime = current_app.extensions["tongjie.search"]
    return found


def init_app(app: Flask) -> None:
    search = SearchRuntime(app)
    app.extensions["tongjie.search"] = search

    @app.before_request
    def _start_indexer() -> None:
        if search.background:
            search.start()
