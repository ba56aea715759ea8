"""Chinese-aware analysis (中文检索分析): text in, search tokens out, the same for every backend.

A search token is ``<group><kind>:<value>``. The group says which part of the
record the text came from, the kind how it was cut:

| group | from |                  | kind | what |
| --- | --- | --- | --- | --- |
| t | title proper |            | w | a word: a Han word (rjieba) or a Latin word |
| o | other title, subtitle |   |   |   |
| n | authors, responsibility | | c | one Han character |
| s | subjects |                | b | two Han characters in a row (bigram) |
| r | series |                  | p | the primary pinyin syllable of a character |
| u | publisher |               | a | another reading of a polyphonic character |
|   |   |                       | j | the pinyin of a whole word, run together |
|   |   |                       | i | pinyin initials from the start of a word on |
|   |   |                       | k | the same, one polyphone read another way |
|   |   |                       | q | two Latin words in a row (for quoted phrases) |

Record-wide tokens have their own prefixes: ``tx:``, ``ty:`` and ``tz:`` the
whole title run together as written, as pinyin and as initials; ``is:``
ISBN-13, ``cl:`` every prefix of a CLC class number, ``cn:`` a call number,
``sg:`` title prefixes for suggestions; ``su:`` and ``f..:`` filter and facet
values (document.py). The backends index these tokens as they are (Elasticsearch's ``whitespace``
analyser, SQLite FTS5, PostgreSQL tsvector), so all three match alike.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from catalog.isbn import normalise_isbn
from catalog.search.pinyin import readings, search_words, segment_words, with_record_pinyin
from catalog.search.text import fold, is_han, runs

GROUPS = ("t", "o", "n", "s", "r", "u")
MAX_INITIALS = 12  # longest run of initials indexed from one word start
MAX_SUGGEST = 24
UNREAD = "\0"  # stands for a character without a reading in a string of initials
_CLC = re.compile(r"(?<![A-Z0-9])(?:[A-Z][A-Z]?\d[\d.]*|[A-Z]{1,2}(?=$|[-;,\s/]))")
_CALL_KEEP = re.compile(r"[^a-z0-9./\-]")


def field_tokens(
    group: str, texts: Iterable[str | None], own_pinyin: Iterable[str | None] = (),
    *, personal_names: bool = False,
) -> set[str]:  # fmt: skip
    """Tokens of one group from its texts; ``own_pinyin[i]`` is the record's pinyin of text i."""
    tokens: set[str] = set()
    own = list(own_pinyin)
    for i, text in enumerate(texts):
        if text:
            add_text(tokens, group, text, own[i] if i < len(own) else None, personal_names)
    return tokens


def add_text(
    tokens: set[str], group: str, text: str, own_pinyin: str | None, personal_name: bool
) -> None:
    folded = fold(text)
    han_runs: list[str] = []
    previous_latin: str | None = None
    for run in runs(folded):
        if is_han(run[0]):
            han_runs.append(run)
            previous_latin = None
            continue
        tokens.add(f"{group}w:{run}")
        if previous_latin is not None:
            tokens.add(f"{group}q:{previous_latin}_{run}")
        previous_latin = run
    if han_runs:
        _add_han(tokens, group, han_runs, own_pinyin, personal_name)


def _add_han(
    tokens: set[str], group: str, han_runs: list[str], own_pinyin: str | None, personal: bool
) -> None:
    chars = "".join(han_runs)
    per_char: list[tuple[str, ...]] = []
    for run in han_runs:
        per_char.extend(readings(run, personal_name=personal and len(chars) <= 4))
    per_char = with_record_pinyin(chars, own_pinyin, per_char)
    for run in han_runs:
        tokens.update(f"{group}w:{w}" for w in search_words(run))
        tokens.update(f"{group}b:{run[i : i + 2]}" for i in range(len(run) - 1))
    tokens.update(f"{group}c:{ch}" for ch in chars)
    if len(per_char) != len(chars):
        return
    for rs in per_char:  # a character pypinyin cannot read has no readings: it is skipped
        if rs:
            tokens.add(f"{group}p:{rs[0]}")
            tokens.update(f"{group}a:{r}" for r in rs[1:])
    initials = "".join(rs[0][0] if rs else UNREAD for rs in per_char)
    position = 0
    for run in han_runs:
        for word in segment_words(run):
            syllables = per_char[position : position + len(word)]
            if len(word) > 1 and all(syllables):
                tokens.add(f"{group}j:{''.join(rs[0] for rs in syllables)}")
            start = initials[position : position + MAX_INITIALS].split(UNREAD)[0]
            tokens.update(f"{group}i:{start[:n]}" for n in range(2, len(start) + 1))
            for variant in _alternate_initials(start, per_char[position : position + MAX_INITIALS]):
                tokens.update(f"{group}k:{variant[:n]}" for n in range(2, len(variant) + 1))
            position += len(word)


