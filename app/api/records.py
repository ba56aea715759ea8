"""/api/v1/records: a union-catalogue record with every copy and its status per point."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.accounts import Principal, Role, require_point_scope
from app.api.fields import Id, Money, Text
from app.auth import allow, current_principal, public
from app.db import get_session
from catalog import cataloguing
from catalog.errors import NotFound
from catalog.network import ServicePoint
from catalog.records import Copy, Record
from circulation.desk import Desk
from circulation.lost import set_status

blp = Blueprint("records", __name__, description="Union catalogue records and copies (书目与馆藏)")


class CopySchema(Schema):
    barcode = fields.String()
    record_id = fields.Integer()
    home = fields.String()
    current = fields.String()
    call_number = fields.String()
    item_type = fields.String()
    status = fields.String()
    date_added = fields.Date()


class SourceSchema(Schema):
    id = fields.Integer()
    file_name = fields.String()
    record_index = fields.Integer(allow_none=True)
    matched_by = fields.String()
    flavour = fields.String()


class RecordSchema(Schema):
    id = fields.Integer()
    title = fields.String()
    title_pinyin = fields.String(allow_none=True)
    responsibility = fields.String(allow_none=True)
    authors = fields.List(fields.String())
    publisher = fields.String(allow_none=True)
    pub_place = fields.String(allow_none=True)
    pub_year = fields.String(allow_none=True)
    isbn13 = fields.String(allow_none=True)
    clc = fields.String(allow_none=True)
    language = fields.String(allow_none=True)
    subjects = fields.List(fields.String())
    other_title = fields.String(allow_none=True)
    edition = fields.String(allow_none=True)
    extent = fields.String(allow_none=True)
    series = fields.String(allow_none=True)
    summary = fields.String(allow_none=True)
    isbns = fields.List(fields.String())
    price = fields.String(allow_none=True)
    marc_flavour = fields.String(allow_none=True)
    copies = fields.List(fields.Nested(CopySchema))
    sources = fields.List(fields.Nested(SourceSchema))


def _text(**kwargs: Any) -> Text:
    return Text(allow_none=True, validate=validate.Length(max=2000), **kwargs)


class RecordInputSchema(Schema):
    """The common fields of the cataloguing form; MARC is written from them."""

    title = Text(validate=validate.Length(min=1, max=2000))
    title_pinyin = _text()
    other_title = _text()
    responsibility = _text()
    authors = fields.List(Text(validate=validate.Length(min=1, max=200)))
    authors_pinyin = fields.List(Text(validate=validate.Length(max=400)))
    edition = _text()
    publisher = _text()
    pub_place = _text()
    pub_year = Text(allow_none=True, validate=validate.Regexp(r"^\d{4}$"))
    extent = _text()
    series = _text()
    summary = _text()
    subjects = fields.List(Text(validate=validate.Length(min=1, max=200)))
    clc = Text(allow_none=True, validate=validate.Length(max=64))
    language = Text(allow_none=True, validate=validate.Regexp(r"^[a-z]{3}$"))
    isbns = fields.List(Text(validate=validate.Length(min=1, max=100)))
    price = _text()


class RecordCreateSchema(RecordInputSchema):
    title = Text(required=True, validate=validate.Length(min=1, max=2000))
    flavour = Text(load_default="unimarc", validate=validate.OneOf(["unimarc", "marc21"]))


class MarcViewSchema(Schema):
    flavour = Text(allow_none=True)
    text = Text()


class MarcEditSchema(Schema):
    text = Text(required=True, metadata={"description": "MARC text, docs/marc.md"})


class CopyInputSchema(Schema):
    home = Text(required=True)
    barcode = Text(allow_none=True, validate=validate.Length(max=64))
    call_number = Text(allow_none=True, validate=validate.Length(max=100))
    item_type = Text(load_default="book", validate=validate.Length(min=1, max=32))
    price = Money(allow_none=True)


class CopyEditSchema(Schema):
    call_number = Text(validate=validate.Length(max=100))
    item_type = Text(validate=validate.Length(min=1, max=32))
    price = Money(allow_none=True)


class MoveSchema(Schema):
    to = Text(required=True)


class StatusSchema(Schema):
    status = Text(required=True)
    reason = Text(load_default="", validate=validate.Length(max=300))
    at = Text(load_default=None, allow_none=True, metadata={"description": "point code"})


class MergeSchema(Schema):
    other = Id(required=True, metadata={"description": "record merged into this one"})


class SplitSchema(Schema):
    source = Id(required=True, metadata={"description": "source to split off"})
    barcodes = fields.List(Text(validate=validate.Length(min=1, max=64)), load_default=None)


def copy_payload(copy: Copy) -> dict[str, Any]:
    return {
        "barcode": copy.barcode,
        "record_id": copy.record_id,
        "home": copy.home_point.code,
        "current": copy.current_point.code,
        "call_number": copy.call_number,
        "item_type": copy.item_type,
        "status": copy.status,
        "date_added": copy.date_added,
    }


CATALOGUERS = (Role.NETWORK_ADMIN, Role.CATALOGUER)
COPY_EDITORS = (Role.NETWORK_ADMIN, Role.CATALOGUER, Role.BRANCH_LIBRARIAN)


def record_payload(record: Record) -> dict[str, Any]:
    payload = {c.key: getattr(record, c.key) for c in Record.__table__.columns}
    payload["copies"] = [copy_payload(c) for c in sorted(record.copies, key=lambda c: c.barcode)]
    payload["sources"] = [
        {"id": s.id, "file_name": s.file_name, "record_index": s.record_index,
         "matched_by": s.matched_by, "flavour": s.flavour}
        for s in record.sources
    ]  # fmt: skip
    return payload


def _principal() -> Principal:
    principal = current_principal()
    assert principal is not None
    return principal


def check_point_scope(point: ServicePoint) -> None:
    """Cataloguers and admins handle copies anywhere; branch librarians in their subtree only."""
    require_point_scope(get_session(), _principal(), point)


@blp.route("/records/<int:record_id>", methods=["GET"])
@blp.response(200, RecordSchema)
@public
def show_record(record_id: int) -> dict[str, Any]:
    """A record and every copy in the network, with where it is and its status."""
    record = get_session().scalar(
        select(Record)
        .where(Record.id == record_id)
        .options(selectinload(Record.copies).selectinload(Copy.home_point))
    )
    if record is None:
        raise NotFound(f"no record {record_id}", f"没有编号为 {record_id} 的书目记录")
    return record_payload(record)


@blp.route("/records", methods=["POST"])
@blp.arguments(RecordCreateSchema)
@blp.response(201, RecordSchema)
@allow(*CATALOGUERS)
def create_record(data: dict[str, Any]) -> dict[str, Any]:
    """Catalogue a new record from the form fields (MARC written in CNMARC unless asked)."""
    session = get_session()
    flavour = data.pop("flavour")
    record = cataloguing.create_record(session, data, flavour)
    session.commit()
    return record_payload(record)


@blp.route("/records/<int:record_id>", methods=["PATCH"])
@blp.arguments(RecordInputSchema)
@blp.response(200, RecordSchema)
@allow(*CATALOGUERS)
def update_record(changes: dict[str, Any], record_id: int) -> dict[str, Any]:
    """Edit common fields; the other MARC fields the record came with are kept."""
    session = get_session()
    record = cataloguing.update_record(session, cataloguing.get_record(session, record_id), changes)
    session.commit()
    return record_payload(record)


@blp.route("/records/<int:record_id>/marc", methods=["GET"])
@blp.response(200, MarcViewSchema)
@public
def show_marc(record_id: int) -> dict[str, Any]:
    """The record's MARC in the line-per-field text form cataloguers read (=245  10$a...)."""
    record = cataloguing.get_record(get_session(), record_id)
    return {"flavour": record.marc_flavour, "text": cataloguing.marc_text(record)}


