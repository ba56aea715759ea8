"""The counter (流通台): staff pages for lending, returns, patrons, pull lists and transits.

Built for a barcode scanner that types and presses Enter: every page keeps
the focus in its scan field, every error is shown in red and beeps, and a
form submitted twice (a double Enter) is applied once (API-1: each form
carries a one-time key). The views call the same service functions as the
JSON API and the SIP2 server.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

from flask import Blueprint, redirect, request, session, url_for
from flask.typing import ResponseReturnValue

from app import idempotency
from app.accounts import Principal, Role
from app.api.receipts import CHECKIN_RECEIPT
from app.auth import allow, current_principal
from app.db import get_session
from app.desk import acting_point
from app.errors import language
from catalog.errors import DomainError
from catalog.network import ServicePoint, all_points
from circulation.checkin import checkin
from circulation.desk import Desk
from circulation.tree import TreePoint

bp = Blueprint("counter", __name__, url_prefix="/staff/counter")

COUNTER_ROLES = (Role.NETWORK_ADMIN, Role.BRANCH_LIBRARIAN)
DESK_KEY = "desk_point"


def principal() -> Principal:
    caller = current_principal()
    assert caller is not None
    return caller


def desk_point() -> TreePoint:
    """The point this browser works at: chosen once, remembered in the session."""
    db = get_session()
    try:
        return acting_point(db, principal(), session.get(DESK_KEY))
    except DomainError:
        session.pop(DESK_KEY, None)
        return acting_point(db, principal(), None)


def desk() -> Desk:
    return Desk(desk_point(), principal().actor)


def points_for_choice() -> list[ServicePoint]:
    """Points this librarian may work at, for the desk chooser."""
    from app.accounts import may_manage_point

    db = get_session()
    return [p for p in all_points(db) if may_manage_point(db, principal(), p)]


def page_caller() -> str:
    """Whose forms these are: a librarian, or a kiosk (app/kiosk) by its terminal name."""
    caller = principal()
    return f"page:{caller.user_id}" if caller.user_id is not None else f"page:{caller.actor}"


def new_form_key() -> str:
    return uuid.uuid4().hex


def once(form_key: str, action: Callable[[], dict[str, Any]], **context: Any) -> dict[str, Any]:
    """Run ``action`` once per form key; a resubmitted form gets the first outcome back.

    The outcome is ``{"ok": {...}}`` or ``{"error": {code, message, details}}``, with
    ``context`` (what was scanned) beside it.
    """
    db = get_session()
    caller = page_caller()
    key = idempotency.check_key(form_key)
    print_ = idempotency.fingerprint("POST", request.path, b"")
    for _ in range(2):
        stored = idempotency.stored_answer(db, caller, key, print_)
        if stored is not None:
            return stored[1]
        row = idempotency.claim(db, caller, key, print_)
        if row is None:
            continue
        try:
            outcome = {"ok": action(), **context}
        except DomainError as exc:
            db.rollback()
            details = json.loads(json.dumps(exc.details, default=str))
            error = {"code": exc.code, "message": exc.message(language()), "details": details,
                     "message_en": exc.message_en, "message_zh": exc.message_zh}  # fmt: skip
            outcome = {"error": error, **context}
            row = idempotency.claim(db, caller, key, print_)
            if row is None:
                continue
        idempotency.remember(row, 200, outcome)
        db.commit()
        return outcome
    return {"error": {"code": "concurrent_change", "message": "", "details": {}}, **context}


def return_once(form_key: str, barcode: str, at: Desk, remembered: str, keep: int) -> None:
    """Check a book in once per form key (a double Enter is one return), and remember the
    key last in the session's list ``remembered`` (the last ``keep``), for the page to show."""
    db = get_session()

    def take_back() -> dict[str, Any]:
        result: dict[str, Any] = CHECKIN_RECEIPT.dump(checkin(db, at, barcode))
        return result

    once(form_key, take_back, barcode=barcode)
    keys = [k for k in session.get(remembered) or [] if k != form_key] + [form_key]
    session[remembered] = keys[-keep:]


def outcomes(keys: list[str]) -> list[dict[str, Any]]:
    """The stored outcomes of this librarian's forms, in the order of ``keys``."""
    if not keys:
        return []
    from sqlalchemy import select

    rows = get_session().execute(
        select(idempotency.IdempotencyKey.key, idempotency.IdempotencyKey.response).where(
            idempotency.IdempotencyKey.caller == page_caller(),
            idempotency.IdempotencyKey.key.in_(keys),
        )
    )
    found = {key: json.loads(body) for key, body in rows}
    return [found[k] for k in keys if k in found]


def note_text(note: dict[str, str]) -> str:
    return note["en"] if language().startswith("en") else note["zh"]


@bp.app_template_filter("note")
def _note_filter(note: dict[str, str]) -> str:
    return note_text(note)


@bp.app_template_filter("localdate")
def _localdate_filter(moment: Any) -> str:
    from circulation.desk import local_date

    return local_date(moment).isoformat() if moment is not None else ""


@bp.app_template_filter("masked")
def _masked_filter(name: str) -> str:
    from circulation.receipts import mask_name

    return mask_name(name)


@bp.route("/", methods=["GET", "POST"])
@allow(*COUNTER_ROLES)
def home() -> ResponseReturnValue:
    """Choose the point this desk works at (POST), or go to lending."""
    if request.method == "POST":
        code = request.form.get("point", "")
        acting_point(get_session(), principal(), code)  # refuses a point outside the scope
        session[DESK_KEY] = code
        return redirect(request.form.get("next") or url_for("counter.checkout"))
    return redirect(url_for("counter.checkout"))


from app.counter import lending, lists, patron  # noqa: E402,F401 (views register on bp)
