"""A transaction a kiosk sends again gets the first answer again (SIP-RETRY-2).

A self-check machine that lost a response (a dropped connection, a timeout)
sends the same message again, often on a new connection after logging in
again, sometimes after the server restarted. So the memory is in the
database, per terminal: the key of every transaction message (checkout,
checkin, renew, renew all, hold, fee paid, block patron) is written with its
answer in the same database transaction as the change it answers, in the
commit's own statement. A message whose key is already there was answered
before: its own transaction fails on the unique key and is rolled back whole
(its change too), and the first answer is sent. A twin running at the same
moment waits for the first on the rows they share, then fails the same way (or,
on SQLite, finds the book changed under it), and is given the first answer too.
Same key = same terminal and the same bytes up to the checksum: message, the
kiosk's transaction date and its AY sequence number. A key counts for
``RETRY_WINDOW``; rows older than ``KEEP`` are dropped when the terminal next
logs in.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint, bindparam, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from catalog.db import Base, table_of
from circulation.pending import add_last_row

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


# Sent with every transaction a kiosk makes: built once, run on the session's connection (no ORM).
_TABLE = table_of(Sip2Transaction)
_FIRST = select(_TABLE.c.response, _TABLE.c.created_at).where(
    _TABLE.c.terminal_id == bindparam("terminal_id"), _TABLE.c.request_key == bindparam("key")
)


def request_key(message: str) -> str:
    """The key of a message: its text up to the checksum (AY included)."""
    return hashlib.sha256(message.encode("utf-8", "surrogateescape")).hexdigest()


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def commit_with_answer(
    session: Session, terminal_id: int, key: str, answer: str, now: dt.datetime
) -> bool:
    """Commit the transaction with the key and its answer, written in the commit's own
    statement (circulation/pending.py); False, and everything rolled back, if the key was
    there already."""
    row = {"terminal_id": terminal_id, "request_key": key, "response": answer, "created_at": now}
    add_last_row(session, _TABLE, row)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        return False
    return True


def first_answer(session: Session, terminal_id: int, key: str, now: dt.datetime) -> str | None:
    """The answer stored under the key within the retry window; an older one is dropped."""
    row = session.connection().execute(_FIRST, {"terminal_id": terminal_id, "key": key}).first()
    if row is None:
        return None
    if _aware(row.created_at) >= now - RETRY_WINDOW:
        return str(row.response)
    session.execute(
        delete(Sip2Transaction).where(
            Sip2Transaction.terminal_id == terminal_id, Sip2Transaction.request_key == key
        )
    )
    session.commit()
    return None


def forget_old(session: Session, terminal_id: int, now: dt.datetime) -> None:
    session.execute(
        delete(Sip2Transaction).where(
            Sip2Transaction.terminal_id == terminal_id, Sip2Transaction.created_at < now - KEEP
        )
    )
