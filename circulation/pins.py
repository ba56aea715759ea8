"""A reader's PIN at a self-service terminal (读者密码), with a lockout after repeated failures.

PIN-1 A PIN is checked against the stored salted hash only; neither the PIN nor
      its hash is ever logged or shown.
PIN-2 After ``MAX_FAILURES`` wrong PINs in a row the card is locked for
      ``LOCKOUT``: every PIN is refused until then, the right one too, so a
      four-digit PIN cannot be guessed at a kiosk (10,000 PINs would take
      about a month at five tries per quarter of an hour).
PIN-3 A right PIN outside a lockout resets the count; so does the end of a lockout.
PIN-4 A card without a PIN cannot sign in at a kiosk (self-service needs a PIN).

The count is changed by one UPDATE statement, so two kiosks trying the same
card at once cannot lose a failure. The caller commits (a failure must be
kept even though the action it was for is refused).
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import case, update
from sqlalchemy.orm import Session

from catalog.db import utcnow
from circulation.patrons import Patron

MAX_FAILURES = 5
LOCKOUT = dt.timedelta(minutes=15)


class PinCheck(enum.StrEnum):
    OK = "ok"
    WRONG = "wrong"
    LOCKED = "locked"
    NO_PIN = "no_pin"


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def locked(patron: Patron, now: dt.datetime) -> bool:
    return patron.pin_locked_until is not None and _aware(patron.pin_locked_until) > now


def check_pin(
    session: Session, patron: Patron, pin: str, now: dt.datetime | None = None
) -> PinCheck:
    """PIN-1..4: check the PIN and keep the failure count; the caller commits."""
    now = now or utcnow()
    if patron.pin_hash is None:  # PIN-4
        return PinCheck.NO_PIN
    if locked(patron, now):  # PIN-2
        return PinCheck.LOCKED
    if patron.check_pin(pin):  # PIN-3
        if patron.pin_failures or patron.pin_locked_until is not None:
            clear_failures(session, patron.id)
            patron.pin_failures, patron.pin_locked_until = 0, None
        return PinCheck.OK
    failures = Patron.pin_failures + 1
    session.execute(
        update(Patron)
        .where(Patron.id == patron.id)
        .values(
            pin_failures=case((failures >= MAX_FAILURES, 0), else_=failures),
            pin_locked_until=case(
                (failures >= MAX_FAILURES, now + LOCKOUT), else_=Patron.pin_locked_until
            ),
        )
        .execution_options(synchronize_session=False)
    )
    session.expire(patron, ["pin_failures", "pin_locked_until"])
    return PinCheck.LOCKED if locked(patron, now) else PinCheck.WRONG


def clear_failures(session: Session, patron_id: int) -> None:
    """PIN-3: a right PIN starts the count again."""
    session.execute(
        update(Patron)
        .where(Patron.id == patron_id)
        .values(pin_failures=0, pin_locked_until=None)
        .execution_options(synchronize_session=False)
    )


PIN_MESSAGES = {
    PinCheck.WRONG: ("wrong PIN", "密码错误"),
    PinCheck.LOCKED: (
        f"too many wrong PINs: the card is locked for {LOCKOUT.seconds // 60} minutes",
        f"密码错误次数过多，该卡已锁定 {LOCKOUT.seconds // 60} 分钟",
    ),
    PinCheck.NO_PIN: (
        "this card has no PIN: ask at the counter to set one",
        "该卡未设置密码，请到服务台设置",
    ),
}
