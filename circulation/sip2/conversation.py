"""One terminal's connection: login, error detection, resend, retries, and the handlers.

SIP-LOGIN-1   A connection starts with 93 login (CN, CO); until then every other
              message is answered with its own refusal (ok 0, "log in first"), and
              99 with on-line status N. A wrong login answers 94 with ok 0.
SIP-STATUS-1  99 is answered with 98: on-line, checkin, checkout and renewal
              allowed, the supported messages (BX), the terminal's point as
              library name (AM) and location (AN).
SIP-RETRY-1   97 gets the last response of this connection again, byte for byte
              (96 if there was none).
SIP-RETRY-2   A transaction message sent again (same bytes up to the checksum) within
              ten minutes is not applied again: it gets the first answer
              (circulation/sip2/retries.py), on any connection of the same terminal.
SIP-ERROR-1   With error detection on, a message without a checksum is answered 96;
              off, a message without a trailer is taken as it is. Responses carry
              AY (the request's sequence number) and AZ when the request had them
              or the terminal's error detection is on.
SIP-ERROR-2   A message we cannot act on (unknown command, cut short, another
              institution, a database failure) never closes the connection: it gets
              the refusal of its kind with the reason in AF, and a line in the log.
              An unknown command gets 96. Logs never hold PINs or passwords (AD,
              CO and AC are masked).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from catalog.db import utcnow
from catalog.errors import DomainError
from circulation.sip2 import item_messages as items
from circulation.sip2 import patron_messages as patrons
from circulation.sip2 import retries
from circulation.sip2.codec import Request, build, parse_request, sip_datetime, yes
from circulation.sip2.context import CHINESE, ENGLISH, Context, PinMemory, TerminalInfo
from circulation.sip2.framing import Frame, parse_frame, plain, with_trailer
from circulation.sip2.terminals import Sip2Terminal, authenticate
from circulation.tree import NetworkTree

log = logging.getLogger("tongjie.sip2")

Handler = Callable[[Context, Request], str]
# command -> (handler, changes circulation: remembered for retries)
HANDLERS: dict[str, tuple[Handler, bool]] = {
    "23": (patrons.patron_status, False),
    "63": (patrons.patron_information, False),
    "35": (patrons.end_session, False),
    "37": (patrons.fee_paid, True),
    "01": (patrons.block, True),
    "11": (items.checkout, True),
    "09": (items.checkin, True),
    "29": (items.renew, True),
    "65": (items.renew_all, True),
    "17": (items.item_information, False),
    "15": (items.hold, True),
}
# BX: patron status, checkout, checkin, block patron, SC/ACS status, resend, login, patron
# information, end session, fee paid, item information, item status update (no), patron
# enable (no), hold, renew, renew all.
SUPPORTED = "YYYYYYYYYYYNNYYY"


def redact(text: str) -> str:
    """SIP-ERROR-2: a message as it may be logged (no PINs, no passwords)."""
    text = re.sub(r"(^|\|)(AD|CO|AC)[^|]*", r"\1\2***", text)
    return text[:300]


def refusal(command: str, request: Request, now_text: str, institution: str, message: str) -> str:
    """The response of the request's kind saying no, with the reason in AF (SIP-ERROR-2)."""
    aa, ab = request.get("AA"), request.get("AB")
    language = request.fixed.get("language") or CHINESE
    unknown = "YYYY" + " " * 10
    Fields = list[tuple[str, object | None]]
    person: Fields = [("AO", institution), ("AA", aa), ("AE", ""), ("BL", "N"), ("CQ", "N"),
                      ("AF", message)]  # fmt: skip
    loan: list[tuple[str, object | None]] = [
        ("AO", institution),
        ("AA", aa),
        ("AB", ab),
        ("AJ", ""),
        ("AH", ""),
        ("AF", message),
    ]
    answers: dict[str, tuple[str, list[str], list[tuple[str, object | None]]]] = {
        "11": ("12", ["0", "N", "N", "N", now_text], loan),
        "29": ("30", ["0", "N", "N", "N", now_text], loan),
        "09": ("10", ["0", "N", "N", "Y", now_text],
               [("AO", institution), ("AB", ab), ("AQ", ""), ("AF", message)]),
        "23": ("24", [unknown, language, now_text], person),
        "01": ("24", [unknown, language, now_text], person),
        "63": ("64", [unknown, language, now_text, "0000" * 6], person),
        "35": ("36", ["N", now_text], [("AO", institution), ("AA", aa), ("AF", message)]),
        "37": ("38", ["N", now_text], [("AO", institution), ("AA", aa), ("AF", message)]),
        "65": ("66", ["0", "0000", "0000", now_text], [("AO", institution), ("AF", message)]),
        "17": ("18", ["01", "00", "01", now_text], [("AB", ab), ("AJ", ""), ("AF", message)]),
        "15": ("16", ["0", "N", now_text], [("AO", institution), ("AA", aa), ("AF", message)]),
        "99": ("98", ["N", "N", "N", "N", "N", "N", "000", "000", now_text, "2.00"],
               [("AO", institution), ("BX", SUPPORTED), ("AF", message)]),
    }  # fmt: skip
    if command == "93":
        return "940"
    code, fixed, fields = answers[command]
    return build(code, fixed, fields)


