"""Kiosk pages that lend, return and renew: the counter's service functions, one form key each."""

from __future__ import annotations

from typing import Any

from flask import redirect, request, session, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.accounts import Role
from app.api.receipts import CHECKOUT_RESULT, RENEWAL_RESULT
from app.auth import allow
from app.counter import new_form_key, once, outcomes, return_once
from app.db import get_session
from app.kiosk import KEEP_RETURNS, RETURNS, VISIT, bp, desk, end_visit, page, printable, reader
from catalog.errors import NotFound
from catalog.records import Copy
from circulation.blocks import outstanding_fines
from circulation.holds import open_holds_of
from circulation.loans import checkout as check_out
from circulation.models import Loan
from circulation.renewals import renew as renew_loan


def _barcode() -> str:
    return printable(request.form.get("barcode"))


@bp.route("/checkout", methods=["GET", "POST"])
@allow(Role.TERMINAL)
def checkout() -> ResponseReturnValue:
    """KIOSK-2, 4: scan books one after another; each is lent or refused in both languages."""
    patron = reader()
    if patron is None:
        return redirect(url_for("kiosk.signin", next="kiosk.checkout"))
    if request.method == "POST":
        barcode, form_key = _barcode(), request.form.get("form_key") or new_form_key()
        if barcode:
            db, card = get_session(), patron.card

            def lend() -> dict[str, Any]:
                receipt = check_out(db, desk(), card, barcode)
                result: dict[str, Any] = CHECKOUT_RESULT.dump(
                    {"loan": receipt.loan, "receipt": receipt}
                )
                return result

            once(form_key, lend, barcode=barcode)
            keys = session.get(VISIT) or []
            session[VISIT] = [*[k for k in keys if k != form_key], form_key]
        return redirect(url_for("kiosk.checkout"))
    results = outcomes(session.get(VISIT) or [])
    return page("kiosk/checkout.html", patron=patron, results=results,
                last=results[-1] if results else None, form_key=new_form_key())  # fmt: skip


@bp.route("/checkin", methods=["GET", "POST"])
@allow(Role.TERMINAL)
def checkin() -> ResponseReturnValue:
    """KIOSK-2: returns need no card."""
    if request.method == "POST":
        barcode, form_key = _barcode(), request.form.get("form_key") or new_form_key()
        if barcode:
            return_once(form_key, barcode, desk(), RETURNS, KEEP_RETURNS)
        return redirect(url_for("kiosk.checkin"))
    results = list(reversed(outcomes(session.get(RETURNS) or [])))
    return page("kiosk/checkin.html", results=results, last=results[0] if results else None,
                form_key=new_form_key())  # fmt: skip


@bp.route("/account")
@allow(Role.TERMINAL)
def account() -> ResponseReturnValue:
    """My account: loans (with renew buttons), holds, what is owed."""
    patron = reader()
    if patron is None:
        return redirect(url_for("kiosk.signin", next="kiosk.account"))
    db = get_session()
    loans = db.scalars(
        select(Loan)
        .where(Loan.patron_id == patron.id, Loan.returned_at.is_(None))
        .options(joinedload(Loan.copy).joinedload(Copy.record))
        .order_by(Loan.due_date, Loan.id)
    ).all()
    renewed = outcomes([request.args["renewed"]]) if request.args.get("renewed") else []
    return page("kiosk/account.html", patron=patron, loans=loans, today=desk().today,
                holds=open_holds_of(db, patron), owed=outstanding_fines(db, patron.id),
                renewed=renewed[0] if renewed else None, form_key=new_form_key())  # fmt: skip


@bp.route("/renew", methods=["POST"])
@allow(Role.TERMINAL)
def renew() -> ResponseReturnValue:
    """Renew one of the reader's loans (RENEW-1..6); another reader's loan is refused."""
    patron = reader()
    if patron is None:
        return redirect(url_for("kiosk.signin", next="kiosk.account"))
    barcode, form_key = _barcode(), request.form.get("form_key") or new_form_key()
    db, card = get_session(), patron.card

    def extend() -> dict[str, Any]:
        receipt = renew_loan(db, desk(), barcode)
        if receipt.loan.patron is None or receipt.loan.patron.card != card:
            raise NotFound(
                f"copy {barcode} is not on loan to you", f"图书 {barcode} 不在您的借阅中"
            )
        result: dict[str, Any] = RENEWAL_RESULT.dump({"loan": receipt.loan, "receipt": receipt})
        return result

    once(form_key, extend, barcode=barcode)
    return redirect(url_for("kiosk.account", renewed=form_key))


@bp.route("/receipt", methods=["POST"])
@allow(Role.TERMINAL)
def receipt() -> ResponseReturnValue:
    """KIOSK-3, 6: the visit's slip; the reader is signed out."""
    patron = reader()
    lent = [o["ok"] for o in outcomes(session.get(VISIT) or []) if "ok" in o]
    name = patron.name if patron is not None else ""
    card = patron.card if patron is not None else ""
    end_visit()
    return page("kiosk/receipt.html", lent=lent, name=name, card=card)