def _alternate_initials(primary: str, per_char: list[tuple[str, ...]]) -> set[str]:
    """Initials with one polyphonic character read another way (朝花夕拾: zhxs beside chxs)."""
    variants = set()
    for i, rs in enumerate(per_char[: len(primary)]):
        for reading in rs[1:]:
            if reading[0] != primary[i]:
                variants.add(primary[:i] + reading[0] + primary[i + 1 :])
    return variants


def title_forms(title: str, own_pinyin: str | None) -> tuple[str, str | None, str | None]:
    """The whole title run together as text, as pinyin and as initials (exact-title tokens).

    Latin words stay as they are in the pinyin and initials forms, so that a
    title such as "Python编程" reads "python bian cheng".
    """
    folded = fold(title)
    parts = runs(folded)
    compact = "".join(parts)
    if not any(is_han(p[0]) for p in parts):
        return compact, None, None
    syllables = han_syllables(parts, own_pinyin)
    if syllables is None:
        return compact, None, None
    return compact, "".join(s for s, _ in syllables), "".join(i for _, i in syllables)


def han_syllables(parts: list[str], own_pinyin: str | None) -> list[tuple[str, str]] | None:
    """(pinyin, initials) of each run: a Han character's syllable, or a Latin run as it is."""
    chars = "".join(p for p in parts if is_han(p[0]))
    per_char: list[tuple[str, ...]] = []
    for p in parts:
        if is_han(p[0]):
            per_char.extend(readings(p))
    per_char = with_record_pinyin(chars, own_pinyin, per_char)
    if len(per_char) != len(chars) or not all(per_char):
        return None
    out: list[tuple[str, str]] = []
    position = 0
    for p in parts:
        if not is_han(p[0]):
            out.append((p, p))
            continue
        for rs in per_char[position : position + len(p)]:
            out.append((rs[0], rs[0][0]))
        position += len(p)
    return out


def sort_key(title: str, own_pinyin: str | None) -> str:
    """Title in pinyin order (按拼音排序): syllables and Latin words, space-separated."""
    parts = runs(fold(title))
    syllables = han_syllables(parts, own_pinyin)
    words = [s for s, _ in syllables] if syllables is not None else parts
    return " ".join(words)[:200]


def title_tokens(title: str, own_pinyin: str | None) -> set[str]:
    """Exact-title tokens and the title prefixes used for suggestions."""
    compact, joined, initials = title_forms(title, own_pinyin)
    tokens = {f"tx:{compact[:100]}"} if compact else set()
    tokens.update(f"sg:{compact[:n]}" for n in range(1, min(len(compact), 12) + 1))
    forms = (("ty", joined, 2, MAX_SUGGEST), ("tz", initials, 2, 10))
    for prefix, form, shortest, longest in forms:
        if form:
            tokens.add(f"{prefix}:{form[:100]}")
            tokens.update(f"sg:{form[:n]}" for n in range(shortest, min(len(form), longest) + 1))
    return tokens


def isbn_tokens(isbns: Iterable[str]) -> set[str]:
    """``is:`` + ISBN-13 for every valid ISBN (a query's ISBN-10 or hyphens are normalised too)."""
    found = {normalise_isbn(text).isbn13 for text in isbns}
    return {f"is:{isbn}" for isbn in found if isbn}


def clc_numbers(text: str | None) -> list[str]:
    """The CLC class numbers in a 690$a or call number (I242.4, TP311.13), upper case."""
    if not text:
        return []
    return [m.group(0).rstrip(".-/") for m in _CLC.finditer(fold(text).upper())]


def clc_tokens(clc: str | None, call_numbers: Iterable[str]) -> set[str]:
    """Every prefix of every class number (I, I2, I24, I242, I242., I242.4) and each call number."""
    tokens: set[str] = set()
    classes = clc_numbers(clc)
    for call in set(call_numbers):  # a record's copies mostly share one
        token, call_classes = _call_number_parts(call)
        if token:
            tokens.add(token)
            classes.extend(call_classes)
    for number in classes:
        value = number.lower()
        tokens.update(f"cl:{value[:n]}" for n in range(1, len(value) + 1))
    return tokens


@lru_cache(maxsize=8192)
def _call_number_parts(call: str) -> tuple[str | None, tuple[str, ...]]:
    """A call number's token and its class numbers; the same call numbers come back at every
    checkout of their copies (the indexer rebuilds the record's document), so kept."""
    normal = call_number_token(call)
    if not normal:
        return None, ()
    return f"cn:{normal}", tuple(clc_numbers(call.split("/")[0]))


def call_number_token(call: str) -> str:
    return _CALL_KEEP.sub("", fold(call).replace(" ", ""))[:64]


def clc_class(clc: str | None) -> str | None:
    """The CLC main class for the facet: the letter, or TB-TV under T (中图法基本大类)."""
    numbers = clc_numbers(clc)
    if not numbers:
        return None
    first = numbers[0]
    if first.startswith("T") and len(first) > 1 and first[1].isalpha():
        return first[:2]
    return first[0]
