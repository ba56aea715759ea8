"""What a reader typed, turned into the query every backend runs (检索式).

A query is a list of *terms* that must match (all of a short query, half of
a long one: ``minimum_match``). A term has
*alternatives*, each a set of tokens that must all be in the document, with a
weight; a document's score for a term is the weight of the best alternative it
satisfies, and its score is the sum over the terms plus the *bonuses* it
matches (the whole title typed exactly). Backends only evaluate this
structure, so they rank alike. Weights are a kind weight times a field weight:

| kind | weight |   | field | weight |
| --- | ---: | --- | --- | ---: |
| Han word, one character, Latin word, phrase | 10 | | title proper | 10 |
| every Han bigram of the word | 9 | | author, responsibility | 8 |
| a shorter word inside a long one (栽培 of 栽培技术) | 5 | | | |
| pinyin of a whole word, run together | 8 | | subject | 5 |
| pinyin syllables, primary readings | 7 | | series | 4 |
| Latin word with one or two typing errors | 6 | | publisher | 3 |
| pinyin syllables, any reading | 5 | | | |
| pinyin initials | 3 | | other title | 7 |
| initials with a polyphone read another way | 2 | | | |

A run of Latin letters is tried as a word, as pinyin and as initials, in that
order of weight (pinyin and initials in titles, names and subjects only).
Whole title typed exactly: 200 (as written), 120 (as pinyin),
40 (as initials). ISBN 200, call number 120, CLC class 100.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import pairwise

from catalog.isbn import normalise_isbn
from catalog.search.analysis import (
    GROUPS,
    MAX_INITIALS,
    MAX_SUGGEST,
    call_number_token,
    title_forms,
)
from catalog.search.pinyin import readings, search_words, segment_words, split_syllables
from catalog.search.text import fold, is_han, runs

GROUP_WEIGHT = {"t": 10, "o": 7, "n": 8, "s": 5, "r": 4, "u": 3}
# Pinyin and initials are tried on titles, names and subjects; a series or a
# publisher is looked for by its characters (fewer alternatives, faster).
PINYIN_GROUPS = ("t", "o", "n", "s")
FIELDS = {
    "title": ("t", "o"), "author": ("n",), "subject": ("s",), "series": ("r",),
    "publisher": ("u",), "isbn": (), "clc": (),
    "题名": ("t", "o"), "著者": ("n",), "作者": ("n",), "主题": ("s",), "丛编": ("r",),
    "出版社": ("u",), "分类号": (),
}  # fmt: skip
_ISBN_FIELDS = {"isbn"}
_CLC_FIELDS = {"clc", "分类号"}
_CHUNK = re.compile(r'(?:(?P<field>[^\s:"]+):)?(?:"(?P<phrase>[^"]*)"|(?P<bare>[^\s"]+))')
_ISBN_LIKE = re.compile(r"^(?:97[89]-?)?[\d-]{8,16}[\dXx]$")
_CLC_LIKE = re.compile(r"^[A-Za-z]{1,2}\d[\d.]*(?:/[0-9A-Za-z.\-]*)?$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
MAX_TERMS = 12

Vocabulary = Callable[[str], list[str]]


@dataclass(frozen=True)
class Clause:
    """Tokens that must all be present: each group is satisfied by any one of its tokens."""

    groups: tuple[tuple[str, ...], ...]
    weight: int


@dataclass(frozen=True)
class Term:
    text: str
    alternatives: tuple[Clause, ...]  # best first


@dataclass
class Query:
    terms: list[Term] = field(default_factory=list)
    bonuses: list[Clause] = field(default_factory=list)
    filters: list[str] = field(default_factory=list)  # tokens every hit must have
    minimum: int = 0  # terms a hit must match (all but a few of a long query)
    han: list[str] = field(default_factory=list)  # Han text to highlight
    syllables: list[tuple[str, ...]] = field(default_factory=list)  # pinyin runs to highlight

    @property
    def empty(self) -> bool:
        return not self.terms and not self.filters


def _clause(weight: int, *groups: Iterable[str]) -> Clause:
    return Clause(tuple(tuple(g) for g in groups), weight)


def _one(token: str, weight: int) -> Clause:
    return Clause(((token,),), weight)


def parse(text: str, vocabulary: Vocabulary | None = None) -> Query:
    """Parse a reader's query: field prefixes, quoted phrases, Han, pinyin, initials, ISBN, CLC."""
    query = Query()
    text = _CONTROL.sub(" ", text)[:256]
    free: list[str] = []
    only_title = True
    for m in _CHUNK.finditer(text.replace("“", '"').replace("”", '"')):
        name = (m.group("field") or "").lower()
        body = m.group("phrase") if m.group("phrase") is not None else m.group("bare") or ""
        if name and name not in FIELDS:
            body, name = f"{m.group('field')} {body}", ""
        groups = FIELDS.get(name, GROUPS) if name else GROUPS
        if name and groups != ("t", "o"):
            only_title = False
        else:
            free.append(body)
        _add_chunk(query, body, name, groups, m.group("phrase") is not None, vocabulary)
    query.terms = query.terms[:MAX_TERMS]
    query.minimum = minimum_match(len(query.terms))
    if query.terms and only_title:
        _add_title_bonuses(query, " ".join(free))
    return query


