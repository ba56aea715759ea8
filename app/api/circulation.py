"""/api/v1 checkouts, check-ins, renewals and transits: the counter's and the kiosk's calls.

Each view only parses, finds the acting point and calls one service function
of circulation/ inside ``perform`` (one transaction, Idempotency-Key aware).
"""

from __future__ import annotations

from typing import Any

from flask import Response
from flask_smorest import Blueprint
from marshmallow import Schema, validate
from sqlalchemy.orm import Session

from app.accounts import Principal, Role
from app.api.actions import perform
from app.api.fields import Text
from app.api.receipts import (
    CHECKIN_RESULT,
    CHECKOUT_RESULT,
    RENEWAL_RESULT,
    CheckinResultSchema,
    CheckoutResultSchema,
    RenewalResultSchema,
)
from app.auth import allow, current_principal
from app.desk import desk_for
from catalog.errors import PermissionDenied
from circulation.checkin import checkin, receive
from circulation.loans import checkout
from circulation.renewals import renew

blp = Blueprint("circulation", __name__, description="Checkout, check-in, renewal (借还续)")

CIRCULATION_ROLES = (Role.NETWORK_ADMIN, Role.BRANCH_LIBRARIAN, Role.TERMINAL)
CARD = validate.Length(min=1, max=64)
POINT_HELP = {"description": "acting point code (staff only; a terminal acts at its own)"}


class AtPointSchema(Schema):
    point = Text(
        load_default=None, allow_none=True, validate=validate.Length(max=32), metadata=POINT_HELP
    )


class CheckoutInputSchema(AtPointSchema):
    card = Text(required=True, validate=CARD)
    barcode = Text(required=True, validate=CARD)
    override = Text(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=300),
        metadata={
            "description": "staff only: lend anyway (kept for another hold, on loan to "
            "another card), with the reason for the ledger"
        },
    )


class BarcodeInputSchema(AtPointSchema):
    barcode = Text(required=True, validate=CARD)


def principal() -> Principal:
    caller = current_principal()
    assert caller is not None
    return caller


def _desk(session: Session, data: dict[str, Any]) -> Any:
    return desk_for(session, principal(), data.get("point"))


@blp.route("/checkouts", methods=["POST"])
@blp.arguments(CheckoutInputSchema)
@blp.response(201, CheckoutResultSchema)
@allow(*CIRCULATION_ROLES)
def create_checkout(data: dict[str, Any]) -> Response:
    """Lend a copy to a card at the acting point (CHECKOUT-1..9)."""
    if data["override"] and principal().role == Role.TERMINAL:
        raise PermissionDenied("only a librarian may override", "只有馆员可以强制借出")

    def action(session: Session) -> tuple[int, dict[str, Any]]:
        receipt = checkout(
            session, _desk(session, data), data["card"], data["barcode"], override=data["override"]
        )
        return 201, CHECKOUT_RESULT.dump({"loan": receipt.loan, "receipt": receipt})

    return perform(action)


@blp.route("/checkins", methods=["POST"])
@blp.arguments(BarcodeInputSchema)
@blp.response(200, CheckinResultSchema)
@allow(*CIRCULATION_ROLES)
def create_checkin(data: dict[str, Any]) -> Response:
    """Take a copy back at the acting point; the receipt says where it goes (CHECKIN-1..4)."""

    def action(session: Session) -> tuple[int, dict[str, Any]]:
        receipt = checkin(session, _desk(session, data), data["barcode"])
        return 200, CHECKIN_RESULT.dump({"receipt": receipt})

    return perform(action)


@blp.route("/renewals", methods=["POST"])
@blp.arguments(BarcodeInputSchema)
@blp.response(200, RenewalResultSchema)
@allow(*CIRCULATION_ROLES)
def create_renewal(data: dict[str, Any]) -> Response:
    """Renew the open loan of a copy (RENEW-1..6)."""

    def action(session: Session) -> tuple[int, dict[str, Any]]:
        receipt = renew(session, _desk(session, data), data["barcode"])
        return 200, RENEWAL_RESULT.dump({"loan": receipt.loan, "receipt": receipt})

    return perform(action)


@blp.route("/transits/receive", methods=["POST"])
@blp.arguments(BarcodeInputSchema)
@blp.response(200, CheckinResultSchema)
@allow(*CIRCULATION_ROLES)
def receive_transit(data: dict[str, Any]) -> Response:
    """A copy from the van scanned in at the acting point (TRANSIT-3, TRANSIT-4)."""

    def action(session: Session) -> tuple[int, dict[str, Any]]:
        receipt = receive(session, _desk(session, data), data["barcode"])
        return 200, CHECKIN_RESULT.dump({"receipt": receipt})

    return perform(action)
