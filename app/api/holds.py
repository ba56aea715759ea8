"""/api/v1/holds: holds on titles picked up anywhere, pull lists, hold shelves and transit lists."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy.orm import Session

from app.accounts import Role
from app.api.actions import perform
from app.api.circulation import CARD, AtPointSchema, principal
from app.api.fields import Id, Text, UtcDateTime
from app.api.points import get_point
from app.api.receipts import CHECKIN_RECEIPT, CheckinReceiptSchema, PointRefSchema
from app.auth import allow
from app.db import get_session
from app.desk import desk_for
from catalog import cataloguing
from circulation.hold_service import cancel_hold, change_pickup, get_hold, place_hold
from circulation.holds import hold_shelf, pull_list, queue_position
from circulation.loans import find_patron
from circulation.models import Hold
from circulation.receipts import CheckinReceipt, CopyRef, PointRef
from circulation.routing import Routing
from circulation.transits import transit_list
from circulation.tree import NetworkTree

blp = Blueprint("holds", __name__, description="Holds, pull lists and transits (预约与在途)")

HOLD_ROLES = (Role.NETWORK_ADMIN, Role.BRANCH_LIBRARIAN, Role.TERMINAL)
STAFF = (Role.NETWORK_ADMIN, Role.BRANCH_LIBRARIAN)


class HoldSchema(Schema):
    id = fields.Integer()
    card = fields.Function(lambda h: h.patron.card if h.patron else None)
    patron_name = fields.Function(lambda h: h.patron.name if h.patron else None)
    record_id = fields.Integer()
    title = fields.Function(lambda h: h.record.title)
    pickup = fields.Function(lambda h: PointRefSchema().dump(PointRef.of(h.pickup_point)))
    status = fields.String()
    placed_at = UtcDateTime()
    copy = fields.Function(lambda h: h.copy.barcode if h.copy else None)
    shelf_until = fields.Date(allow_none=True)
    queue_position = fields.Function(
        lambda h: queue_position(get_session(), h), metadata={"description": "HOLD-6"}
    )


class HoldInputSchema(AtPointSchema):
    card = Text(required=True, validate=CARD)
    record_id = Id(required=True)
    pickup = Text(required=True, validate=validate.Length(min=1, max=32))


class CancelInputSchema(AtPointSchema):
    reason = Text(load_default="", validate=validate.Length(max=300))


class PickupInputSchema(AtPointSchema):
    pickup = Text(required=True, validate=validate.Length(min=1, max=32))


class CancelResultSchema(Schema):
    hold = fields.Nested(HoldSchema)
    receipt = fields.Nested(
        CheckinReceiptSchema,
        allow_none=True,
        metadata={"description": "where its copy goes, if it was on a shelf"},
    )


class PullLineSchema(Schema):
    hold_id = fields.Integer()
    barcode = fields.String()
    call_number = fields.String()
    title = fields.String()
    pickup_code = fields.String()
    pickup_name = fields.String()
    placed_at = UtcDateTime()


class TransitLineSchema(Schema):
    transit_id = fields.Integer()
    barcode = fields.String()
    title = fields.String()
    call_number = fields.String()
    from_code = fields.String()
    to_code = fields.String()
    to_name = fields.String()
    reason = fields.String()
    sent_at = UtcDateTime()
    run_code = fields.String(metadata={"description": "delivery run: the branch group it goes to"})
    hold_card = fields.String(allow_none=True)


class TransitQuerySchema(Schema):
    direction = fields.String(load_default="in", validate=validate.OneOf(["in", "out"]))


def hold_payload(hold: Hold) -> dict[str, Any]:
    body: dict[str, Any] = HoldSchema().dump(hold)
    return body


def routing_receipt(routing: Routing | None, hold: Hold) -> dict[str, Any] | None:
    """The instruction for a copy let go from a hold shelf, in the check-in receipt's shape."""
    if routing is None or hold.copy is None:
        return None
    receipt = CheckinReceipt(
        action=routing.action,
        destination=PointRef.of(routing.destination) if routing.destination else None,
        copy=CopyRef.of(hold.copy),
        point=PointRef.of(hold.pickup_point),
        transit_id=routing.transit.id if routing.transit else None,
        notes=routing.notes,
    )
    result: dict[str, Any] = CHECKIN_RECEIPT.dump(receipt)
    return result


