"""Counter pages for lending and returns: scan a card, scan books, done."""

from __future__ import annotations

from typing import Any

from flask import redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from app.api.receipts import CHECKOUT_RESULT
from app.auth import allow
from app.counter import (
    COUNTER_ROLES,
    bp,
    desk,
    desk_point,
    new_form_key,
    once,
    outcomes,
    points_for_choice,
    return_once,
)
from app.db import get_session
from catalog.errors import DomainError
from circulation.blocks import block_reasons, loan_counts, outstanding_fines
from circulation.loans import checkout as check_out
from circulation.loans import find_patron
from circulation.models import Hold, HoldStatus
from circulation.policies import resolve
from circulation.tree import NetworkTree

VISIT = "counter_visit"  # {"card": ..., "keys": [...]}: books lent to this reader in this visit
RETURNS = "counter_returns"  # form keys of the last check-ins at this desk
KEEP_RETURNS = 20
OVERRIDABLE = ("on_hold_for_other", "on_loan_to_other")


def patron_panel(card: str) -> dict[str, Any] | None:
    """What the librarian needs to see on scanning a card: who, how many, and any block."""
    db = get_session()
    try:
        patron = find_patron(db, card)
    except DomainError:
        return None
    point = desk_point()
    d = desk()
    policy = resolve(NetworkTree.load(db), point.id, patron.category, None)
    counts = loan_counts(db, patron.id, d.today)
    ready = db.scalars(
        select(Hold).where(Hold.patron_id == patron.id, Hold.status == HoldStatus.READY,
                           Hold.pickup_point_id == point.id)
    ).all()  # fmt: skip
    return {
        "patron": patron,
        "counts": counts,
        "max_loans": policy.max_loans,
        "fines": outstanding_fines(db, patron.id),
        "blocks": block_reasons(db, patron, policy, d.today, counts),
        "ready": ready,
    }


@bp.route("/checkout", methods=["GET"])
@allow(*COUNTER_ROLES)
def checkout() -> ResponseReturnValue:
    """Scan a card, then books; the list of this visit's loans grows under the scan field."""
    card = (request.args.get("card") or "").strip()
    visit = session.get(VISIT) or {}
    if card and visit.get("card") != card:
        visit = {"card": card, "keys": []}
        session[VISIT] = visit
    results = outcomes(visit.get("keys", [])) if card else []
    return render_template(
        "counter/checkout.html",
        card=card,
        panel=patron_panel(card) if card else None,
        results=results,
        last=results[-1] if results else None,
        form_key=new_form_key(),
        point=desk_point(),
        points=points_for_choice(),
        overridable=OVERRIDABLE,
    )


@bp.route("/checkout", methods=["POST"])
@allow(*COUNTER_ROLES)
def checkout_scan() -> ResponseReturnValue:
    card = (request.form.get("card") or "").strip()
    barcode = (request.form.get("barcode") or "").strip()
    override = (request.form.get("override") or "").strip() or None
    form_key = request.form.get("form_key") or new_form_key()
    if card and barcode:
        db = get_session()

        def lend() -> dict[str, Any]:
            receipt = check_out(db, desk(), card, barcode, override=override)
            result: dict[str, Any] = CHECKOUT_RESULT.dump(
                {"loan": receipt.loan, "receipt": receipt}
            )
            return result

        once(form_key, lend, barcode=barcode, override=override)
        visit = session.get(VISIT) or {"card": card, "keys": []}
        if visit.get("card") != card:
            visit = {"card": card, "keys": []}
        if form_key not in visit["keys"]:
            visit["keys"].append(form_key)
        session[VISIT] = visit
    return redirect(url_for("counter.checkout", card=card or None))


@bp.route("/checkout/receipt", methods=["POST"])
@allow(*COUNTER_ROLES)
def checkout_receipt() -> ResponseReturnValue:
    """The visit's receipt (80 mm printer); the next reader starts with an empty list."""
    visit = session.pop(VISIT, None) or {}
    lent = [o["ok"] for o in outcomes(visit.get("keys", [])) if "ok" in o]
    panel = patron_panel(visit["card"]) if visit.get("card") else None
    return render_template("counter/checkout_receipt.html", lent=lent, panel=panel,
                           point=desk_point())  # fmt: skip


@bp.route("/checkin", methods=["GET"])
@allow(*COUNTER_ROLES)
def checkin() -> ResponseReturnValue:
    """Scan books; each gets its instruction in large type, the newest first."""
    results = list(reversed(outcomes(session.get(RETURNS, []))))
    return render_template(
        "counter/checkin.html",
        results=results,
        last=results[0] if results else None,
        form_key=new_form_key(),
        point=desk_point(),
        points=points_for_choice(),
    )


@bp.route("/checkin", methods=["POST"])
@allow(*COUNTER_ROLES)
def checkin_scan() -> ResponseReturnValue:
    barcode = (request.form.get("barcode") or "").strip()
    form_key = request.form.get("form_key") or new_form_key()
    if barcode:
        return_once(form_key, barcode, desk(), RETURNS, KEEP_RETURNS)
    return redirect(url_for("counter.checkin"))


@bp.route("/checkin/clear", methods=["POST"])
@allow(*COUNTER_ROLES)
def checkin_clear() -> ResponseReturnValue:
    session.pop(RETURNS, None)
    return redirect(url_for("counter.checkin"))
