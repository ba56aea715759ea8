"""/api/v1/rotation: rotation batches (图书流转) and the planner's proposals."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy.orm import Session

from app.accounts import Role
from app.api.actions import perform
from app.api.circulation import AtPointSchema, principal
from app.api.fields import Count, Text, UtcDateTime
from app.api.points import get_point
from app.auth import allow
from app.db import get_session
from app.desk import desk_for
from catalog.db import utcnow
from circulation.desk import local_date
from circulation.rotation.batches import (
    batches,
    close_if_back,
    create_batch,
    get_batch,
    recall_batch,
    send_batch,
)
from circulation.rotation.models import RotationBatch
from circulation.rotation.planner import plan
from circulation.tree import NetworkTree

blp = Blueprint("rotation", __name__, description="Rotation batches (图书流转)")

STAFF = (Role.NETWORK_ADMIN, Role.BRANCH_LIBRARIAN)


class LeftSchema(Schema):
    barcode = fields.String()
    en = fields.String()
    zh = fields.String()


class BatchCopySchema(Schema):
    barcode = fields.Function(lambda i: i.copy.barcode)
    title = fields.Function(lambda i: i.copy.record.title)
    call_number = fields.Function(lambda i: i.copy.call_number)
    status = fields.Function(lambda i: i.copy.status)
    now_at = fields.Function(lambda i: i.copy.current_point.code)
    original_home = fields.Function(
        lambda i: NetworkTree.load(get_session())[i.original_home_id].code
    )
    received_at = UtcDateTime(allow_none=True)
    back_at = UtcDateTime(allow_none=True)


class BatchSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    from_point = fields.Function(lambda b: b.from_point.code)
    to_point = fields.Function(lambda b: b.to_point.code)
    status = fields.String()
    recall_on = fields.Date(allow_none=True)
    created_at = UtcDateTime()
    sent_at = UtcDateTime(allow_none=True)
    copies = fields.List(fields.Nested(BatchCopySchema))


class BatchResultSchema(Schema):
    batch = fields.Nested(BatchSchema)
    left_out = fields.List(fields.Nested(LeftSchema))


class BatchInputSchema(AtPointSchema):
    name = Text(required=True, validate=validate.Length(min=1, max=200))
    to = Text(required=True, validate=validate.Length(min=1, max=32))
    barcodes = fields.List(Text(validate=validate.Length(min=1, max=64)), required=True,
                           validate=validate.Length(min=1, max=5000))  # fmt: skip
    recall_on = fields.Date(load_default=None, allow_none=True)


class PlanQuerySchema(Schema):
    months = Count(load_default=12, validate=validate.Range(min=1, max=120))


class PlanLineSchema(Schema):
    barcode = fields.String()
    title = fields.String()
    call_number = fields.String()
    top_class = fields.String()
    from_point = fields.String()


class ProposalSchema(Schema):
    to_point = fields.String()
    deficit = fields.Integer()
    waiting_holds = fields.Integer()
    held_before = fields.Integer()
    held_after = fields.Integer()
    per_capita_before = fields.Float(allow_none=True)
    per_capita_after = fields.Float(allow_none=True)
    titles_before = fields.Integer()
    titles_after = fields.Integer()
    lines = fields.List(fields.Nested(PlanLineSchema))


def _result(session: Session, batch: RotationBatch, left: list[Any]) -> dict[str, Any]:
    session.refresh(batch)
    return {"batch": BatchSchema().dump(batch), "left_out": LeftSchema(many=True).dump(left)}


@blp.route("/rotation/batches", methods=["GET"])
@blp.response(200, BatchSchema(many=True))
@allow(*STAFF)
def list_batches() -> list[RotationBatch]:
    """Every batch, the newest first."""
    return batches(get_session())


@blp.route("/rotation/batches", methods=["POST"])
@blp.arguments(BatchInputSchema)
@blp.response(201, BatchResultSchema)
@allow(*STAFF)
def create(data: dict[str, Any]) -> Response:
    """Plan a batch of copies on this point's shelf for another point (ROTATION-1)."""

    def action(session: Session) -> tuple[int, dict[str, Any]]:
        desk = desk_for(session, principal(), data.get("point"))
        batch, left = create_batch(session, desk, data["name"], get_point(data["to"]),
                                   data["barcodes"], data["recall_on"])  # fmt: skip
        return 201, _result(session, batch, left)

    return perform(action)


@blp.route("/rotation/batches/<int:batch_id>", methods=["GET"])
@blp.response(200, BatchSchema)
@allow(*STAFF)
def show(batch_id: int) -> RotationBatch:
    """A batch with every copy and where it is now (ROTATION-6)."""
    return get_batch(get_session(), batch_id)


@blp.route("/rotation/batches/<int:batch_id>/send", methods=["POST"])
@blp.arguments(AtPointSchema)
@blp.response(200, BatchResultSchema)
@allow(*STAFF)
def send(data: dict[str, Any], batch_id: int) -> Response:
    """Put the batch in the van (ROTATION-2)."""

    def action(session: Session) -> tuple[int, dict[str, Any]]:
        desk = desk_for(session, principal(), data.get("point"))
        batch = get_batch(session, batch_id)
        return 200, _result(session, batch, send_batch(session, desk, batch))

    return perform(action)


@blp.route("/rotation/batches/<int:batch_id>/recall", methods=["POST"])
@blp.arguments(AtPointSchema)
@blp.response(200, BatchResultSchema)
@allow(*STAFF)
def recall(data: dict[str, Any], batch_id: int) -> Response:
    """End the season: every copy gets its original home back (ROTATION-4)."""

    def action(session: Session) -> tuple[int, dict[str, Any]]:
        desk = desk_for(session, principal(), data.get("point"))
        batch = get_batch(session, batch_id)
        recall_batch(session, desk, batch)
        close_if_back(session, desk, batch)
        return 200, _result(session, batch, [])

    return perform(action)


@blp.route("/rotation/plan", methods=["GET"])
@blp.arguments(PlanQuerySchema, location="query")
@blp.response(200, ProposalSchema(many=True))
@allow(Role.NETWORK_ADMIN)
def proposals(query: dict[str, Any]) -> list[dict[str, Any]]:
    """The planner's proposals (PLAN-1..5): idle surplus copies for points below the target."""
    session = get_session()
    tree = NetworkTree.load(session)
    result = plan(session, local_date(utcnow()), query["months"])
    return [
        {"to_point": tree[p.to_id].code, "deficit": p.deficit, "waiting_holds": p.waiting_holds,
         "held_before": p.held_before, "held_after": p.held_after,
         "per_capita_before": p.per_capita(p.held_before),
         "per_capita_after": p.per_capita(p.held_after),
         "titles_before": p.titles_before, "titles_after": p.titles_after,
         "lines": [{"barcode": ln.barcode, "title": ln.title, "call_number": ln.call_number,
                    "top_class": ln.top_class, "from_point": tree[ln.from_id].code}
                   for ln in p.lines]}
        for p in result.proposals
    ]  # fmt: skip