@blp.route("/records/<int:record_id>/marc", methods=["PUT"])
@blp.arguments(MarcEditSchema)
@blp.response(200, RecordSchema)
@allow(*CATALOGUERS)
def replace_marc(data: dict[str, Any], record_id: int) -> dict[str, Any]:
    """Replace the record's MARC with edited text (same form as GET); 422 lists bad lines."""
    session = get_session()
    record = cataloguing.replace_marc(
        session, cataloguing.get_record(session, record_id), data["text"]
    )
    session.commit()
    return record_payload(record)


@blp.route("/records/<int:record_id>/merge", methods=["POST"])
@blp.arguments(MergeSchema)
@blp.response(200, RecordSchema)
@allow(*CATALOGUERS)
def merge_records(data: dict[str, Any], record_id: int) -> dict[str, Any]:
    """Merge another record of the same edition into this one; its copies follow."""
    session = get_session()
    keep = cataloguing.get_record(session, record_id)
    other = cataloguing.get_record(session, data["other"])
    cataloguing.merge_records(session, keep, other)
    session.commit()
    return record_payload(keep)


@blp.route("/records/<int:record_id>/split", methods=["POST"])
@blp.arguments(SplitSchema)
@blp.response(201, RecordSchema)
@allow(*CATALOGUERS)
def split_record(data: dict[str, Any], record_id: int) -> dict[str, Any]:
    """Undo a wrong merge: one source becomes its own record again, with its copies."""
    session = get_session()
    record = cataloguing.get_record(session, record_id)
    new = cataloguing.split_source(session, record, data["source"], data["barcodes"])
    session.commit()
    return record_payload(new)


