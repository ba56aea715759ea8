"""Who may call what. Every endpoint declares its rule; an endpoint without one is refused.

- ``@public``: anyone, signed in or not (OPAC pages, the network, health).
- ``@allow(Role.X, ...)``: only those roles; ``@allow()`` with no roles: any
  signed-in staff member or terminal.

Callers prove who they are with a bearer token (``Authorization: Bearer tj_...``)
or, on pages, a signed session cookie after password login. The JSON API accepts
the session cookie for reading only: a write needs a token, so a page on
another site cannot make a signed-in librarian's browser change data.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, current_app, g, redirect, request, session, url_for
from flask_smorest import Blueprint
from werkzeug.exceptions import Forbidden, Unauthorized

from app.accounts import (
    TOKEN_USED,
    Principal,
    Role,
    StaffUser,
    principal_for_token,
    principal_for_user,
)
from app.db import get_session

F = TypeVar("F", bound=Callable[..., Any])
ACCESS_ATTR = "_tongjie_access"
PUBLIC = "public"
ANY_SIGNED_IN = frozenset(Role)
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
KIOSK_KEY = "kiosk"  # the session of a browser enrolled as a kiosk: {"terminal": id, "stamp": ...}


def public(func: F) -> F:
    """Declare an endpoint open to anonymous callers."""
    setattr(func, ACCESS_ATTR, PUBLIC)
    return func


def allow(*roles: Role) -> Callable[[F], F]:
    """Declare the roles that may call an endpoint (none given: any signed-in caller)."""
    allowed = frozenset(roles) or ANY_SIGNED_IN

    def decorator(func: F) -> F:
        names = ", ".join(sorted(r.value for r in allowed))
        documented: F = Blueprint.doc(
            security=[{"bearerAuth": []}], description=f"Allowed roles: {names}."
        )(func)
        setattr(documented, ACCESS_ATTR, allowed)
        return documented

    return decorator


def access_rule(app: Flask, endpoint: str) -> str | frozenset[Role] | None:
    """The declared rule of an endpoint, or None when it has none."""
    view = app.view_functions.get(endpoint)
    rule = getattr(view, ACCESS_ATTR, None)
    if rule is None and endpoint in app.extensions.get("tongjie.public_endpoints", set()):
        return PUBLIC
    return rule


def current_principal() -> Principal | None:
    """The caller of this request, resolved once."""
    if "principal" not in g:
        g.principal = _resolve_principal()
    principal: Principal | None = g.principal
    return principal


def _resolve_principal() -> Principal | None:
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        session_ = get_session()
        principal = principal_for_token(session_, header[len("Bearer ") :].strip())
        if session_.info.pop(TOKEN_USED, False):
            session_.commit()  # records last_used_at (once a minute)
        return principal
    user_id = session.get("user_id")
    if user_id is None:
        return _kiosk_principal()
    user = get_session().get(StaffUser, user_id)
    if user is None or not user.active:
        session.pop("user_id", None)
        return None
    if request.path.startswith("/api/") and request.method not in SAFE_METHODS:
        return None
    return principal_for_user(user)


def _kiosk_principal() -> Principal | None:
    """A browser enrolled as a kiosk with a SIP2 terminal account (app/kiosk): a terminal.

    It signs out when the account is disabled or its password changes; like a staff
    session cookie, it may read the API but not write it.
    """
    enrolled = session.get(KIOSK_KEY)
    if not isinstance(enrolled, dict):
        return None
    from circulation.sip2.terminals import Sip2Terminal

    terminal = get_session().get(Sip2Terminal, enrolled.get("terminal") or 0)
    if terminal is None or not terminal.enabled or terminal.password_stamp != enrolled.get("stamp"):
        session.pop(KIOSK_KEY, None)
        return None
    if request.path.startswith("/api/") and request.method not in SAFE_METHODS:
        return None
    return Principal(role=Role.TERMINAL, name=terminal.login, scope_point_id=terminal.point_id)


def enforce_access() -> Any:
    """before_request hook: apply the endpoint's declared rule, deny when there is none."""
    endpoint = request.endpoint
    if endpoint is None:  # no such URL: let the 404 handler answer
        return None
    rule = access_rule(current_app, endpoint)
    if rule is None:
        raise Forbidden(f"endpoint {endpoint} declares no access rule")
    if rule == PUBLIC:
        return None
    principal = current_principal()
    if principal is None:
        if request.path.startswith("/api/") or request.path == "/healthz":
            raise Unauthorized("sign in or send a bearer token")
        if request.blueprint == "kiosk":
            return redirect(url_for("kiosk.enrol"))
        return redirect(url_for("pages.login", next=request.full_path))
    assert isinstance(rule, frozenset)
    if principal.role not in rule:
        raise Forbidden("your role may not do this")
    return None


def init_app(app: Flask) -> None:
    app.extensions.setdefault("tongjie.public_endpoints", {"static"})
    app.before_request(enforce_access)
