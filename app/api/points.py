"""/api/v1/points: the network tree, open to all; edits for admins and scoped librarians."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from app.accounts import Role, require_point_scope
from app.api.fields import Count, Text
from app.auth import allow, current_principal, public
from app.db import get_session
from catalog import cataloguing
from catalog.errors import NotFound
from catalog.holdings import copies_held_by_point, per_capita
from catalog.network import ClosedDay, ServicePoint, all_points, point_by_code

blp = Blueprint("points", __name__, description="Service points of the network (服务点)")


class ClosedDaySchema(Schema):
    day = fields.Date(required=True)
    reason = Text(load_default="", validate=validate.Length(max=200))


class PointSchema(Schema):
    code = fields.String()
    name = fields.String()
    kind = fields.String()
    parent = fields.String(allow_none=True)
    region = fields.String()
    population = fields.Integer()
    address = fields.String()
    opening_days = fields.String()
    floating = fields.Boolean()
    closed_days = fields.List(fields.Nested(ClosedDaySchema))
    copies_held = fields.Integer()
    holdings_per_capita = fields.Float(allow_none=True)


class ShelfCopySchema(Schema):
    barcode = fields.String()
    call_number = fields.String()
    title = fields.String()
    status = fields.String()
    current = fields.String()


class PointUpdateSchema(Schema):
    name = Text(validate=validate.Length(min=1, max=200))
    address = Text(validate=validate.Length(max=300))
    population = Count()
    opening_days = Text(validate=validate.Regexp(r"^[1-7]{1,7}$"))
    floating = fields.Boolean(
        metadata={"description": "the point and its subtree share stock (CHECKIN-2.2)"}
    )
    closed_days = fields.List(fields.Nested(ClosedDaySchema))

    @validates_schema
    def _one_entry_per_day(self, data: dict[str, Any], **_: Any) -> None:
        days = [c["day"] for c in data.get("closed_days") or []]
        repeated = sorted({d.isoformat() for d in days if days.count(d) > 1})
        if repeated:
            raise ValidationError(
                {"closed_days": [f"each day once: {', '.join(repeated)} given more than once"]}
            )


def point_payload(point: ServicePoint, copies_held: int) -> dict[str, Any]:
    return {
        "code": point.code,
        "name": point.name,
        "kind": point.kind,
        "parent": point.parent.code if point.parent else None,
        "region": point.region_code,
        "population": point.population,
        "address": point.address,
        "opening_days": point.opening_days,
        "floating": point.floating,
        "closed_days": [{"day": c.day, "reason": c.reason} for c in point.closed_days],
        "copies_held": copies_held,
        "holdings_per_capita": per_capita(copies_held, point.population),
    }


def set_closed_days(point: ServicePoint, wanted: dict[Any, str]) -> None:
    """Make the point's closed dates ``wanted`` (day -> reason), keeping rows for days that stay.

    Replacing the whole list would insert a day again before deleting its old row, which the
    one-row-per-point-and-day constraint refuses.
    """
    kept = [c for c in point.closed_days if c.day in wanted]
    for row in kept:
        row.reason = wanted[row.day]
    have = {c.day for c in kept}
    point.closed_days = kept + [
        ClosedDay(day=day, reason=reason) for day, reason in wanted.items() if day not in have
    ]


def get_point(code: str) -> ServicePoint:
    point = point_by_code(get_session(), code)
    if point is None:
        raise NotFound(f"no service point with code {code}", f"没有代码为 {code} 的服务点")
    return point


@blp.route("/points", methods=["GET"])
@blp.response(200, PointSchema(many=True))
@public
def list_points() -> list[dict[str, Any]]:
    """Every service point with copies held and holdings per capita (人均藏书)."""
    session = get_session()
    held = copies_held_by_point(session)
    return [point_payload(p, held.get(p.id, 0)) for p in all_points(session)]


@blp.route("/points/<code>", methods=["GET"])
@blp.response(200, PointSchema)
@public
def show_point(code: str) -> dict[str, Any]:
    """One service point."""
    point = get_point(code)
    return point_payload(point, copies_held_by_point(get_session()).get(point.id, 0))


@blp.route("/points/<code>/shelf-list", methods=["GET"])
@blp.response(200, ShelfCopySchema(many=True))
@allow(Role.NETWORK_ADMIN, Role.BRANCH_LIBRARIAN, Role.CATALOGUER)
def shelf_list(code: str) -> list[dict[str, Any]]:
    """The copies a point holds, in shelf order (中图法 class part by part, then book number)."""
    return [
        {"barcode": c.barcode, "call_number": c.call_number, "title": c.record.title,
         "status": c.status, "current": c.current_point.code}
        for c in cataloguing.shelf_list(get_session(), code)
    ]  # fmt: skip


@blp.route("/points/<code>", methods=["PATCH"])
@blp.arguments(PointUpdateSchema)
@blp.response(200, PointSchema)
@allow(Role.NETWORK_ADMIN, Role.BRANCH_LIBRARIAN)
def update_point(changes: dict[str, Any], code: str) -> dict[str, Any]:
    """Change a point's name, address, population, opening days or closed dates.

    A branch librarian may change only points in their own subtree.
    """
    session = get_session()
    point = get_point(code)
    principal = current_principal()
    assert principal is not None
    require_point_scope(session, principal, point)
    closed = changes.pop("closed_days", None)
    for key, value in changes.items():
        setattr(point, key, value)
    if closed is not None:
        set_closed_days(point, {c["day"]: c["reason"] for c in closed})
    session.commit()
    return point_payload(point, copies_held_by_point(session).get(point.id, 0))
