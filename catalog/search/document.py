"""What goes into a record's search document (检索文档): all of it, in this one place.

One document per record. Every backend stores the same document: the tokens
(catalog/search/analysis.py) it matches on, the values it filters, sorts and
counts facets on, and the few fields a result line shows. Copies count by
where they are now for "on the shelf" and by their home point for "held".
Patrons are never indexed: nothing about who borrowed what goes in here.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import pymarc

from catalog.network import ServicePoint
from catalog.records import NOT_HELD, CopyStatus, Record
from catalog.search.analysis import (
    clc_class,
    clc_tokens,
    field_tokens,
    isbn_tokens,
    sort_key,
    title_tokens,
)
from catalog.search.text import has_han

# MARC21 fields whose Han script a Library of Congress record keeps in 880
# (linked by $6), and the group they feed.
_LINKED_GROUPS = {
    "245": "t", "246": "o", "100": "n", "110": "n", "111": "n", "700": "n", "710": "n",
    "711": "n", "600": "s", "610": "s", "650": "s", "651": "s", "490": "r", "830": "r",
    "260": "u", "264": "u",
}  # fmt: skip
_LINKED_CODES = {"t": "abnp", "o": "ab", "n": "abc", "s": "axyzv", "r": "a", "u": "b"}
YEAR_RANGES = (
    ("-1949", None, 1949),
    ("1950-1979", 1950, 1979),
    ("1980-1999", 1980, 1999),
    ("2000-2009", 2000, 2009),
    ("2010-2019", 2010, 2019),
    ("2020-", 2020, None),
)


def year_range(year: int | None) -> str | None:
    """The facet bucket of a publication year (出版年代)."""
    if year is None:
        return None
    for name, low, high in YEAR_RANGES:
        if (low is None or year >= low) and (high is None or year <= high):
            return name
    return None


@dataclass(frozen=True)
class PointInfo:
    code: str
    kind: str
    up: tuple[str, ...]  # its own code and every ancestor's, up to the root


def point_infos(points: list[ServicePoint]) -> dict[int, PointInfo]:
    """Code, kind and chain of ancestors of every point, for documents' "under branch" filter."""
    by_id = {p.id: p for p in points}
    infos: dict[int, PointInfo] = {}
    for p in points:
        chain: list[str] = []
        current: ServicePoint | None = p
        while current is not None and current.code not in chain:
            chain.append(current.code)
            current = by_id.get(current.parent_id) if current.parent_id else None
        infos[p.id] = PointInfo(p.code, p.kind, tuple(chain))
    return infos


class CopyFacts(Protocol):
    """What a document reads of a copy: a Copy, or a row with these columns."""

    @property
    def status(self) -> str: ...
    @property
    def item_type(self) -> str: ...
    @property
    def current_point_id(self) -> int: ...
    @property
    def call_number(self) -> str | None: ...


@dataclass
class Document:
    record_id: int
    tokens: set[str]
    sort_title: str
    year: int | None
    held: int
    title_length: int
    facets: set[str]
    display: dict[str, Any] = field(default_factory=dict)

    def token_text(self) -> str:
        return " ".join(sorted(self.tokens))


def build_document(
    record: Record, copies: Sequence[CopyFacts], points: dict[int, PointInfo]
) -> Document:
    """The search document of one record and its copies."""
    linked = linked_script(record)
    title = record.title or ""
    tokens = field_tokens("t", [title, *linked["t"]], [record.title_pinyin])
    tokens |= field_tokens("o", [record.other_title, *linked["o"]])
    tokens |= field_tokens("n", record.authors, record.authors_pinyin, personal_names=True)
    tokens |= field_tokens("n", [record.responsibility, *linked["n"]])
    tokens |= field_tokens("s", [*record.subjects, *linked["s"]])
    tokens |= field_tokens("r", [record.series, *linked["r"]])
    tokens |= field_tokens("u", [record.publisher, *linked["u"]])
    tokens |= title_tokens(title, record.title_pinyin)
    for vernacular in linked["t"][:1]:
        tokens |= title_tokens(vernacular, None)
    tokens |= isbn_tokens(record.isbns or ([record.isbn13] if record.isbn13 else []))
    held = [c for c in copies if c.status not in NOT_HELD]
    tokens |= clc_tokens(record.clc, sorted({c.call_number for c in held if c.call_number}))

    facets: set[str] = {f"it:{c.item_type}" for c in held}
    for c in held:
        info = points.get(c.current_point_id)
        if c.status == CopyStatus.AVAILABLE and info is not None:
            tokens.update(f"su:{code.lower()}" for code in info.up)
            facets.update({f"pt:{info.code}", f"kd:{info.kind}"})
    if (main_class := clc_class(record.clc)) is not None:
        facets.add(f"cc:{main_class}")
    if record.language:
        facets.add(f"ln:{record.language}")
    year = int(record.pub_year) if record.pub_year and record.pub_year.isdigit() else None
    if (bucket := year_range(year)) is not None:
        facets.add(f"yb:{bucket}")
    tokens.update(f"f{value.lower()}" for value in facets)
    return Document(
        record_id=record.id,
        tokens=tokens,
        sort_title=sort_key(linked["t"][0] if linked["t"] else title, record.title_pinyin),
        year=year,
        held=len(held),
        title_length=len(title),
        facets=facets,
        display={
            "title": title,
            "vernacular_title": linked["t"][0] if linked["t"] else None,
            "responsibility": record.responsibility,
            "authors": list(record.authors or [])[:5],
            "publisher": record.publisher,
            "pub_year": record.pub_year,
            "isbn13": record.isbn13,
            "clc": record.clc,
            "language": record.language,
        },
    )


def linked_script(record: Record) -> dict[str, list[str]]:
    """Han text from a MARC21 record's 880 fields (Library of Congress records), by group."""
    found: dict[str, list[str]] = {group: [] for group in _LINKED_CODES}
    marc = record.marc
    if record.marc_flavour != "marc21" or not marc or b"880" not in marc[: _base(marc)]:
        return found
    try:
        parsed = pymarc.Record(data=marc, to_unicode=True, force_utf8=True)
    except Exception:
        return found
    for f in parsed.get_fields("880"):
        link = (f.get("6") or "")[:3]
        group = _LINKED_GROUPS.get(link)
        if group is None:
            continue
        codes = _LINKED_CODES[group]
        text = " ".join(sf.value for sf in f.subfields if sf.code in codes and sf.value)
        text = re.sub(r"\s*[/:;=,.]\s*$", "", text.strip())
        if text and has_han(text):
            found[group].append(text)
    return found


def _base(marc: bytes) -> int:
    digits = marc[12:17]
    return int(digits) if digits.isdigit() else len(marc)
