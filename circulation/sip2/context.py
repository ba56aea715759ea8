"""What a message handler works with: the session, the terminal, its desk, the reader's PIN.

SIP-PIN-1 Checkout, renew, renew all, hold and fee paid need the reader's PIN (AD):
          in the message, or checked earlier on this connection for the same card
          (a kiosk checks it once with 23 or 63 and then lends book after book). The
          memory ends with 35 (end session), another card, or the connection.
SIP-PIN-2 A wrong PIN counts towards the card's lockout (PIN-2, circulation/pins.py);
          the answer says "wrong PIN" or "card locked", never which part was wrong.
SIP-PIN-3 Patron status and patron information without a right PIN give the
          reader's masked name (张*丰) and counts only: no lists of titles or fines.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from catalog.errors import DomainError
from circulation.desk import Desk
from circulation.patrons import Patron
from circulation.pins import PIN_MESSAGES, PinCheck, check_pin, clear_failures
from circulation.sip2.codec import Request
from circulation.tree import NetworkTree

CHINESE, ENGLISH = "019", "001"


@dataclass(frozen=True)
class TerminalInfo:
    """The logged-in terminal, as read at login (no session attached)."""

    id: int
    login: str
    point_id: int
    institution: str
    encoding: str
    error_detection: bool

    @property
    def actor(self) -> str:
        return f"terminal:{self.login}"


@dataclass
class PinMemory:
    """SIP-PIN-1: the card whose PIN was checked on this connection, and a digest of it."""

    card: str | None = None
    digest: bytes = b""

    def knows(self, card: str, pin: str) -> bool:
        return self.card == card and hmac.compare_digest(self.digest, _digest(card, pin))

    def remember(self, card: str, pin: str) -> None:
        self.card, self.digest = card, _digest(card, pin)

    def forget(self) -> None:
        self.card, self.digest = None, b""


def _digest(card: str, pin: str) -> bytes:
    return hashlib.sha256(f"{card}\x00{pin}".encode()).digest()


@dataclass
class Context:
    session: Session
    terminal: TerminalInfo
    now: dt.datetime
    language: str
    pins: PinMemory
    _pin_reset: list[int] = field(default_factory=list)

    @property
    def english(self) -> bool:
        return self.language == ENGLISH

    def desk(self) -> Desk:
        point = NetworkTree.load(self.session)[self.terminal.point_id]
        return Desk(point, self.terminal.actor, self.now)

    def say(self, en: str, zh: str) -> str:
        return en if self.english else zh

    def error(self, exc: DomainError) -> str:
        return self.say(exc.message_en, exc.message_zh)

    def institution_ok(self, request: Request) -> bool:
        """SIP-ACCOUNT-3: AO, when given, names this terminal's institution."""
        given = request.get("AO")
        return not given or given == self.terminal.institution

    def pin(self, patron: Patron, request: Request) -> PinCheck | None:
        """The PIN check for this message: None when no PIN was given or remembered."""
        given = request.fields.get("AD")
        pin = given[0] if given else None
        if pin is None or pin == "":
            return PinCheck.OK if self.pins.card == patron.card else None
        if self.pins.knows(patron.card, pin):
            return PinCheck.OK
        had_failures = bool(patron.pin_failures)
        result = check_pin(self.session, patron, pin, self.now)
        if result == PinCheck.OK:
            self.pins.remember(patron.card, pin)
            if had_failures:
                self._pin_reset.append(patron.id)
        elif self.pins.card == patron.card:
            self.pins.forget()
        return result

    def pin_message(self, result: PinCheck | None) -> str:
        if result is None:
            return self.say("enter your PIN", "请输入读者密码")
        en, zh = PIN_MESSAGES[result]
        return self.say(en, zh)

    def undo(self) -> None:
        """Roll back a refused action, keeping a PIN reset (PIN-3)."""
        self.session.rollback()
        for patron_id in self._pin_reset:
            clear_failures(self.session, patron_id)