class Conversation:
    """The state of one connection: who logged in, the last response, the reader's PIN."""

    def __init__(self, sessions: sessionmaker[Session], peer: str = "") -> None:
        self.sessions = sessions
        self.peer = peer
        self.terminal: TerminalInfo | None = None
        self.last: bytes | None = None
        self.pins = PinMemory()
        self.language = CHINESE

    @property
    def encoding(self) -> str:
        return self.terminal.encoding if self.terminal else "utf-8"

    def respond(self, raw: bytes) -> bytes:
        """The bytes to send back for one message (never raises)."""
        frame = parse_frame(raw)
        if frame.too_long or not frame.checksum_ok:  # SIP-FRAME-3, 5
            log.warning("%s: %s: answered 96", self.peer,
                        "message too long" if frame.too_long else "bad checksum")  # fmt: skip
            return self._send(b"96", frame)
        if frame.body[:2] == b"97":  # SIP-RETRY-1
            return self.last if self.last is not None else self._send(b"96", frame)
        ed_on = self.terminal is not None and self.terminal.error_detection
        if ed_on and not frame.has_checksum:  # SIP-ERROR-1
            log.warning("%s: message without checksum, error detection is on: 96", self.peer)
            return self._send(b"96", frame)
        text = frame.body.decode(self.encoding, errors="replace")
        try:
            answer = self._answer(text, frame)
        except Exception:  # SIP-ERROR-2: the connection goes on
            log.exception("%s: failed on %s", self.peer, redact(text))
            request = parse_request(text)
            if not request.known or request.command == "97":
                return self._send(b"96", frame)
            failed = "系统故障，请稍后再试 / system error, try again"
            now_text = sip_datetime(utcnow())
            answer = refusal(request.command, request, now_text, self._institution(), failed)
        reply = self._send(answer.encode(self.encoding, errors="replace"), frame)
        self.last = reply
        return reply

    def _send(self, body: bytes, frame: Frame) -> bytes:
        ed_on = self.terminal is not None and self.terminal.error_detection
        if frame.has_checksum or ed_on:
            return with_trailer(body, frame.sequence)
        return plain(body)

    def _institution(self) -> str:
        return self.terminal.institution if self.terminal else ""

    def _answer(self, text: str, frame: Frame) -> str:
        request = parse_request(text)
        now = utcnow()
        if not request.known:
            log.warning("%s: unknown message %s: answered 96", self.peer, redact(text))
            return "96"
        if request.malformed:
            log.warning("%s: malformed %s", self.peer, redact(text))
            return refusal(request.command, request, sip_datetime(now), self._institution(),
                           "报文格式错误 / malformed message")  # fmt: skip
        if request.command == "93":
            return self._login(request)
        if self.terminal is None:  # SIP-LOGIN-1
            return refusal(request.command, request, sip_datetime(now), "",
                           "终端未登录 / log in first (93)")  # fmt: skip
        if request.command == "99":
            return self._status()
        if request.command in ("23", "63"):
            self.language = ENGLISH if request.fixed.get("language") == ENGLISH else CHINESE
        handler, changes = HANDLERS[request.command]
        with self.sessions() as session:
            ctx = Context(session, self.terminal, now, self.language, self.pins)
            if not ctx.institution_ok(request):  # SIP-ACCOUNT-3
                return refusal(request.command, request, sip_datetime(now),
                               self.terminal.institution,
                               ctx.say(f"wrong institution id {request.get('AO')}",
                                       f"机构代码 {request.get('AO')} 不符"))  # fmt: skip
            return self._run(ctx, request, handler, changes, frame)

    def _run(
        self, ctx: Context, request: Request, handler: Handler, changes: bool, frame: Frame
    ) -> str:
        session, terminal = ctx.session, ctx.terminal
        key = retries.request_key(frame.signed.decode("latin-1")) if changes else ""
        for _ in range(2):  # a second pass only after dropping a key older than the window
            try:
                answer = handler(ctx, request)
                session.flush()
            except DomainError as exc:
                ctx.undo()
                answer = refusal(request.command, request, sip_datetime(ctx.now),
                                 terminal.institution, ctx.error(exc))  # fmt: skip
            except (StaleDataError, IntegrityError):
                session.rollback()
                first = (
                    retries.first_answer(session, terminal.id, key, ctx.now) if changes else None
                )
                if first is not None:  # its twin, sent at the same moment, changed the book
                    log.info("%s: %s sent again: first answer given", self.peer, request.command)
                    return first
                log.info("%s: concurrent change on %s", self.peer, request.command)
                again = ctx.say("another desk changed this book at the same moment: scan again",
                                "其他服务台同时办理了该书，请重新扫描")  # fmt: skip
                return refusal(request.command, request, sip_datetime(ctx.now),
                               terminal.institution, again)  # fmt: skip
            if not changes:
                session.commit()
            elif not retries.commit_with_answer(session, terminal.id, key, answer, ctx.now):
                first = retries.first_answer(session, terminal.id, key, ctx.now)
                if first is None:
                    continue
                log.info("%s: %s sent again: first answer given", self.peer, request.command)
                return first
            if answer[2:3] == "0" and answer[:2] in ("10", "12", "30"):
                log.info("%s: %s refused: %s", self.peer, request.command, redact(answer))
            return answer
        raise RuntimeError("a retried message could not be stored")

    def _login(self, request: Request) -> str:
        """93 -> 94 (SIP-LOGIN-1)."""
        login = request.get("CN")
        with self.sessions() as session:
            try:
                terminal = authenticate(session, login, request.fields.get("CO", [""])[0])
                if terminal is None:
                    log.warning("%s: login refused for %r", self.peer, login[:64])
                    self.terminal = None
                    return "940"
                now = utcnow()
                session.execute(
                    update(Sip2Terminal)
                    .where(Sip2Terminal.id == terminal.id)
                    .values(last_login_at=now)
                    .execution_options(synchronize_session=False)
                )
                retries.forget_old(session, terminal.id, now)
                session.commit()
            except SQLAlchemyError:
                session.rollback()
                log.exception("%s: login failed on the database", self.peer)
                return "940"
            self.terminal = TerminalInfo(terminal.id, terminal.login, terminal.point_id,
                                         terminal.institution, terminal.encoding,
                                         terminal.error_detection)  # fmt: skip
            self.pins.forget()
        log.info("%s: terminal %s logged in", self.peer, login)
        return "941"

    def _status(self) -> str:
        """99 -> 98 (SIP-STATUS-1)."""
        assert self.terminal is not None
        with self.sessions() as session:
            point = NetworkTree.load(session)[self.terminal.point_id]
        on = yes(True)
        return build("98", [on, on, on, on, "N", "N", "050", "003", sip_datetime(utcnow()),
                            "2.00"], [
            ("AO", self.terminal.institution), ("AM", point.name), ("BX", SUPPORTED),
            ("AN", point.code),
        ])  # fmt: skip
