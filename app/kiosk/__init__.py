"""The touch kiosk (自助借还触摸屏): lend, return, renew and "my account" for readers.

KIOSK-1 A browser becomes a kiosk once, when someone who knows a SIP2 terminal
        account (``tongjie sip2 terminals add``) enrols it at /kiosk/enrol: it then
        acts as that terminal, at its point, until the account is disabled or its
        password changes. It is not a staff browser (enrolling signs staff out).
KIOSK-2 Returns need no sign-in. Lending, renewing and the account page need the
        reader's card and PIN, with the lockout of PIN-2 (circulation/pins.py).
KIOSK-3 A reader's session ends by the "done" button, by printing the receipt, or
        after ``KIOSK_IDLE_SECONDS`` (default 60) without a touch or a scan: the page
        goes back to the start by itself, and the server forgets the reader
        even if the page did not.
KIOSK-4 Every action calls the counter's service functions at the terminal's point;
        a form sent twice (a double tap, a second scan of the same form) is applied
        once (the counter's one-time form key).
KIOSK-5 Every refusal is shown in Chinese and English, in large type; nothing a
        reader types can make the page fail (bad input is a refusal).
KIOSK-6 The receipt is an 80 mm slip with the reader's masked name, the books and
        their due dates.
"""

from __future__ import annotations

import time
from typing import Any

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue

from app.accounts import Role
from app.auth import KIOSK_KEY, allow, current_principal, public
from app.db import get_session
from app.desk import desk_for
from circulation.patrons import Patron, patron_by_card
from circulation.pins import PIN_MESSAGES, PinCheck, check_pin
from circulation.sip2.terminals import authenticate

bp = Blueprint("kiosk", __name__, url_prefix="/kiosk")

READER = "kiosk_reader"  # {"card", "seen"}: the signed-in reader and their last touch
VISIT = "kiosk_visit"  # form keys of this reader's loans
RETURNS = "kiosk_returns"  # form keys of the last returns
KEEP_RETURNS = 10
DEFAULT_IDLE_SECONDS = 60


def printable(text: str | None, limit: int = 64) -> str:
    """What a scanner or a finger typed, without control characters (KIOSK-5), cut to size."""
    return "".join(c for c in (text or "") if c.isprintable()).strip()[:limit]


def idle_seconds() -> int:
    return int(current_app.config.get("KIOSK_IDLE_SECONDS", DEFAULT_IDLE_SECONDS))


def desk() -> Any:
    principal = current_principal()
    assert principal is not None
    return desk_for(get_session(), principal, None)


def end_visit() -> None:
    for key in (READER, VISIT, RETURNS):
        session.pop(key, None)


def reader() -> Patron | None:
    """KIOSK-3: the signed-in reader, unless they have been idle too long."""
    signed = session.get(READER)
    if not isinstance(signed, dict):
        return None
    if time.time() - float(signed.get("seen", 0)) > idle_seconds():
        end_visit()
        return None
    patron = patron_by_card(get_session(), str(signed.get("card", "")))
    if patron is None:
        end_visit()
        return None
    signed["seen"] = time.time()
    session[READER] = signed
    return patron


@bp.before_request
def _forget_idle_returns() -> None:
    """KIOSK-3: the list of returns goes with the reader who stood there."""
    seen = session.get("kiosk_seen")
    if seen is not None and time.time() - float(seen) > idle_seconds():
        end_visit()
    session["kiosk_seen"] = time.time()


@bp.app_template_filter("both")
def both_languages(error: dict[str, Any]) -> str:
    """KIOSK-5: a refusal in Chinese, then English."""
    zh = error.get("message_zh") or error.get("message", "")
    en = error.get("message_en") or ""
    return f"{zh} / {en}" if en and en != zh else zh


def page(template: str, **values: Any) -> str:
    return render_template(template, point=desk().point, idle=idle_seconds(), **values)


@bp.route("/enrol", methods=["GET", "POST"])
@public
def enrol() -> ResponseReturnValue:
    """KIOSK-1: make this browser a kiosk with a SIP2 terminal account."""
    error = None
    if request.method == "POST":
        terminal = authenticate(
            get_session(),
            printable(request.form.get("login")),
            request.form.get("password") or "",
        )
        if terminal is not None:
            lang = session.get("lang")
            session.clear()
            session[KIOSK_KEY] = {"terminal": terminal.id, "stamp": terminal.password_stamp}
            if lang:
                session["lang"] = lang
            return redirect(url_for("kiosk.home"))
        error = {
            "message_zh": "终端账号或密码错误",
            "message_en": "wrong terminal login or password",
        }
    status = 401 if error else 200
    return render_template("kiosk/enrol.html", error=error, idle=0), status


@bp.route("/")
@allow(Role.TERMINAL)
def home() -> ResponseReturnValue:
    return page("kiosk/home.html", patron=reader())


@bp.route("/signin", methods=["GET", "POST"])
@allow(Role.TERMINAL)
def signin() -> ResponseReturnValue:
    """KIOSK-2: card and PIN; the next page is lending or the account."""
    target = request.values.get("next")
    target = target if target in ("kiosk.checkout", "kiosk.account") else "kiosk.checkout"
    error = None
    if request.method == "POST":
        db = get_session()
        card = printable(request.form.get("card"))
        pin = (request.form.get("pin") or "")[:64]
        patron = patron_by_card(db, card) if card else None
        result = check_pin(db, patron, pin) if patron is not None else PinCheck.WRONG
        db.commit()  # a failure counts even though the sign-in is refused (PIN-2)
        if result == PinCheck.OK and patron is not None:
            end_visit()
            session[READER] = {"card": patron.card, "seen": time.time()}
            return redirect(url_for(target))
        en, zh = PIN_MESSAGES[result]
        if result == PinCheck.WRONG:
            en, zh = "wrong card number or PIN", "读者证号或密码错误"
        error = {"message_zh": zh, "message_en": en}
    status = 401 if error else 200
    return page("kiosk/signin.html", error=error, next=target), status


@bp.route("/end", methods=["POST"])
@allow(Role.TERMINAL)
def end() -> ResponseReturnValue:
    end_visit()
    return redirect(url_for("kiosk.home"))


from app.kiosk import lending  # noqa: E402,F401 (views register on bp)
