"""The reader at the counter (读者): loans, holds, fines, history; renew, block, take payment."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import or_, select

from app.api.patrons import loans_of
from app.auth import allow
from app.counter import COUNTER_ROLES, bp, desk, desk_point, points_for_choice
from app.counter.lending import patron_panel
from app.db import get_session
from app.errors import language
from catalog.errors import DomainError, NotFound
from circulation import loans
from circulation.blocks import block_patron, lift_block
from circulation.fines import get_fine, open_fines, pay, waive
from circulation.hold_service import cancel_hold, get_hold
from circulation.holds import open_holds_of, queue_position
from circulation.models import PatronBlock
from circulation.patrons import Patron
from circulation.renewals import renew

HISTORY_ROWS = 50


@bp.route("/patrons")
@allow(*COUNTER_ROLES)
def find_patron() -> ResponseReturnValue:
    """Find a reader by card number or name."""
    q = (request.args.get("q") or "").strip()
    found: list[Patron] = []
    if q:
        db = get_session()
        found = list(
            db.scalars(
                select(Patron).where(or_(Patron.card == q, Patron.name.contains(q))).limit(50)
            )
        )
        if len(found) == 1:
            return redirect(url_for("counter.patron", card=found[0].card))
    return render_template(
        "counter/patrons.html", q=q, found=found, point=desk_point(), points=points_for_choice()
    )


@bp.route("/patrons/<card>")
@allow(*COUNTER_ROLES)
def patron(card: str) -> ResponseReturnValue:
    db = get_session()
    reader = loans.find_patron(db, card)
    holds = open_holds_of(db, reader)
    return render_template(
        "counter/patron.html",
        panel=patron_panel(card),
        open_loans=list(db.scalars(loans_of(db, reader, open_only=True))),
        holds=[(h, queue_position(db, h)) for h in holds],
        fines=open_fines(db, reader),
        history=list(db.scalars(loans_of(db, reader, open_only=False).limit(HISTORY_ROWS))),
        blocks=list(
            db.scalars(
                select(PatronBlock).where(
                    PatronBlock.patron_id == reader.id, PatronBlock.lifted_at.is_(None)
                )
            )
        ),
        today=desk().today,
        point=desk_point(),
        points=points_for_choice(),
    )


def _act(card: str, action: Any, done: str) -> ResponseReturnValue:
    """Run one action for the reader; say what happened (or why not) on their page."""
    db = get_session()
    try:
        action(db)
        db.commit()
        flash(done, "ok")
    except DomainError as exc:
        db.rollback()
        flash(exc.message(language()), "error")
    return redirect(url_for("counter.patron", card=card))


def _amount(text: str | None) -> Decimal | None:
    try:
        return Decimal(text).quantize(Decimal("0.01")) if text and text.strip() else None
    except InvalidOperation:
        return Decimal("-1")  # refused by the domain with the reason


@bp.route("/patrons/<card>/renew", methods=["POST"])
@allow(*COUNTER_ROLES)
def patron_renew(card: str) -> ResponseReturnValue:
    barcode = request.form.get("barcode", "")
    return _act(card, lambda db: renew(db, desk(), barcode), _("Renewed."))


@bp.route("/patrons/<card>/block", methods=["POST"])
@allow(*COUNTER_ROLES)
def patron_block(card: str) -> ResponseReturnValue:
    reason = request.form.get("reason", "")
    return _act(
        card,
        lambda db: block_patron(db, desk(), loans.find_patron(db, card), reason),
        _("Borrowing blocked."),
    )


@bp.route("/patrons/<card>/blocks/<int:block_id>/lift", methods=["POST"])
@allow(*COUNTER_ROLES)
def patron_unblock(card: str, block_id: int) -> ResponseReturnValue:
    reason = request.form.get("reason", "")

    def lift(db: Any) -> None:
        lift_block(db, desk(), loans.find_patron(db, card), block_id, reason)

    return _act(card, lift, _("Block lifted."))


@bp.route("/patrons/<card>/fines/<int:fine_id>", methods=["POST"])
@allow(*COUNTER_ROLES)
def patron_fine(card: str, fine_id: int) -> ResponseReturnValue:
    """Take a payment, or waive with a reason (the form's ``do``)."""
    amount = _amount(request.form.get("amount"))
    reason = request.form.get("reason", "")

    def settle(db: Any) -> None:
        fine = get_fine(db, fine_id)
        if fine.patron_id != loans.find_patron(db, card).id:
            raise NotFound(
                f"no fine {fine_id} on card {card}", f"读者 {card} 没有编号为 {fine_id} 的费用"
            )
        if request.form.get("do") == "waive":
            waive(db, desk(), fine, reason, amount)
        else:
            pay(db, desk(), fine, amount)

    return _act(card, settle, _("Fine updated."))


@bp.route("/patrons/<card>/holds/<int:hold_id>/cancel", methods=["POST"])
@allow(*COUNTER_ROLES)
def patron_cancel_hold(card: str, hold_id: int) -> ResponseReturnValue:
    reason = request.form.get("reason", "") or "cancelled at the counter / 馆员取消"
    return _act(
        card,
        lambda db: cancel_hold(db, desk(), get_hold(db, hold_id), reason),
        _("Hold cancelled."),
    )