@blp.route("/records/<int:record_id>/copies", methods=["POST"])
@blp.arguments(CopyInputSchema)
@blp.response(201, CopySchema)
@allow(*COPY_EDITORS)
def add_copy(data: dict[str, Any], record_id: int) -> dict[str, Any]:
    """Add a copy at a point; without a barcode, the next one of the network's scheme."""
    session = get_session()
    record = cataloguing.get_record(session, record_id)
    check_point_scope(cataloguing.get_point(session, data["home"]))
    copy = cataloguing.add_copy(session, record, cataloguing.CopyInput(**data))
    session.commit()
    return copy_payload(copy)


@blp.route("/copies/<barcode>", methods=["PATCH"])
@blp.arguments(CopyEditSchema)
@blp.response(200, CopySchema)
@allow(*COPY_EDITORS)
def edit_copy(changes: dict[str, Any], barcode: str) -> dict[str, Any]:
    """Change a copy's call number, item type or price."""
    session = get_session()
    copy = cataloguing.get_copy(session, barcode)
    check_point_scope(copy.home_point)
    cataloguing.edit_copy(session, copy, changes)
    session.commit()
    return copy_payload(copy)


@blp.route("/copies/<barcode>/move", methods=["POST"])
@blp.arguments(MoveSchema)
@blp.response(200, CopySchema)
@allow(*COPY_EDITORS)
def move_copy(data: dict[str, Any], barcode: str) -> dict[str, Any]:
    """Give a copy on the shelf a new home point (调拨)."""
    session = get_session()
    copy = cataloguing.get_copy(session, barcode)
    check_point_scope(copy.home_point)
    check_point_scope(cataloguing.get_point(session, data["to"]))
    cataloguing.move_copy(session, copy, data["to"])
    session.commit()
    return copy_payload(copy)


@blp.route("/copies/<barcode>/status", methods=["POST"])
@blp.arguments(StatusSchema)
@blp.response(200, CopySchema)
@allow(*COPY_EDITORS)
def set_copy_status(data: dict[str, Any], barcode: str) -> dict[str, Any]:
    """Withdraw a copy or mark it lost, missing or damaged (or back on the shelf), with a reason.

    A copy on loan may be declared lost: the loan closes and the price is charged (STATUS-6).
    """
    session = get_session()
    copy = cataloguing.get_copy(session, barcode)
    check_point_scope(copy.home_point)
    at = cataloguing.get_point(session, data["at"]) if data["at"] else copy.current_point
    set_status(session, Desk(at, _principal().actor), copy, data["status"], data["reason"])
    session.commit()
    return copy_payload(copy)


@blp.route("/copies/<barcode>", methods=["GET"])
@blp.response(200, CopySchema)
@allow(Role.NETWORK_ADMIN, Role.BRANCH_LIBRARIAN, Role.CATALOGUER, Role.TERMINAL)
def show_copy(barcode: str) -> dict[str, Any]:
    """One copy by barcode, for counters and terminals."""
    copy = get_session().scalar(select(Copy).where(Copy.barcode == barcode))
    if copy is None:
        raise NotFound(f"no copy with barcode {barcode}", f"没有条码为 {barcode} 的图书")
    return copy_payload(copy)
