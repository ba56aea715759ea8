"""/api/v1/patrons: a patron by card, their loans, holds, fines, history and blocks.

For counters and terminals. Never the PIN or the full ID number.
"""

from __future__ import annotations

from typing import Any

from flask import Response
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from app.accounts import Role
from app.api.actions import perform
from app.api.circulation import AtPointSchema, principal
from app.api.fields import Count, Money, Text, UtcDateTime
from app.api.holds import HoldSchema
from app.auth import allow
from app.db import get_session
from app.desk import desk_for
from catalog.db import utcnow
from catalog.records import Copy
from circulation.blocks import (
    block_patron,
    block_reasons,
    lift_block,
    loan_counts,
    outstanding_fines,
)
from circulation.desk import local_date
from circulation.fines import get_fine, open_fines, pay, waive
from circulation.holds import open_holds_of
from circulation.loans import find_patron
from circulation.models import Fine, Hold, Loan, PatronBlock
from circulation.patrons import Patron
from circulation.policies import resolve
from circulation.tree import NetworkTree

blp = Blueprint("patrons", __name__, description="Patrons (读者)")

READERS = (Role.NETWORK_ADMIN, Role.BRANCH_LIBRARIAN, Role.TERMINAL)
STAFF = (Role.NETWORK_ADMIN, Role.BRANCH_LIBRARIAN)


class ReasonSchema(Schema):
    code = fields.String()
    en = fields.String()
    zh = fields.String()


class PatronSchema(Schema):
    card = fields.String()
    name = fields.String()
    category = fields.String()
    home = fields.String()
    status = fields.String()
    expires_on = fields.Date(allow_none=True)
    id_number_masked = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    has_pin = fields.Boolean()
    loans = fields.Integer(metadata={"description": "open loans"})
    overdue = fields.Integer()
    fines_outstanding = fields.Decimal(as_string=True)
    may_borrow = fields.Boolean()
    blocks = fields.List(fields.Nested(ReasonSchema), metadata={"description": "why not (BLOCK-n)"})


class PatronLoanSchema(Schema):
    id = fields.Integer()
    barcode = fields.Function(lambda ln: ln.copy.barcode)
    title = fields.Function(lambda ln: ln.copy.record.title)
    call_number = fields.Function(lambda ln: ln.copy.call_number)
    point = fields.Function(lambda ln: ln.point.code)
    checked_out_at = UtcDateTime()
    due_date = fields.Date()
    renewals = fields.Integer()
    returned_at = UtcDateTime(allow_none=True)
    overdue = fields.Function(
        lambda ln: ln.returned_at is None and ln.due_date < local_date(utcnow())
    )


class FineSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    amount = fields.Decimal(as_string=True)
    paid = fields.Decimal(as_string=True)
    waived = fields.Decimal(as_string=True)
    outstanding = fields.Decimal(as_string=True)
    note = fields.String()
    created_at = UtcDateTime()
    closed_at = UtcDateTime(allow_none=True)


class BlockSchema(Schema):
    id = fields.Integer()
    reason = fields.String()
    blocked_at = UtcDateTime()
    blocked_by = fields.String()
    lifted_at = UtcDateTime(allow_none=True)


class BlockInputSchema(AtPointSchema):
    reason = Text(required=True, validate=validate.Length(min=1, max=300))


class LiftInputSchema(AtPointSchema):
    reason = Text(load_default="", validate=validate.Length(max=300))


class MoneyInputSchema(AtPointSchema):
    amount = Money(load_default=None, allow_none=True)


class WaiveInputSchema(MoneyInputSchema):
    reason = Text(required=True, validate=validate.Length(min=1, max=300))


class PageSchema(Schema):
    page = Count(load_default=1, validate=validate.Range(min=1, max=100000))
    size = Count(load_default=50, validate=validate.Range(min=1, max=500))


def get_patron(card: str) -> Patron:
    return find_patron(get_session(), card)


def patron_payload(session: Session, patron: Patron) -> dict[str, Any]:
    today = local_date(utcnow())
    tree = NetworkTree.load(session)
    policy = resolve(tree, patron.home_point_id, patron.category, None)
    counts = loan_counts(session, patron.id, today)
    reasons = block_reasons(session, patron, policy, today, counts)
    return {
        "card": patron.card,
        "name": patron.name,
        "category": patron.category,
        "home": patron.home_point.code,
        "status": patron.status,
        "expires_on": patron.expires_on,
        "id_number_masked": patron.id_number_masked,
        "phone": patron.phone,
        "has_pin": patron.pin_hash is not None,
        "loans": counts.open,
        "overdue": counts.overdue,
        "fines_outstanding": outstanding_fines(session, patron.id),
        "may_borrow": not reasons,
        "blocks": reasons,
    }


