"""Highlighting on the Han text (高亮): the characters a query matched, marked in the title.

Highlighting is done here, once, for every backend: on the text as the
record writes it (traditional stays traditional), at the characters the
reader's Han words matched, or whose readings a typed pinyin run matched
(hongloumeng marks 红楼梦), never at offsets inside pinyin.
"""

from __future__ import annotations

from markupsafe import Markup, escape

from catalog.search.pinyin import readings
from catalog.search.query import Query
from catalog.search.text import fold_chars, is_han


def highlight(text: str | None, query: Query) -> Markup:
    """``text`` as HTML with the matched stretches in ``<mark>``."""
    if not text:
        return Markup("")
    folded = fold_chars(text)
    if folded is None or not (query.han or query.syllables):
        return escape(text)
    marked = [False] * len(text)
    for han in query.han:
        start = folded.find(han)
        while han and start >= 0:
            marked[start : start + len(han)] = [True] * len(han)
            start = folded.find(han, start + 1)
    if query.syllables:
        _mark_pinyin(folded, query.syllables, marked)
    out = []
    i = 0
    while i < len(text):
        j = i
        while j < len(text) and marked[j] == marked[i]:
            j += 1
        piece = escape(text[i:j])
        out.append(Markup("<mark>%s</mark>") % piece if marked[i] else piece)
        i = j
    return Markup("").join(out)


def _mark_pinyin(folded: str, runs: list[tuple[str, ...]], marked: list[bool]) -> None:
    positions: list[int] = []
    per_char: list[tuple[str, ...]] = []
    i = 0
    while i < len(folded):
        if not is_han(folded[i]):
            i += 1
            continue
        j = i
        while j < len(folded) and is_han(folded[j]):
            j += 1
        run_readings = readings(folded[i:j])
        if len(run_readings) == j - i:
            positions.extend(range(i, j))
            per_char.extend(run_readings)
        i = j
    for syllables in runs:
        n = len(syllables)
        for start in range(len(per_char) - n + 1):
            window = positions[start : start + n]
            if window[-1] - window[0] != n - 1:
                continue
            if all(s in per_char[start + k] for k, s in enumerate(syllables)):
                for pos in window:
                    marked[pos] = True
