"""Cataloguing by hand (编目): create and edit records, add, edit and move copies,
merge two records of one edition and split a wrong merge back out.

The MARC is the truth of a record: a form edit rewrites the MARC fields of
the groups it touches (catalog.marc.build.FIELD_GROUPS) and the normalised
fields are read back through the same field map as an import, so an edit
and an export never disagree.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pymarc
from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.barcodes import next_barcodes
from catalog.callnumber import call_number_sort_key
from catalog.dedupe import record_key
from catalog.errors import Conflict, DomainError, NotFound
from catalog.isbn import first_isbn13
from catalog.marc.build import build_record, rewrite_fields
from catalog.marc.mapping import NO_TITLE, NormalisedRecord, normalise, to_utf8_iso2709
from catalog.marc.text import marc_from_text, marc_to_text
from catalog.network import ServicePoint, point_by_code
from catalog.records import Copy, CopyStatus, Record, RecordSource

EDITABLE_FIELDS = (
    "title", "title_pinyin", "other_title", "responsibility", "authors", "authors_pinyin",
    "edition", "publisher", "pub_place", "pub_year", "extent", "series", "summary", "subjects",
    "clc", "language", "isbns", "price",
)  # fmt: skip


class InvalidRecord(DomainError):
    code = "invalid_record"
    http_status = 422


def get_record(session: Session, record_id: int) -> Record:
    record = session.get(Record, record_id)
    if record is None:
        raise NotFound(f"no record {record_id}", f"没有编号为 {record_id} 的书目记录")
    return record


def get_copy(session: Session, barcode: str) -> Copy:
    copy = session.scalar(select(Copy).where(Copy.barcode == barcode))
    if copy is None:
        raise NotFound(f"no copy with barcode {barcode}", f"没有条码为 {barcode} 的图书")
    return copy


def get_point(session: Session, code: str) -> ServicePoint:
    point = point_by_code(session, code)
    if point is None:
        raise NotFound(f"no service point with code {code}", f"没有代码为 {code} 的服务点")
    return point


def record_values(record: Record) -> dict[str, Any]:
    return {name: getattr(record, name) for name in EDITABLE_FIELDS}


def _apply_marc(record: Record, marc: pymarc.Record, flavour: str) -> None:
    """Store ``marc`` as the record's MARC and refresh the normalised fields from it."""
    data = to_utf8_iso2709(marc, flavour)
    mapped: NormalisedRecord = normalise(pymarc.Record(data=data, force_utf8=True), flavour)
    for name in EDITABLE_FIELDS:
        setattr(record, name, getattr(mapped, name))
    record.isbn13, _ = first_isbn13(mapped.isbns)
    record.match_key = record_key(mapped)
    record.marc, record.marc_flavour = data, flavour


def create_record(session: Session, values: dict[str, Any], flavour: str = "unimarc") -> Record:
    """A new record from form values, written as MARC in ``flavour`` (CNMARC by default)."""
    if not (values.get("title") or "").strip():
        raise InvalidRecord("a record needs a title", "书目记录必须有题名")
    record = Record()
    _apply_marc(record, build_record(flavour, values), flavour)
    session.add(record)
    session.flush()
    assert record.marc is not None
    session.add(_source(record, record.marc, "manual"))
    return record


def update_record(session: Session, record: Record, changes: dict[str, Any]) -> Record:
    """Change common fields; the MARC is rewritten group by group, other fields kept."""
    if "title" in changes and not (changes["title"] or "").strip():
        raise InvalidRecord("a record needs a title", "书目记录必须有题名")
    flavour = record.marc_flavour or "unimarc"
    values = {**record_values(record), **changes}
    if record.marc:
        marc = pymarc.Record(data=record.marc, force_utf8=True)
        rewrite_fields(marc, flavour, values, set(changes))
    else:
        marc = build_record(flavour, values)
    _apply_marc(record, marc, flavour)
    session.flush()
    return record


def marc_text(record: Record) -> str:
    """The record's MARC as editable text (catalog.marc.text), or "" when it has none."""
    return marc_to_text(pymarc.Record(data=record.marc, force_utf8=True)) if record.marc else ""


def replace_marc(session: Session, record: Record, text: str) -> Record:
    """Save the MARC view: the whole MARC from text, the normalised fields read back from it.

    The flavour stays the record's. Holdings fields in the text are kept as
    MARC; copies are changed on their own (add, edit, move, withdraw).
    """
    marc = marc_from_text(text)
    flavour = record.marc_flavour or "unimarc"
    try:
        data = to_utf8_iso2709(marc, flavour)
    except ValueError as exc:
        raise InvalidRecord(
            f"the record cannot be stored as MARC: {exc}", f"该记录无法保存为 MARC：{exc}"
        ) from exc
    mapped = normalise(pymarc.Record(data=data, force_utf8=True), flavour)
    if mapped.title == NO_TITLE:
        where = "200$a" if flavour == "unimarc" else "245$a"
        raise InvalidRecord(f"the record needs a title ({where})", f"书目记录必须有题名（{where}）")
    _apply_marc(record, marc, flavour)
    session.flush()
    return record