def loans_of(session: Session, patron: Patron, *, open_only: bool) -> Any:
    query = (
        select(Loan)
        .where(Loan.patron_id == patron.id)
        .options(joinedload(Loan.copy).joinedload(Copy.record), joinedload(Loan.point))
    )
    if open_only:
        return query.where(Loan.returned_at.is_(None)).order_by(Loan.due_date, Loan.id)
    return query.where(Loan.returned_at.is_not(None)).order_by(Loan.returned_at.desc(), Loan.id)


@blp.route("/patrons/<card>", methods=["GET"])
@blp.response(200, PatronSchema)
@allow(*READERS)
def show_patron(card: str) -> dict[str, Any]:
    """A patron by card: any point may look up any card (通借通还); blocks with their reasons."""
    return patron_payload(get_session(), get_patron(card))


@blp.route("/patrons/<card>/loans", methods=["GET"])
@blp.response(200, PatronLoanSchema(many=True))
@allow(*READERS)
def show_loans(card: str) -> list[Loan]:
    """The patron's open loans, soonest due first."""
    session = get_session()
    return list(session.scalars(loans_of(session, get_patron(card), open_only=True)))


@blp.route("/patrons/<card>/history", methods=["GET"])
@blp.arguments(PageSchema, location="query")
@blp.response(200, PatronLoanSchema(many=True))
@allow(*STAFF)
def show_history(query: dict[str, Any], card: str) -> list[Loan]:
    """Returned loans, newest first (kept until anonymised by the privacy rule)."""
    session = get_session()
    stmt = loans_of(session, get_patron(card), open_only=False)
    stmt = stmt.limit(query["size"]).offset((query["page"] - 1) * query["size"])
    return list(session.scalars(stmt))


@blp.route("/patrons/<card>/holds", methods=["GET"])
@blp.response(200, HoldSchema(many=True))
@allow(*READERS)
def show_holds(card: str) -> list[Hold]:
    """The patron's open holds with their place in the queue."""
    return open_holds_of(get_session(), get_patron(card))


@blp.route("/patrons/<card>/fines", methods=["GET"])
@blp.response(200, FineSchema(many=True))
@allow(*READERS)
def show_fines(card: str) -> list[Fine]:
    """What the patron owes, oldest first."""
    return open_fines(get_session(), get_patron(card))


@blp.route("/patrons/<card>/blocks", methods=["GET"])
@blp.response(200, BlockSchema(many=True))
@allow(*STAFF)
def show_blocks(card: str) -> list[PatronBlock]:
    """Librarians' blocks on this card, lifted ones included."""
    patron = get_patron(card)
    return list(
        get_session().scalars(
            select(PatronBlock).where(PatronBlock.patron_id == patron.id).order_by(PatronBlock.id)
        )
    )


@blp.route("/patrons/<card>/blocks", methods=["POST"])
@blp.arguments(BlockInputSchema)
@blp.response(201, BlockSchema)
@allow(*STAFF)
def create_block(data: dict[str, Any], card: str) -> Response:
    """Block a card's borrowing with a reason (BLOCK-3)."""

    def action(session: Session) -> tuple[int, dict[str, Any]]:
        desk = desk_for(session, principal(), data.get("point"))
        block = block_patron(session, desk, get_patron(card), data["reason"])
        return 201, BlockSchema().dump(block)

    return perform(action)


@blp.route("/patrons/<card>/blocks/<int:block_id>/lift", methods=["POST"])
@blp.arguments(LiftInputSchema)
@blp.response(200, BlockSchema)
@allow(*STAFF)
def lift(data: dict[str, Any], card: str, block_id: int) -> Response:
    """Lift a librarian's block."""

    def action(session: Session) -> tuple[int, dict[str, Any]]:
        desk = desk_for(session, principal(), data.get("point"))
        block = lift_block(session, desk, get_patron(card), block_id, data["reason"])
        return 200, BlockSchema().dump(block)

    return perform(action)


@blp.route("/fines/<int:fine_id>/payments", methods=["POST"])
@blp.arguments(MoneyInputSchema)
@blp.response(200, FineSchema)
@allow(*STAFF)
def pay_fine(data: dict[str, Any], fine_id: int) -> Response:
    """Take a payment (all that is outstanding when no amount is given) (FINE-2)."""

    def action(session: Session) -> tuple[int, dict[str, Any]]:
        desk = desk_for(session, principal(), data.get("point"))
        return 200, FineSchema().dump(
            pay(session, desk, get_fine(session, fine_id), data["amount"])
        )

    return perform(action)


@blp.route("/fines/<int:fine_id>/waivers", methods=["POST"])
@blp.arguments(WaiveInputSchema)
@blp.response(200, FineSchema)
@allow(*STAFF)
def waive_fine(data: dict[str, Any], fine_id: int) -> Response:
    """Waive all or part of a fine, with the reason (FINE-3)."""

    def action(session: Session) -> tuple[int, dict[str, Any]]:
        desk = desk_for(session, principal(), data.get("point"))
        fine = waive(session, desk, get_fine(session, fine_id), data["reason"], data["amount"])
        return 200, FineSchema().dump(fine)

    return perform(action)