def minimum_match(terms: int) -> int:
    """Both terms of a two-term query; of longer ones all but a third (3 -> 2, 6 -> 4).

    A Chinese query typed without spaces is cut into more words than the
    reader meant as separate conditions (水稻高产栽培技术: 水稻, 高产,
    栽培技术); hits that match more terms score higher anyway.
    """
    return terms if terms <= 2 else max(2, terms - terms // 3)


def _add_chunk(
    query: Query, body: str, name: str, groups: tuple[str, ...], phrase: bool,
    vocabulary: Vocabulary | None,
) -> None:  # fmt: skip
    body = body.strip()
    if not body:
        return
    if name in _ISBN_FIELDS or (not name and _ISBN_LIKE.match(body)):
        isbn = normalise_isbn(body).isbn13
        if isbn:
            query.terms.append(Term(body, (_one(f"is:{isbn}", 200),)))
            return
        if name:
            return
    if name in _CLC_FIELDS or (not name and _CLC_LIKE.match(body)):
        alternatives = [_one(f"cl:{fold(body).split('/')[0]}", 100)]
        if "/" in body:
            alternatives.insert(0, _one(f"cn:{call_number_token(body)}", 120))
        if not name and fold(body).isalnum():  # "b2" may also be a word; "I242.4" is not
            alternatives.extend(a for g in groups for a in _latin_alternatives(fold(body), g, None))
        query.terms.append(Term(body, tuple(alternatives)))
        return
    parts = runs(fold(body))
    if not parts:
        return
    if phrase:
        query.terms.append(_phrase_term(body, parts, groups))
        query.han.extend(p for p in parts if is_han(p[0]))
        return
    has_latin = any(not is_han(p[0]) for p in parts)
    if has_latin and len(parts) > 1 and any(is_han(p[0]) for p in parts) and _mixable(parts):
        query.terms.append(_mixed_term(query, body, parts, groups))
        return
    for part in parts:
        if is_han(part[0]):
            for word in segment_words(part):
                query.terms.append(_han_term(word, groups))
                query.han.append(word)
        else:
            query.terms.append(Term(part, tuple(_latin_term(query, part, groups, vocabulary))))


def _han_term(word: str, groups: tuple[str, ...]) -> Term:
    alternatives: list[Clause] = []
    for g in groups:
        w = GROUP_WEIGHT[g]
        if len(word) == 1:
            alternatives.append(_one(f"{g}c:{word}", 10 * w))
            continue
        alternatives.append(_one(f"{g}w:{word}", 10 * w))
        bigrams = [(f"{g}b:{word[i : i + 2]}",) for i in range(len(word) - 1)]
        alternatives.append(_clause(9 * w, *bigrams))
        parts = [p for p in search_words(word) if len(p) > 1 and p != word]
        if parts:
            alternatives.append(_clause(5 * w, [f"{g}w:{p}" for p in parts]))
    return Term(word, tuple(sorted(alternatives, key=lambda a: -a.weight)))


def _latin_term(
    query: Query, letters: str, groups: tuple[str, ...], vocabulary: Vocabulary | None
) -> list[Clause]:
    typos = vocabulary(letters) if vocabulary is not None else []
    syllables = split_syllables(letters)
    if syllables:
        query.syllables.append(syllables)
    alternatives = [a for g in groups for a in _latin_alternatives(letters, g, typos)]
    return sorted(alternatives, key=lambda a: -a.weight)


def _latin_alternatives(letters: str, g: str, typos: list[str] | None) -> list[Clause]:
    """A Latin run as a word, as a misspelt word, as pinyin and as initials."""
    w = GROUP_WEIGHT[g]
    out = [_one(f"{g}w:{letters}", 10 * w)]
    if typos:
        out.append(_clause(6 * w, [f"{g}w:{t}" for t in typos]))
    if g not in PINYIN_GROUPS:
        return out
    syllables = split_syllables(letters)
    if syllables:
        if len(syllables) > 1:
            out.append(_one(f"{g}j:{letters}", 8 * w))
        out.append(_clause(7 * w, *[(f"{g}p:{s}",) for s in syllables]))
        out.append(_clause(5 * w, *[(f"{g}p:{s}", f"{g}a:{s}") for s in syllables]))
    if letters.isalpha() and 2 <= len(letters) <= MAX_INITIALS:
        out.append(_one(f"{g}i:{letters}", 3 * w))
        out.append(_one(f"{g}k:{letters}", 2 * w))
    return out


def _phrase_term(body: str, parts: list[str], groups: tuple[str, ...]) -> Term:
    """A quoted phrase: its Han bigrams and its Latin word pairs, all in one field."""
    alternatives = []
    latin = [p for p in parts if not is_han(p[0])]
    han = "".join(p for p in parts if is_han(p[0]))
    for g in groups:
        needed: list[tuple[str, ...]] = []
        if len(han) == 1:
            needed.append((f"{g}c:{han}",))
        needed.extend((f"{g}b:{han[i : i + 2]}",) for i in range(len(han) - 1))
        if len(latin) == 1:
            needed.append((f"{g}w:{latin[0]}",))
        needed.extend((f"{g}q:{a}_{b}",) for a, b in pairwise(latin))
        alternatives.append(_clause(10 * GROUP_WEIGHT[g], *needed))
    return Term(body, tuple(alternatives))


def _mixable(parts: list[str]) -> bool:
    """Han with pinyin or initials typed in one go (刘dh, liude华, 红lm), not "python编程"."""
    return all(
        is_han(p[0]) or (p.isalpha() and (len(p) <= 4 or split_syllables(p) is not None))
        for p in parts
    )


def _mixed_term(query: Query, body: str, parts: list[str], groups: tuple[str, ...]) -> Term:
    """Han characters plus pinyin or initials for the others, all in one field."""
    han_chars = [ch for p in parts if is_han(p[0]) for ch in p]
    syllables: list[str] | None = []
    initials = ""
    for p in parts:
        if is_han(p[0]):
            rs = readings(p)
            if not all(rs):  # a character without a reading: Han and Latin as typed only
                syllables, initials = None, "?"
                break
            syllables = None if syllables is None else [*syllables, *(r[0] for r in rs)]
            initials += "".join(r[0][0] for r in rs)
        else:
            split = split_syllables(p)
            syllables = None if syllables is None or split is None else [*syllables, *split]
            initials += p
    apart = _split_initials(parts)
    alternatives = []
    for g in groups:
        w = GROUP_WEIGHT[g]
        chars = [(f"{g}c:{ch}",) for ch in han_chars]
        literal = [(f"{g}w:{p}",) if not is_han(p[0]) else (f"{g}c:{p[0]}",) for p in parts]
        literal += [
            (f"{g}b:{p[i : i + 2]}",) for p in parts if is_han(p[0]) for i in range(len(p) - 1)
        ]
        alternatives.append(_clause(9 * w, *literal))
        if syllables:
            alternatives.append(
                _clause(7 * w, *chars, *[(f"{g}p:{s}", f"{g}a:{s}") for s in syllables])
            )
        if 2 <= len(initials) <= MAX_INITIALS and initials.isalpha():
            alternatives.append(_clause(3 * w, *chars, (f"{g}i:{initials}",)))
        if apart is not None:
            han_tokens, options = apart
            needed: list[tuple[str, ...]] = [(f"{g}{t}",) for t in han_tokens]
            needed += [tuple(f"{g}i:{x}" for x in o) for o in options]
            alternatives.append(_clause(2 * w, *needed))
    query.han.extend("".join(han_chars))
    if syllables:
        query.syllables.append(tuple(syllables))
    return Term(body, tuple(sorted(alternatives, key=lambda a: -a.weight)))


def _split_initials(parts: list[str]) -> tuple[list[str], list[tuple[str, ...]]] | None:
    """Initials that stand for a word in the middle of the text (邓xp警卫: 邓小平 ... 警卫).

    The initials of the whole input only match when its words follow each other
    in the title; with Han on both sides of the letters, the letters may instead
    finish the word the Han before them starts (d + xp: 邓小平) or be a word of
    their own (xp), and the Han after them may come later in the title. Returns
    the Han characters and bigrams to require, and per run of letters the
    initials a word may have; None when the input is not Han, letters, Han.
    """
    if len(parts) < 3 or not is_han(parts[0][0]) or all(is_han(p[0]) for p in parts):
        return None
    tokens: list[str] = []
    options: list[tuple[str, ...]] = []
    for k, p in enumerate(parts):
        if is_han(p[0]):
            tokens += [f"c:{ch}" for ch in p] + [f"b:{p[i : i + 2]}" for i in range(len(p) - 1)]
            continue
        if not (p.isalpha() and len(p) <= MAX_INITIALS):
            return None
        before = readings(parts[k - 1][-1]) if k and is_han(parts[k - 1][0]) else []
        lead = f"{before[0][0][0]}{p}" if before and before[0] else None
        options.append(tuple(x for x in (lead, p) if x and len(x) >= 2))
    options = [o for o in options if o]  # a lone letter after no Han stands for nothing
    first_letters = next(k for k, p in enumerate(parts) if not is_han(p[0]))
    if not options or not any(is_han(p[0]) for p in parts[first_letters:]):
        return None
    return tokens, options


def _add_title_bonuses(query: Query, text: str) -> None:
    compact, joined, initials = title_forms(text, None)
    if compact:
        query.bonuses.append(_one(f"tx:{compact[:100]}", 200))
    letters = "".join(runs(fold(text)))
    if joined:
        query.bonuses.append(_one(f"ty:{joined[:100]}", 120))
    elif letters.isalpha() and split_syllables(letters):
        query.bonuses.append(_one(f"ty:{letters[:100]}", 120))
    if initials:
        query.bonuses.append(_one(f"tz:{initials}", 40))
    elif letters.isalpha() and len(letters) <= 12:
        query.bonuses.append(_one(f"tz:{letters}", 40))


def suggestion_token(text: str) -> str | None:
    """The ``sg:`` token for what a reader has typed so far (title, pinyin or initials prefix)."""
    compact = "".join(runs(fold(_CONTROL.sub(" ", text[:64]))))
    return f"sg:{compact[:MAX_SUGGEST]}" if compact else None
