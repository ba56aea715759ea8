"""SIP2 terminal accounts (自助终端账号): one login per kiosk, bound to one service point.

SIP-ACCOUNT-1 Each kiosk has its own login (CN) and password (CO); only a salted
              hash of the password is stored (werkzeug).
SIP-ACCOUNT-2 A terminal acts at its own point: every loan, return and renewal it
              makes is recorded at that point, by the actor ``terminal:LOGIN``.
SIP-ACCOUNT-3 A terminal has an institution id (AO); a message naming another
              institution is refused. Default: the code of the network's central library.
SIP-ACCOUNT-4 Text (screen messages, titles, names) is sent and read in the
              terminal's encoding, UTF-8 or GB18030.
SIP-ACCOUNT-5 Error detection (AY/AZ) is on or off per terminal; a disabled
              terminal cannot log in (nor a kiosk page enrolled with it).
"""

from __future__ import annotations

import datetime as dt
import hashlib

from sqlalchemy import ForeignKey, String, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from catalog.db import Base, Timestamped
from catalog.errors import Conflict, DomainError, NotFound
from catalog.network import ServicePoint, point_by_code
from circulation.tree import NetworkTree

ENCODINGS = ("utf-8", "gb18030")
LOGIN_CHARACTERS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")


class Sip2Terminal(Timestamped, Base):
    """A self-check machine's SIP2 account."""

    __tablename__ = "sip2_terminals"

    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    point_id: Mapped[int] = mapped_column(ForeignKey("service_points.id"))
    institution: Mapped[str] = mapped_column(String(64))
    encoding: Mapped[str] = mapped_column(String(16), default="utf-8")
    error_detection: Mapped[bool] = mapped_column(default=True)
    enabled: Mapped[bool] = mapped_column(default=True)
    last_login_at: Mapped[dt.datetime | None]

    point: Mapped[ServicePoint] = relationship()

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def actor(self) -> str:
        return f"terminal:{self.login}"

    @property
    def password_stamp(self) -> str:
        """Changes when the password does: a kiosk page enrolled with the old one is signed out."""
        return hashlib.sha256(self.password_hash.encode()).hexdigest()[:16]


class InvalidTerminal(DomainError):
    code = "invalid_terminal"
    http_status = 422


def add_terminal(
    session: Session,
    login: str,
    password: str,
    location: str,
    *,
    institution: str | None = None,
    encoding: str = "utf-8",
    error_detection: bool = True,
) -> Sip2Terminal:
    if not login or len(login) > 64 or not set(login) <= LOGIN_CHARACTERS:
        raise InvalidTerminal(
            "a terminal login is 1-64 letters, digits, '-', '_' or '.'",
            "终端登录名为 1-64 个字母、数字、“-”“_”或“.”",
        )
    if len(password) < 6 or "|" in password or not password.isprintable():
        raise InvalidTerminal(
            "the terminal password needs at least 6 printable characters and no '|'",
            "终端密码至少 6 个可打印字符，且不能含“|”",
        )
    if encoding.lower() not in ENCODINGS:
        raise InvalidTerminal(
            f"encoding must be one of {', '.join(ENCODINGS)}", f"编码必须是 {'、'.join(ENCODINGS)}"
        )
    point = point_by_code(session, location)
    if point is None:
        raise NotFound(f"no service point with code {location}", f"没有代码为 {location} 的服务点")
    if session.scalar(select(Sip2Terminal.id).where(Sip2Terminal.login == login)):
        raise Conflict(f"terminal {login} already exists", f"终端 {login} 已存在")
    if institution is None:
        root = NetworkTree.load(session).root()
        institution = root.code if root else point.code
    terminal = Sip2Terminal(
        login=login,
        password_hash=generate_password_hash(password),
        point_id=point.id,
        institution=institution,
        encoding=encoding.lower(),
        error_detection=error_detection,
    )
    session.add(terminal)
    session.flush()
    return terminal


def get_terminal(session: Session, login: str) -> Sip2Terminal:
    terminal = session.scalar(select(Sip2Terminal).where(Sip2Terminal.login == login))
    if terminal is None:
        raise NotFound(f"no terminal {login}", f"没有终端 {login}")
    return terminal


def authenticate(session: Session, login: str, password: str) -> Sip2Terminal | None:
    """The enabled terminal with this login and password, or None (SIP-ACCOUNT-1, 5)."""
    terminal = session.scalar(select(Sip2Terminal).where(Sip2Terminal.login == login))
    if terminal is None or not terminal.enabled or not terminal.check_password(password):
        return None
    return terminal


def all_terminals(session: Session) -> list[Sip2Terminal]:
    return list(session.scalars(select(Sip2Terminal).order_by(Sip2Terminal.login)))


def remove_terminal(session: Session, login: str) -> None:
    """Remove the account and its remembered answers; its loans stay in the ledger."""
    from circulation.sip2.retries import Sip2Transaction

    terminal = get_terminal(session, login)
    session.execute(delete(Sip2Transaction).where(Sip2Transaction.terminal_id == terminal.id))
    session.delete(terminal)
    session.flush()
