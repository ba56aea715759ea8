"""Running a state-changing API call: one transaction, retries answered once (Idempotency-Key).

Views hand ``perform`` a function of the session that returns (status, body);
``perform`` commits, maps a concurrent change to 409, and with an
``Idempotency-Key`` header stores the answer with the change, so a retried
request gets the first answer again and nothing is applied twice.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response, jsonify, request
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from app import idempotency
from app.auth import current_principal
from app.db import get_session
from app.errors import error_body, language
from catalog.errors import DomainError
from circulation.errors import ConcurrentChange

Action = Callable[[Session], tuple[int, dict[str, Any]]]


def _caller() -> str:
    principal = current_principal()
    assert principal is not None
    if principal.token_id is not None:
        return f"token:{principal.token_id}"
    return f"user:{principal.user_id}"


def _run(session: Session, action: Action) -> tuple[int, dict[str, Any]]:
    """The action and its flush; a row changed by another desk meanwhile becomes a 409."""
    try:
        status, body = action(session)
        session.flush()
    except (StaleDataError, IntegrityError) as exc:
        session.rollback()
        raise ConcurrentChange() from exc
    return status, body


def _answer(status: int, body: dict[str, Any], replayed: bool = False) -> Response:
    response = jsonify(body)
    response.status_code = status
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


def perform(action: Action) -> Response:
    session = get_session()
    key = request.headers.get("Idempotency-Key")
    if key is None:
        try:
            status, body = _run(session, action)
            session.commit()
        except DomainError:
            session.rollback()
            raise
        return _answer(status, body)
    caller, key = _caller(), idempotency.check_key(key)
    print_ = idempotency.fingerprint(request.method, request.path, request.get_data())
    for _ in range(2):  # a twin that won the race is read on the second pass
        stored = idempotency.stored_answer(session, caller, key, print_)
        if stored is not None:
            return _answer(*stored, replayed=True)
        row = idempotency.claim(session, caller, key, print_)
        if row is None:
            continue
        try:
            status, body = _run(session, action)
        except DomainError as exc:
            session.rollback()
            status, body = (
                exc.http_status,
                error_body(exc.code, exc.message(language()), exc.details),
            )
            row = idempotency.claim(session, caller, key, print_)
            if row is None:
                continue
        idempotency.remember(row, status, body)
        session.commit()
        return _answer(status, body)
    raise ConcurrentChange()
