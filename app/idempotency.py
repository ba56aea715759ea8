"""Retries are safe: an ``Idempotency-Key`` header gets the first answer again.

A terminal or counter that lost its connection sends the same request with
the same key; the answer stored with the key is given back and nothing is
applied twice. The key is written in the same transaction as the change it
answers (first, so that a second request with the same key waits for the
first and then reads its answer), and answers of refused requests (4xx) are
kept too, so a retry never turns a refusal into a success or the reverse.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from sqlalchemy import String, Text, UniqueConstraint, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from catalog.db import Base, utcnow
from catalog.errors import DomainError

KEY_MAX_LENGTH = 200
KEEP_FOR = dt.timedelta(days=2)


class IdempotencyKey(Base):
    """One answered request, found again by the caller and the key they sent."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("caller", "key", name="caller_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    caller: Mapped[str] = mapped_column(String(100))
    key: Mapped[str] = mapped_column(String(KEY_MAX_LENGTH))
    fingerprint: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(default=0)
    response: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)


def fingerprint(method: str, path: str, body: bytes) -> str:
    """What the request asked for: the same key with another request is refused."""
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body).hexdigest()


class KeyReused(DomainError):
    code = "idempotency_key_reused"
    http_status = 422

    def __init__(self) -> None:
        super().__init__(
            "this Idempotency-Key was used for a different request: use a new key",
            "该幂等键已用于另一个请求，请使用新的键",
        )


class BadKey(DomainError):
    code = "invalid_idempotency_key"
    http_status = 422

    def __init__(self) -> None:
        super().__init__(
            f"Idempotency-Key must be 1-{KEY_MAX_LENGTH} printable ASCII characters",
            f"幂等键必须是 1-{KEY_MAX_LENGTH} 个可打印 ASCII 字符",
        )


def check_key(key: str) -> str:
    if not (0 < len(key) <= KEY_MAX_LENGTH) or not all(" " < c <= "~" for c in key):
        raise BadKey()
    return key


def stored_answer(
    session: Session, caller: str, key: str, print_: str
) -> tuple[int, dict[str, Any]] | None:
    """The first answer given to this caller's key, or None if the key is new."""
    row = session.scalar(
        select(IdempotencyKey).where(IdempotencyKey.caller == caller, IdempotencyKey.key == key)
    )
    if row is None:
        return None
    if row.fingerprint != print_:
        raise KeyReused()
    return row.status_code, json.loads(row.response)


def claim(session: Session, caller: str, key: str, print_: str) -> IdempotencyKey | None:
    """Write the key first in this transaction; None when a twin request got there first.

    On PostgreSQL a concurrent twin blocks on the unique index until this
    transaction ends, then fails and reads the stored answer.
    """
    row = IdempotencyKey(caller=caller, key=key, fingerprint=print_, created_at=utcnow())
    session.add(row)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        return None
    return row


def remember(row: IdempotencyKey, status: int, body: dict[str, Any]) -> None:
    row.status_code, row.response = status, json.dumps(body, ensure_ascii=False)


def forget_old(session: Session, now: dt.datetime) -> int:
    """Keys older than KEEP_FOR are dropped by the daily round (a retry comes within minutes)."""
    result = session.execute(
        delete(IdempotencyKey).where(IdempotencyKey.created_at < now - KEEP_FOR)
    )
    return int(getattr(result, "rowcount", 0) or 0)
