"""`tongjie catalog export`: the union catalogue as ISO 2709 or MARCXML, with today's holdings.

Each record goes out as the MARC it was imported with (kept losslessly in
UTF-8) when the requested flavour is its own, or rebuilt from its normalised
fields in the other flavour. The holdings fields it arrived with are
replaced by the copies held now (withdrawn copies left out): MARC21 952,
CNMARC 905. With a location, only records holding a copy there are written,
with only those copies.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import BinaryIO
from xml.etree import ElementTree

import pymarc
from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.errors import NotFound
from catalog.marc.build import CopyHolding, build_record, replace_holdings
from catalog.network import ServicePoint, point_by_code
from catalog.records import Copy, CopyStatus, Record

NAMESPACES = {"marc21": "http://www.loc.gov/MARC21/slim", "unimarc": "http://www.nlc.cn/"}
RECORD_FIELDS = (
    "title", "title_pinyin", "other_title", "responsibility", "authors", "authors_pinyin",
    "edition", "publisher", "pub_place", "pub_year", "extent", "series", "summary", "subjects",
    "clc", "language", "isbns", "price",
)  # fmt: skip
CHUNK = 500


def normalise_flavour(flavour: str | None) -> str | None:
    """Accept "cnmarc" for the UNIMARC family, as cataloguers say it."""
    return {"cnmarc": "unimarc"}.get(flavour or "", flavour)


def export_catalog(
    session: Session,
    out: BinaryIO,
    *,
    format: str = "iso2709",
    flavour: str | None = None,
    location: str | None = None,
) -> int:
    """Write every record (or those held at ``location``) to ``out``; returns how many."""
    flavour = normalise_flavour(flavour)
    point_id = None
    if location is not None:
        point = point_by_code(session, location)
        if point is None:
            raise NotFound(
                f"no service point with code {location}", f"没有代码为 {location} 的服务点"
            )
        point_id = point.id
    codes = {pid: code for pid, code in session.execute(select(ServicePoint.id, ServicePoint.code))}
    if format == "marcxml":
        out.write(b'<?xml version="1.0" encoding="UTF-8"?>\n<collection>\n')
    written = 0
    for record, copies in _records_with_copies(session, point_id):
        target = flavour or record.marc_flavour or "marc21"
        marc = _marc_for(record, target)
        holdings = [
            CopyHolding(
                barcode=c.barcode,
                home=codes[c.home_point_id],
                current=codes[c.current_point_id],
                call_number=c.call_number,
                item_type=c.item_type,
                price=str(c.price) if c.price is not None else None,
            )
            for c in copies
        ]
        replace_holdings(marc, target, holdings)
        if format == "marcxml":
            node = pymarc.record_to_xml_node(marc, namespace=False)
            node.set("xmlns", NAMESPACES[target])
            out.write(ElementTree.tostring(node, encoding="utf-8").split(b"?>", 1)[-1].strip())
            out.write(b"\n")
        else:
            out.write(marc.as_marc())
        written += 1
    if format == "marcxml":
        out.write(b"</collection>\n")
    return written


def _marc_for(record: Record, flavour: str) -> pymarc.Record:
    if record.marc and record.marc_flavour == flavour:
        return pymarc.Record(data=record.marc, force_utf8=True)
    fields = {name: getattr(record, name) for name in RECORD_FIELDS}
    return build_record(flavour, fields)


def _records_with_copies(
    session: Session, point_id: int | None
) -> Iterator[tuple[Record, list[Copy]]]:
    """Records in id order, a chunk at a time, each with its exported copies."""
    last_id = 0
    while True:
        query = select(Record).where(Record.id > last_id).order_by(Record.id).limit(CHUNK)
        if point_id is not None:
            held_here = select(Copy.record_id).where(Copy.home_point_id == point_id)
            query = query.where(Record.id.in_(held_here))
        records = list(session.scalars(query))
        if not records:
            return
        copies_query = select(Copy).where(
            Copy.record_id.in_([r.id for r in records]), Copy.status != CopyStatus.WITHDRAWN.value
        )
        if point_id is not None:
            copies_query = copies_query.where(Copy.home_point_id == point_id)
        by_record: dict[int, list[Copy]] = defaultdict(list)
        for copy in session.scalars(copies_query.order_by(Copy.barcode)):
            by_record[copy.record_id].append(copy)
        for record in records:
            yield record, by_record.get(record.id, [])
        last_id = records[-1].id
        session.expunge_all()
