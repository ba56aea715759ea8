"""/api/v1/patrons: a patron by card, for counters and terminals. Never the PIN or full ID."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from marshmallow import Schema, fields

from app.accounts import Role
from app.auth import allow
from app.db import get_session
from catalog.errors import NotFound
from circulation.patrons import patron_by_card

blp = Blueprint("patrons", __name__, description="Patrons (读者)")


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


@blp.route("/patrons/<card>", methods=["GET"])
@blp.response(200, PatronSchema)
@allow(Role.NETWORK_ADMIN, Role.BRANCH_LIBRARIAN, Role.TERMINAL)
def show_patron(card: str) -> dict[str, Any]:
    """A patron by card: any point may look up any card (通借通还)."""
    patron = patron_by_card(get_session(), card)
    if patron is None:
        raise NotFound(f"no patron with card {card}", f"没有卡号为 {card} 的读者")
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
    }