@blp.route("/holds", methods=["POST"])
@blp.arguments(HoldInputSchema)
@blp.response(201, HoldSchema)
@allow(*HOLD_ROLES)
def create_hold(data: dict[str, Any]) -> Response:
    """Place a hold on a title, picked up at any point (HOLD-1, HOLD-3)."""

    def action(session: Session) -> tuple[int, dict[str, Any]]:
        desk = desk_for(session, principal(), data.get("point"))
        patron = find_patron(session, data["card"])
        record = cataloguing.get_record(session, data["record_id"])
        pickup = get_point(data["pickup"])
        return 201, hold_payload(place_hold(session, desk, patron, record, pickup))

    return perform(action)


@blp.route("/holds/<int:hold_id>", methods=["GET"])
@blp.response(200, HoldSchema)
@allow(*HOLD_ROLES)
def show_hold(hold_id: int) -> Hold:
    """One hold with its place in the queue (HOLD-6)."""
    return get_hold(get_session(), hold_id)


@blp.route("/holds/<int:hold_id>/cancel", methods=["POST"])
@blp.arguments(CancelInputSchema)
@blp.response(200, CancelResultSchema)
@allow(*HOLD_ROLES)
def cancel(data: dict[str, Any], hold_id: int) -> Response:
    """Cancel a hold; a copy it kept on a hold shelf is routed again (HOLD-7, HOLD-9)."""

    def action(session: Session) -> tuple[int, dict[str, Any]]:
        desk = desk_for(session, principal(), data.get("point"))
        hold = get_hold(session, hold_id)
        routing = cancel_hold(session, desk, hold, data["reason"])
        return 200, {"hold": hold_payload(hold), "receipt": routing_receipt(routing, hold)}

    return perform(action)


@blp.route("/holds/<int:hold_id>", methods=["PATCH"])
@blp.arguments(PickupInputSchema)
@blp.response(200, HoldSchema)
@allow(*HOLD_ROLES)
def move_pickup(data: dict[str, Any], hold_id: int) -> Response:
    """Change the pickup point of an open hold (HOLD-8)."""

    def action(session: Session) -> tuple[int, dict[str, Any]]:
        desk = desk_for(session, principal(), data.get("point"))
        hold = change_pickup(session, desk, get_hold(session, hold_id), get_point(data["pickup"]))
        return 200, hold_payload(hold)

    return perform(action)


@blp.route("/points/<code>/pull-list", methods=["GET"])
@blp.response(200, PullLineSchema(many=True))
@allow(*STAFF)
def show_pull_list(code: str) -> list[Any]:
    """Copies to take off this point's shelves for holds, in shelf order (取书单)."""
    return pull_list(get_session(), get_point(code))


@blp.route("/points/<code>/hold-shelf", methods=["GET"])
@blp.response(200, HoldSchema(many=True))
@allow(*STAFF)
def show_hold_shelf(code: str) -> list[Hold]:
    """Holds waiting on this point's hold shelf, soonest to expire first."""
    return hold_shelf(get_session(), get_point(code))


@blp.route("/points/<code>/transits", methods=["GET"])
@blp.arguments(TransitQuerySchema, location="query")
@blp.response(200, TransitLineSchema(many=True))
@allow(*STAFF)
def show_transits(query: dict[str, Any], code: str) -> list[Any]:
    """Open transits coming in to (``direction=in``) or going out of a point, by delivery run."""
    session = get_session()
    return transit_list(session, NetworkTree.load(session), get_point(code), query["direction"])
