"""Write MARC from normalised fields, in MARC21 or CNMARC: new records, edits, flavour conversion.

The reading side is the declarative field map (fieldmap.yaml); this is its
inverse for the common fields, one table per flavour: where each field is
written when Tongjie has to write it. Holdings fields are written here too
(MARC21 952 Koha-style, CNMARC 905 as Chinese systems export it).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pymarc
from pymarc import Field, Indicators, Subfield

HOLDINGS_TAGS = ("905", "906", "986", "952", "995")


@dataclass(frozen=True)
class CopyHolding:
    """A copy as it goes into a holdings field on export."""

    barcode: str
    home: str
    current: str
    call_number: str
    item_type: str
    price: str | None


def _field(tag: str, ind: str, *subfields: tuple[str, Any]) -> Field | None:
    pairs = [Subfield(code, str(value)) for code, value in subfields if value not in (None, "")]
    if not pairs:
        return None
    return Field(tag=tag, indicators=Indicators(ind[0], ind[1]), subfields=pairs)


def _marc21_fields(f: dict[str, Any]) -> Iterable[Field | None]:
    authors: list[str] = list(f.get("authors") or [])
    for isbn in f.get("isbns") or []:
        yield _field("020", "  ", ("a", isbn), ("c", f.get("price")))
    if f.get("clc"):
        yield _field("084", "  ", ("a", f["clc"]), ("2", "clc"))
    if authors:
        yield _field("100", "1 ", ("a", authors[0]))
    yield _field(
        "245",
        "10",
        ("a", f.get("title")),
        ("b", f.get("other_title")),
        ("c", f.get("responsibility")),
    )
    yield _field("250", "  ", ("a", f.get("edition")))
    yield _field(
        "264", " 1", ("a", f.get("pub_place")), ("b", f.get("publisher")), ("c", f.get("pub_year"))
    )
    yield _field("300", "  ", ("a", f.get("extent")))
    yield _field("490", "0 ", ("a", f.get("series")))
    yield _field("520", "  ", ("a", f.get("summary")))
    for subject in f.get("subjects") or []:
        yield _field("650", " 4", ("a", subject))
    for author in authors[1:]:
        yield _field("700", "1 ", ("a", author))


def _cnmarc_fields(f: dict[str, Any]) -> Iterable[Field | None]:
    authors: list[str] = list(f.get("authors") or [])
    pinyin: list[str] = list(f.get("authors_pinyin") or [])
    isbns = list(f.get("isbns") or []) or [""]
    for isbn in isbns:
        yield _field("010", "  ", ("a", isbn), ("d", f.get("price")))
    yield _field("101", "0 ", ("a", f.get("language")))
    yield _field(
        "200",
        "1 ",
        ("a", f.get("title")),
        ("A", f.get("title_pinyin")),
        ("e", f.get("other_title")),
        ("f", f.get("responsibility")),
    )
    yield _field("205", "  ", ("a", f.get("edition")))
    yield _field(
        "210", "  ", ("a", f.get("pub_place")), ("c", f.get("publisher")), ("d", f.get("pub_year"))
    )
    yield _field("215", "  ", ("a", f.get("extent")))
    yield _field("225", "2 ", ("a", f.get("series")))
    yield _field("330", "  ", ("a", f.get("summary")))
    for subject in f.get("subjects") or []:
        yield _field("606", "0 ", ("a", subject))
    yield _field("690", "  ", ("a", f.get("clc")), ("v", "5"))
    for position, author in enumerate(authors):
        tag = "701" if position == 0 else "702"
        yield _field(
            tag, " 0", ("a", author), ("A", pinyin[position] if position < len(pinyin) else None)
        )


def _marc21_fixed(f: dict[str, Any], today: dt.date) -> list[Field]:
    year = (f.get("pub_year") or "    ")[:4].ljust(4)
    language = (f.get("language") or "chi")[:3].ljust(3)
    data = f"{today:%y%m%d}s{year}    ch            000 0 {language} d"
    return [Field(tag="008", data=data[:40].ljust(40))]


def _cnmarc_fixed(f: dict[str, Any], today: dt.date) -> list[Field]:
    year = (f.get("pub_year") or "    ")[:4].ljust(4)
    value = list(" " * 36)
    value[0:8] = f"{today:%Y%m%d}"
    value[8] = "d"
    value[9:13] = year
    value[17:20] = "em "
    value[20] = "y"
    value[21] = "0"
    value[22:25] = "chi"
    value[25] = "y"
    value[26:30] = "50  "
    value[34:36] = "ea"
    return [
        Field(tag="100", indicators=Indicators(" ", " "), subfields=[Subfield("a", "".join(value))])
    ]


def build_record(
    flavour: str, fields: dict[str, Any], today: dt.date | None = None
) -> pymarc.Record:
    """A new MARC record holding ``fields`` (the normalised record's keys), UTF-8."""
    today = today or dt.date.today()
    if flavour == "marc21":
        record = pymarc.Record(leader="     nam a22     4i 4500", force_utf8=True)
        generated = [*_marc21_fixed(fields, today), *_marc21_fields(fields)]
    else:
        record = pymarc.Record(leader="     nam0 22        450 ", force_utf8=True)
        generated = [*_cnmarc_fixed(fields, today), *_cnmarc_fields(fields)]
    record.add_ordered_field(*[f for f in generated if f is not None])
    return record


def holdings_fields(flavour: str, copies: Iterable[CopyHolding]) -> list[Field]:
    """One holdings field per copy: 952 (MARC21) or 905 (CNMARC)."""
    out: list[Field | None] = []
    for c in copies:
        if flavour == "marc21":
            out.append(
                _field(
                    "952",
                    "  ",
                    ("a", c.home),
                    ("b", c.current),
                    ("o", c.call_number),
                    ("p", c.barcode),
                    ("y", c.item_type),
                    ("g", c.price),
                )
            )
        else:
            class_number, _, book_number = c.call_number.partition("/")
            out.append(
                _field(
                    "905",
                    "  ",
                    ("a", c.home),
                    ("b", c.barcode),
                    ("d", class_number),
                    ("e", book_number),
                    ("f", c.current),
                    ("y", c.item_type),
                )
            )
    return [f for f in out if f is not None]


def replace_holdings(record: pymarc.Record, flavour: str, copies: Iterable[CopyHolding]) -> None:
    """Drop whatever holdings fields the record came with and write the copies we hold now."""
    for tag in HOLDINGS_TAGS:
        record.remove_fields(tag)
    record.add_ordered_field(*holdings_fields(flavour, copies))


# Which tags hold which normalised fields, per flavour: editing one field of a
# group rewrites the group's tags and leaves every other field of the record as it was.
FIELD_GROUPS: dict[str, list[tuple[tuple[str, ...], tuple[str, ...]]]] = {
    "marc21": [
        (("title", "other_title", "responsibility"), ("245",)),
        (("authors",), ("100", "700")),
        (("isbns", "price"), ("020",)),
        (("clc",), ("084",)),
        (("edition",), ("250",)),
        (("pub_place", "publisher", "pub_year"), ("260", "264")),
        (("extent",), ("300",)),
        (("series",), ("490",)),
        (("summary",), ("520",)),
        (("subjects",), ("650",)),
    ],
    "unimarc": [
        (("isbns", "price"), ("010",)),
        (("language",), ("101",)),
        (("title", "title_pinyin", "other_title", "responsibility"), ("200",)),
        (("edition",), ("205",)),
        (("pub_place", "publisher", "pub_year"), ("210",)),
        (("extent",), ("215",)),
        (("series",), ("225",)),
        (("summary",), ("330",)),
        (("subjects",), ("606",)),
        (("clc",), ("690",)),
        (("authors", "authors_pinyin"), ("701", "702")),
    ],
}


def rewrite_fields(
    record: pymarc.Record, flavour: str, values: dict[str, Any], changed: set[str]
) -> None:
    """Rewrite the field groups touched by ``changed`` from ``values`` (all current values)."""
    fresh = build_record(flavour, values)
    for keys, tags in FIELD_GROUPS[flavour]:
        if changed.isdisjoint(keys):
            continue
        for tag in tags:
            record.remove_fields(tag)
        record.add_ordered_field(*[f for tag in tags for f in fresh.get_fields(tag)])