def _source(record: Record, marc: bytes, matched_by: str) -> RecordSource:
    return RecordSource(
        record_id=record.id,
        flavour=record.marc_flavour or "unimarc",
        marc=marc,
        marc_sha256=hashlib.sha256(marc).hexdigest(),
        matched_by=matched_by,
    )


@dataclass(frozen=True)
class CopyInput:
    home: str
    barcode: str | None = None
    call_number: str | None = None
    item_type: str = "book"
    price: Decimal | None = None


def add_copy(session: Session, record: Record, data: CopyInput) -> Copy:
    """A new copy at a point; the barcode comes from the network's scheme when none is given."""
    point = get_point(session, data.home)
    barcode = (data.barcode or "").strip() or next_barcodes(session, "copy", 1)[0]
    if session.scalar(select(Copy.id).where(Copy.barcode == barcode)) is not None:
        raise Conflict(f"barcode {barcode} is already in use", f"条码 {barcode} 已被使用")
    copy = Copy(
        barcode=barcode,
        record=record,
        home_point=point,
        current_point=point,
        call_number=(data.call_number or record.clc or "").strip(),
        item_type=data.item_type,
        price=data.price,
        status=CopyStatus.AVAILABLE.value,
    )
    session.add(copy)
    session.flush()
    return copy


def edit_copy(session: Session, copy: Copy, changes: dict[str, Any]) -> Copy:
    """Change call number, item type or price."""
    for key in ("call_number", "item_type", "price"):
        if key in changes:
            setattr(copy, key, changes[key])
    session.flush()
    return copy


def move_copy(session: Session, copy: Copy, to: str) -> Copy:
    """Give a copy a new home point (调拨); it must be on the shelf, not out or promised."""
    point = get_point(session, to)
    if copy.status not in (CopyStatus.AVAILABLE, CopyStatus.IN_PROCESSING):
        raise Conflict(
            f"copy {copy.barcode} is {copy.status}; only a copy on the shelf can be moved",
            f"图书 {copy.barcode} 当前状态为 {copy.status}，只有在架图书可以调拨",
        )
    copy.home_point = point
    copy.current_point = point
    session.flush()
    return copy


def merge_records(session: Session, keep: Record, other: Record) -> Record:
    """Put ``other``'s copies and MARC sources under ``keep`` and delete ``other``."""
    if keep.id == other.id:
        raise InvalidRecord("cannot merge a record with itself", "不能与自身合并")
    for copy in list(other.copies):
        copy.record = keep
    for source in list(other.sources):
        source.record = keep
    if not keep.isbn13 and other.isbn13:
        keep.isbn13 = other.isbn13
    session.flush()
    session.delete(other)
    session.flush()
    return keep


def split_source(
    session: Session, record: Record, source_id: int, barcodes: list[str] | None = None
) -> Record:
    """Undo a wrong merge: the source becomes a record again, with the copies that came with it.

    ``barcodes``, when given, names the copies to move instead.
    """
    source = session.get(RecordSource, source_id)
    if source is None or source.record_id != record.id:
        raise NotFound(
            f"record {record.id} has no source {source_id}",
            f"书目记录 {record.id} 没有来源 {source_id}",
        )
    if len(record.sources) < 2:
        raise InvalidRecord(
            "the record has only one source: nothing to split",
            "该记录只有一个来源，无法拆分",
        )
    new = Record()
    _apply_marc(new, pymarc.Record(data=source.marc, force_utf8=True), source.flavour)
    session.add(new)
    session.flush()
    source.record = new
    if barcodes is None:
        moving = [c for c in record.copies if c.source_id == source.id]
    else:
        moving = [get_copy(session, b) for b in barcodes]
        strangers = [c.barcode for c in moving if c.record_id != record.id]
        if strangers:
            raise InvalidRecord(
                f"copies {', '.join(strangers)} do not belong to record {record.id}",
                f"图书 {', '.join(strangers)} 不属于书目记录 {record.id}",
            )
    for copy in moving:
        copy.record = new
    if record.marc == source.marc:  # the record showed the split-off version: show another
        remaining = next(s for s in record.sources if s.id != source.id)
        _apply_marc(record, pymarc.Record(data=remaining.marc, force_utf8=True), remaining.flavour)
    session.flush()
    return new


def shelf_list(session: Session, code: str) -> list[Copy]:
    """A point's copies in shelf order: 中图法 class part by part, then the book number."""
    point = get_point(session, code)
    copies = session.scalars(
        select(Copy).where(
            Copy.home_point_id == point.id, Copy.status != CopyStatus.WITHDRAWN.value
        )
    )
    return sorted(copies, key=lambda c: (call_number_sort_key(c.call_number), c.barcode))
