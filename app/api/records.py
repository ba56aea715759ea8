"""/api/v1/records: a union-catalogue record with every copy and its status per point."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from marshmallow import Schema, fields
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.accounts import Role
from app.auth import allow, public
from app.db import get_session
from catalog.errors import NotFound
from catalog.records import Copy, Record

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
    copies = fields.List(fields.Nested(CopySchema))


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
    payload = {c.key: getattr(record, c.key) for c in Record.__table__.columns}
    payload["copies"] = [copy_payload(c) for c in sorted(record.copies, key=lambda c: c.barcode)]
    return payload


@blp.route("/copies/<barcode>", methods=["GET"])
@blp.response(200, CopySchema)
@allow(Role.NETWORK_ADMIN, Role.BRANCH_LIBRARIAN, Role.CATALOGUER, Role.TERMINAL)
def show_copy(barcode: str) -> dict[str, Any]:
    """One copy by barcode, for counters and terminals."""
    copy = get_session().scalar(select(Copy).where(Copy.barcode == barcode))
    if copy is None:
        raise NotFound(f"no copy with barcode {barcode}", f"没有条码为 {barcode} 的图书")
    return copy_payload(copy)
