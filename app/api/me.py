"""/api/v1/me: who the caller is, as the system sees them."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from marshmallow import Schema, fields

from app.auth import allow, current_principal
from app.db import get_session
from catalog.network import ServicePoint

blp = Blueprint("me", __name__, description="The signed-in caller")


class MeSchema(Schema):
    name = fields.String()
    role = fields.String()
    scope = fields.String(allow_none=True)


@blp.route("/me", methods=["GET"])
@blp.response(200, MeSchema)
@allow()
def show_me() -> dict[str, Any]:
    """The caller's name, role and scope (branch subtree or terminal point)."""
    principal = current_principal()
    assert principal is not None
    scope = None
    if principal.scope_point_id is not None:
        point = get_session().get(ServicePoint, principal.scope_point_id)
        scope = point.code if point else None
    return {"name": principal.name, "role": principal.role.value, "scope": scope}
