"""The circulation rules page (流通规则): the network administrator edits, librarians read.

The page shows the rules as written and, for a chosen point, the resolved
table: what applies to each patron category and item type, and which rule
each setting comes from (POLICY-5).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from marshmallow import ValidationError
from sqlalchemy import select

from app.accounts import Role
from app.api.policies import RuleInputSchema
from app.auth import allow, current_principal
from app.db import get_session
from app.errors import language
from catalog.errors import DomainError
from catalog.network import all_points, point_by_code
from circulation.models import Policy
from circulation.patrons import PATRON_CATEGORIES
from circulation.policies import SETTING_NAMES_ZH, SETTINGS, delete_rule, get_rule, save_rule
from circulation.resolved import item_types, resolved_table

bp = Blueprint("staff_policies", __name__, url_prefix="/staff/policies")

SETTING_NAMES_EN = {
    "loan_days": "Loan days",
    "max_renewals": "Renewals",
    "max_loans": "Most loans",
    "max_holds": "Most holds",
    "hold_shelf_days": "Hold shelf days",
    "fine_per_day": "Fine per day (yuan)",
    "fine_cap": "Fine cap per loan (yuan)",
    "overdue_block_items": "Block at N overdue (0: never)",
    "fine_block_amount": "Block at fines of (0: never)",
    "lendable": "May be lent",
}


INTEGER_SETTINGS = {"loan_days", "max_renewals", "max_loans", "max_holds", "hold_shelf_days",
                    "overdue_block_items"}  # fmt: skip


def setting_names() -> dict[str, str]:
    return SETTING_NAMES_EN if language().startswith("en") else SETTING_NAMES_ZH


def form_values(form: Any) -> dict[str, Any]:
    """The form as the API would receive it: empty means inherit (or "any" for the scope)."""
    values: dict[str, Any] = {}
    for key in ("point", "patron_category", "item_type", *SETTINGS, "note"):
        raw = (form.get(key) or "").strip()
        if key == "lendable":
            values[key] = {"yes": True, "no": False}.get(raw)
        elif key == "note":
            values[key] = raw
        elif key in INTEGER_SETTINGS and raw.isdigit():
            values[key] = int(raw)
        else:
            values[key] = raw or None
    return values


@bp.route("/")
@allow(Role.NETWORK_ADMIN, Role.BRANCH_LIBRARIAN)
def rules() -> ResponseReturnValue:
    db = get_session()
    principal = current_principal()
    code = request.args.get("point") or None
    point = point_by_code(db, code) if code else None
    rules_ = list(db.scalars(select(Policy).order_by(Policy.point_id.is_not(None), Policy.id)))
    return render_template(
        "staff/policies.html",
        rules=rules_,
        table=resolved_table(db, point),
        point=point,
        points=all_points(db),
        categories=PATRON_CATEGORIES,
        item_types=item_types(db),
        settings=SETTINGS,
        names=setting_names(),
        can_edit=principal is not None and principal.role == Role.NETWORK_ADMIN,
    )


@bp.route("/save", methods=["POST"])
@allow(Role.NETWORK_ADMIN)
def save() -> ResponseReturnValue:
    """Add a rule, or change one (``rule_id`` in the form)."""
    db = get_session()
    try:
        values = RuleInputSchema().load(form_values(request.form))
        code = values.pop("point", None)
        if code:
            found = point_by_code(db, code)
            if found is None:
                raise ValidationError({"point": [f"no service point {code}"]})
            values["point_id"] = found.id
        elif "point" in request.form:
            values["point_id"] = None
        rule_id = request.form.get("rule_id")
        rule = get_rule(db, int(rule_id)) if rule_id and rule_id.isdigit() else None
        if (
            rule is not None
            and rule.point_id is None
            and not rule.patron_category
            and not rule.item_type
        ):
            for key in ("point_id", "patron_category", "item_type"):
                values.pop(key, None)
        save_rule(db, values, rule)
        db.commit()
        flash(_("Rule saved."), "ok")
    except DomainError as exc:
        db.rollback()
        flash(exc.message(language()), "error")
    except ValidationError as exc:
        db.rollback()
        flash(_("Please correct: %(fields)s", fields=", ".join(sorted(exc.normalized_messages()))),
              "error")  # fmt: skip
    return redirect(url_for("staff_policies.rules"))


@bp.route("/<int:rule_id>/delete", methods=["POST"])
@allow(Role.NETWORK_ADMIN)
def delete(rule_id: int) -> ResponseReturnValue:
    db = get_session()
    try:
        delete_rule(db, get_rule(db, rule_id))
        db.commit()
        flash(_("Rule deleted."), "ok")
    except DomainError as exc:
        db.rollback()
        flash(exc.message(language()), "error")
    return redirect(url_for("staff_policies.rules"))
