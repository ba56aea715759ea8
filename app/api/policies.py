"""/api/v1/policies: circulation rules, set by the network administrator, and their effect."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from app.accounts import Role
from app.api.fields import Count, Money, Text, UtcDateTime
from app.api.points import get_point
from app.auth import allow
from app.db import get_session
from circulation.models import Policy
from circulation.policies import delete_rule, get_rule, save_rule
from circulation.resolved import resolved_table

blp = Blueprint("policies", __name__, description="Circulation rules (流通规则)")

READERS = (Role.NETWORK_ADMIN, Role.BRANCH_LIBRARIAN)


class RuleSettings(Schema):
    loan_days = Count(allow_none=True, validate=validate.Range(min=1, max=3650))
    max_renewals = Count(allow_none=True, validate=validate.Range(min=0, max=100))
    max_loans = Count(allow_none=True, validate=validate.Range(min=0, max=100000))
    max_holds = Count(allow_none=True, validate=validate.Range(min=0, max=1000))
    hold_shelf_days = Count(allow_none=True, validate=validate.Range(min=1, max=365))
    fine_per_day = Money(allow_none=True, as_string=True)
    fine_cap = Money(allow_none=True, as_string=True)
    overdue_block_items = Count(allow_none=True, validate=validate.Range(min=0, max=100000))
    fine_block_amount = Money(allow_none=True, as_string=True)
    lendable = fields.Boolean(allow_none=True)
    note = Text(validate=validate.Length(max=300))


class RuleSchema(RuleSettings):
    id = fields.Integer(dump_only=True)
    point = fields.Function(lambda r: r.point.code if r.point else None)
    patron_category = fields.String(allow_none=True)
    item_type = fields.String(allow_none=True)
    updated_at = UtcDateTime(dump_only=True)


class RuleInputSchema(RuleSettings):
    point = Text(
        allow_none=True,
        validate=validate.Length(min=1, max=32),
        metadata={"description": "point code; empty: the whole network"},
    )
    patron_category = Text(allow_none=True, validate=validate.Length(min=1, max=32))
    item_type = Text(allow_none=True, validate=validate.Length(min=1, max=32))


class ResolvedQuerySchema(Schema):
    point = Text(load_default=None, validate=validate.Length(max=32))


class ResolvedRowSchema(RuleSettings):
    patron_category = fields.String()
    item_type = fields.String()
    sources = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        metadata={"description": "setting -> id of the rule that gives it"},
    )


class ResolvedTableSchema(Schema):
    point = fields.String()
    rows = fields.List(fields.Nested(ResolvedRowSchema))


def _values(data: dict[str, Any]) -> dict[str, Any]:
    values = dict(data)
    if "point" in values:
        code = values.pop("point")
        values["point_id"] = get_point(code).id if code else None
    return values


@blp.route("/policies", methods=["GET"])
@blp.response(200, RuleSchema(many=True))
@allow(*READERS)
def list_rules() -> list[Policy]:
    """Every rule, the network default first."""
    rules = get_session().scalars(select(Policy).order_by(Policy.point_id.is_not(None), Policy.id))
    return list(rules)


@blp.route("/policies", methods=["POST"])
@blp.arguments(RuleInputSchema)
@blp.response(201, RuleSchema)
@allow(Role.NETWORK_ADMIN)
def create_rule(data: dict[str, Any]) -> Policy:
    """Add a rule for a point (and its subtree), patron category and/or item type (POLICY-2)."""
    session = get_session()
    rule = save_rule(session, _values(data))
    session.commit()
    return rule


@blp.route("/policies/<int:rule_id>", methods=["PATCH"])
@blp.arguments(RuleInputSchema)
@blp.response(200, RuleSchema)
@allow(Role.NETWORK_ADMIN)
def update_rule(data: dict[str, Any], rule_id: int) -> Policy:
    """Change a rule's settings (empty: inherit) or scope."""
    session = get_session()
    rule = save_rule(session, _values(data), get_rule(session, rule_id))
    session.commit()
    return rule


@blp.route("/policies/<int:rule_id>", methods=["DELETE"])
@blp.response(204)
@allow(Role.NETWORK_ADMIN)
def remove_rule(rule_id: int) -> None:
    """Delete a rule; the network default cannot be deleted (POLICY-1)."""
    session = get_session()
    delete_rule(session, get_rule(session, rule_id))
    session.commit()


@blp.route("/policies/resolved", methods=["GET"])
@blp.arguments(ResolvedQuerySchema, location="query")
@blp.response(200, ResolvedTableSchema)
@allow(*READERS)
def show_resolved(query: dict[str, Any]) -> dict[str, Any]:
    """What applies at a point to each patron category and item type (POLICY-3)."""
    session = get_session()
    point = get_point(query["point"]) if query["point"] else None
    return resolved_table(session, point)
