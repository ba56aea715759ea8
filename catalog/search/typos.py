"""Typo tolerance for Latin-script words (拼写纠错), against the words the catalogue holds.

A Latin word of five letters or more also matches the indexed words at most
one edit away (two for words of eight letters or more; swapping two letters
next to each other is one edit), by RapidFuzz's OSA distance, at a lower
weight than the word itself. The dictionary is the ``search_words`` table,
the same for every backend, so corrections agree.
"""

from __future__ import annotations

import threading
import time

from rapidfuzz import process
from rapidfuzz.distance import OSA
from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.search.store import SearchWord

MIN_LENGTH = 5
MAX_CORRECTIONS = 5


class Dictionary:
    """The indexed Latin words, by length, reloaded from the database every ``ttl`` seconds."""

    def __init__(self, ttl: float = 300.0) -> None:
        self.ttl = ttl
        self._by_length: dict[int, list[str]] = {}
        self._loaded_at = float("-inf")
        self._lock = threading.Lock()

    def invalidate(self) -> None:
        self._loaded_at = float("-inf")

    def _load(self, session: Session) -> None:
        with self._lock:
            if time.monotonic() - self._loaded_at < self.ttl:
                return
            words = list(session.scalars(select(SearchWord.word)))
            by_length: dict[int, list[str]] = {}
            for word in words:
                by_length.setdefault(len(word), []).append(word)
            self._by_length = by_length
            self._loaded_at = time.monotonic()

    def corrections(self, session: Session, word: str) -> list[str]:
        """Indexed words close to ``word`` (``word`` itself left out)."""
        if len(word) < MIN_LENGTH or not word.isascii() or not word.isalpha():
            return []
        self._load(session)
        limit = 2 if len(word) >= 8 else 1
        found: list[tuple[int, str]] = []
        for length in range(len(word) - limit, len(word) + limit + 1):
            choices = self._by_length.get(length, [])
            for match, distance, _ in process.extract(
                word, choices, scorer=OSA.distance, score_cutoff=limit,
                limit=MAX_CORRECTIONS,
            ):  # fmt: skip
                found.append((int(distance), match))
        return [w for _, w in sorted(found) if w != word][:MAX_CORRECTIONS]
