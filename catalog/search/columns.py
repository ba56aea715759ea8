"""Every search document's sort and facet values, held in the process (embedded search, SQLite).

A broad query (小说, I24) has ten thousand hits, and its facets count over all
of them; reading ten thousand rows' facet text from the database for every
such search took as long as finding the hits. So each process keeps the
values of every document in memory: about 600 bytes a record (60 MB for
100,000 records, read in 2 s by the process's first search).

It stays current through ``search_documents.seq``: every write numbers the
rows it writes from ``search_sequence``, a counter that only goes up and is
raised in the writing transaction (SQLite lets one transaction write at a
time, so the numbers commit in order), and a search first reads the rows
numbered above the last one it has seen; when nothing was written, that is
one read of the counter. Rows of deleted records stay behind, harmless: a
search only looks up the hits it found.
Replacing the database file under a running server needs a restart, as it
does for everything else the server holds.
"""

from __future__ import annotations

import sqlite3
import sys
import threading
import weakref
from collections import Counter
from collections.abc import Collection
from itertools import chain
from typing import NamedTuple

from sqlalchemy.engine import Engine


class Values(NamedTuple):
    title_length: int
    held: int
    year: int | None
    sort_title: str
    facets: tuple[str, ...]


BITMAPS_FROM = 1500  # hits; below, counting each hit's values is cheaper (measured)


class Reading(NamedTuple):
    hits: set[int]
    facets: dict[str, int]
    values: dict[int, Values]
    ties: dict[int, int]


_SELECT = "SELECT record_id, title_length, held, year, sort_title, facets FROM search_documents"


class Columns:
    """One database's document values, as of the newest ``seq`` read.

    Facets are also kept as one bitmap per facet value over the documents'
    slots, so counting them over ten thousand hits is one AND and one bit
    count per value instead of a count of every value of every hit.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._empty()

    def _empty(self) -> None:
        self.values: dict[int, Values] = {}
        # Relevance's tie-break (shorter title, more copies held, record id) as one number,
        # its last 32 bits the record id.
        self.ties: dict[int, int] = {}
        self.seq: int | None = None
        self._slots: dict[int, int] = {}  # record id -> bit
        self._bits: dict[str, bytearray] = {}  # facet value -> its documents' bits
        self._masks: dict[str, int] = {}  # the same as integers, made when first counted

    def refresh(self, connection: sqlite3.Connection) -> Columns:
        """Read every row written since the last call."""
        with self._lock:
            row = connection.execute("SELECT last FROM search_sequence").fetchone()
            latest = row[0] if row else 0
            if self.seq is None or latest < self.seq:  # first use, or another database file
                self._empty()
                self._load(connection.execute(_SELECT))
            elif latest > self.seq:
                self._load(connection.execute(f"{_SELECT} WHERE seq > ?", (self.seq,)))
            self.seq = latest
        return self

    def _load(self, rows: sqlite3.Cursor) -> None:
        intern = sys.intern
        for record_id, length, held, year, sort_title, facets in rows:
            new = Values(length, held, year, sort_title, tuple(intern(f) for f in facets.split()))
            old = self.values.get(record_id)
            self.values[record_id] = new
            self.ties[record_id] = (length << 64) | ((0xFFFFFFFF - held) << 32) | record_id
            slot = self._slots.setdefault(record_id, len(self._slots))
            byte, bit = slot >> 3, 1 << (slot & 7)
            for facet in old.facets if old else ():
                self._bits[facet][byte] &= ~bit
                self._masks.pop(facet, None)
            for facet in new.facets:
                bits = self._bits.get(facet)
                if bits is None:
                    bits = self._bits[facet] = bytearray()
                if len(bits) <= byte:
                    bits.extend(bytes(byte + 1024 - len(bits)))
                bits[byte] |= bit
                self._masks.pop(facet, None)

    def read(self, ids: set[int]) -> Reading:
        """Those of ``ids`` whose values are here (all of them, when the ids were found before
        the last refresh), their facet counts, and the values to order them by; all as of one
        moment, though another thread may be refreshing."""
        with self._lock:
            hits = ids & self.values.keys()
            return Reading(hits, self._facet_counts(hits), self.values, self.ties)

    def _facet_counts(self, hits: Collection[int]) -> dict[str, int]:
        """How many of these documents have each facet value (under the lock).

        Fewer than BITMAPS_FROM hits are counted value by value: a bitmap AND
        costs the same whatever the hits, about 13 µs per facet value for
        100,000 records.
        """
        if len(hits) < BITMAPS_FROM:
            values = self.values
            return dict(Counter(chain.from_iterable(values[d].facets for d in hits)))
        chosen = bytearray((len(self._slots) >> 3) + 1)
        slots = self._slots
        for d in hits:
            slot = slots[d]
            chosen[slot >> 3] |= 1 << (slot & 7)
        mask = int.from_bytes(chosen, "little")
        counts = {}
        for facet, bits in self._bits.items():
            facet_mask = self._masks.get(facet)
            if facet_mask is None:
                facet_mask = self._masks[facet] = int.from_bytes(bits, "little")
            if n := (facet_mask & mask).bit_count():
                counts[facet] = n
        return counts


_BY_ENGINE: weakref.WeakKeyDictionary[Engine, Columns] = weakref.WeakKeyDictionary()
_REGISTRY_LOCK = threading.Lock()


def columns_for(engine: Engine) -> Columns:
    """The process's values for this engine's database."""
    with _REGISTRY_LOCK:
        columns = _BY_ENGINE.get(engine)
        if columns is None:
            columns = _BY_ENGINE[engine] = Columns()
        return columns
