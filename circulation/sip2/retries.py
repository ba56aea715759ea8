"""A transaction a kiosk sends again gets the first answer again (SIP-RETRY-2).

A self-check machine that lost a response (a dropped connection, a timeout)
sends the same message again, often on a new connection after logging in
again, sometimes after the server restarted. So the memory is in the
database, per terminal: the key of every transaction message (checkout,
checkin, renew, renew all, hold, fee paid, block patron) is written first in
the same database transaction as the change it answers, and the answer with
it. A twin arriving while the first is still running waits on the unique
index, then reads the first answer. Same key = same terminal and the same
bytes up to the checksum: message, the kiosk's transaction date and its AY
sequence number. A key counts for ``RETRY_WINDOW``; rows older than
``KEEP`` are dropped when the terminal next logs in.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from catalog.db import Base

RETRY_WINDOW = dt.timedelta(minutes=10)
KEEP = dt.timedelta(days=1)


class Sip2Transaction(Base):
    """One answered transaction message of one terminal."""

    __tablename__ = "sip2_transactions"
    __table_args__ = (UniqueConstraint("terminal_id", "request_key", name="terminal_request"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    terminal_id: Mapped[int] = mapped_column(ForeignKey("sip2_terminals.id"))
    request_key: Mapped[str] = mapped_column(String(64))
    response: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime]


def request_key(message: str) -> str:
    """The key of a message: its text up to the checksum (AY included)."""
    return hashlib.sha256(message.encode("utf-8", "surrogateescape")).hexdigest()


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def claim(session: Session, terminal_id: int, key: str, now: dt.datetime) -> int | str:
    """Write the key first; returns its row id, or the first answer if this is a retry.

    On a conflict the transaction is rolled back (the caller starts again from
    nothing). A key older than the retry window is dropped and claimed anew.
    """
    for _ in range(3):
        try:
            row_id = session.scalar(
                insert(Sip2Transaction)
                .values(terminal_id=terminal_id, request_key=key, response="", created_at=now)
                .returning(Sip2Transaction.id)
            )
            assert row_id is not None
            return int(row_id)
        except IntegrityError:
            session.rollback()
        first = session.execute(
            select(Sip2Transaction.id, Sip2Transaction.response, Sip2Transaction.created_at).where(
                Sip2Transaction.terminal_id == terminal_id, Sip2Transaction.request_key == key
            )
        ).first()
        if first is None:
            continue
        if _aware(first.created_at) >= now - RETRY_WINDOW:
            session.rollback()
            return str(first.response)
        session.execute(delete(Sip2Transaction).where(Sip2Transaction.id == first.id))
        session.commit()
    raise RuntimeError("could not claim a SIP2 transaction key")


def remember(session: Session, row_id: int, response: str) -> None:
    session.execute(
        update(Sip2Transaction).where(Sip2Transaction.id == row_id).values(response=response)
    )


def forget_old(session: Session, terminal_id: int, now: dt.datetime) -> None:
    session.execute(
        delete(Sip2Transaction).where(
            Sip2Transaction.terminal_id == terminal_id, Sip2Transaction.created_at < now - KEEP
        )
    )
