"""Staff accounts, roles and API tokens (工作人员账号与权限).

Roles:
- network_admin: the whole network (总馆管理员);
- branch_librarian: a subtree of the network, rooted at ``scope_point`` (分馆馆员);
- cataloguer: the union catalogue (编目员);
- terminal: a self-service machine bound to one point; exists only as a token.

Passwords use werkzeug's salted slow hash. API tokens are random 32-byte
secrets shown once; only their SHA-256 is stored (a token has full entropy,
so a fast hash is enough and keeps every API call cheap).
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import ForeignKey, String, bindparam, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from catalog.db import Base, Timestamped, utcnow
from catalog.errors import Conflict, DomainError, NotFound, PermissionDenied
from catalog.network import ServicePoint, is_within, point_by_code
from circulation.tree import asking_tree_version, note_tree_version, tree_version_params


class Role(enum.StrEnum):
    NETWORK_ADMIN = "network_admin"
    BRANCH_LIBRARIAN = "branch_librarian"
    CATALOGUER = "cataloguer"
    TERMINAL = "terminal"


STAFF_ROLES = (Role.NETWORK_ADMIN, Role.BRANCH_LIBRARIAN, Role.CATALOGUER)
TOKEN_PREFIX = "tj_"


class StaffUser(Timestamped, Base):
    """A person who signs in to the staff pages or the API."""

    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100), default="")
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    scope_point_id: Mapped[int | None] = mapped_column(ForeignKey("service_points.id"))
    active: Mapped[bool] = mapped_column(default=True)

    scope_point: Mapped[ServicePoint | None] = relationship()

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)


class ApiToken(Base):
    """A bearer token: acts as a staff user, or as a terminal at one point."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    point_id: Mapped[int | None] = mapped_column(ForeignKey("service_points.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]
    last_used_at: Mapped[dt.datetime | None]

    user: Mapped[StaffUser | None] = relationship()
    point: Mapped[ServicePoint | None] = relationship()


@dataclass(frozen=True)
class Principal:
    """Who is calling: what every permission check looks at."""

    role: Role
    name: str
    user_id: int | None = None
    token_id: int | None = None
    scope_point_id: int | None = None  # branch librarian's subtree root, terminal's point

    @property
    def actor(self) -> str:
        """How the ledger names this caller."""
        prefix = "terminal" if self.role == Role.TERMINAL else "staff"
        return f"{prefix}:{self.name}"


class InvalidAccount(DomainError):
    code = "invalid_account"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def add_user(
    session: Session,
    username: str,
    password: str,
    role: str,
    *,
    display_name: str = "",
    scope: str | None = None,
) -> StaffUser:
    """Create a staff account; a branch librarian needs the code of their subtree's root."""
    if role not in [r.value for r in STAFF_ROLES]:
        allowed = ", ".join(r.value for r in STAFF_ROLES)
        raise InvalidAccount(f"role must be one of {allowed}", f"角色必须是：{allowed}")
    if len(password) < 8:
        raise InvalidAccount("password must have at least 8 characters", "密码至少 8 个字符")
    if session.scalar(select(StaffUser).where(StaffUser.username == username)):
        raise Conflict(f"user {username} already exists", f"用户 {username} 已存在")
    scope_point = None
    if role == Role.BRANCH_LIBRARIAN:
        if not scope:
            raise InvalidAccount(
                "a branch librarian needs --scope CODE (the branch they run)",
                "分馆馆员需要用 --scope 指定所辖分馆代码",
            )
        scope_point = point_by_code(session, scope)
        if scope_point is None:
            raise NotFound(f"no service point with code {scope}", f"没有代码为 {scope} 的服务点")
    user = StaffUser(
        username=username, display_name=display_name or username, role=role, scope_point=scope_point
    )
    user.set_password(password)
    session.add(user)
    session.flush()
    return user


def create_token(
    session: Session,
    name: str,
    *,
    username: str | None = None,
    terminal_point: str | None = None,
    days: int | None = None,
) -> tuple[ApiToken, str]:
    """Make a token for a staff user or a terminal; returns the row and the secret (shown once)."""
    if (username is None) == (terminal_point is None):
        raise InvalidAccount(
            "give either a user or a terminal location, not both",
            "请指定用户或终端所在服务点（二选一）",
        )
    user = point = None
    if username is not None:
        user = session.scalar(select(StaffUser).where(StaffUser.username == username))
        if user is None:
            raise NotFound(f"no staff user {username}", f"没有用户 {username}")
    else:
        assert terminal_point is not None
        point = point_by_code(session, terminal_point)
        if point is None:
            raise NotFound(
                f"no service point with code {terminal_point}",
                f"没有代码为 {terminal_point} 的服务点",
            )
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires = utcnow() + dt.timedelta(days=days) if days else None
    token = ApiToken(
        name=name, token_hash=hash_token(secret), user=user, point=point, expires_at=expires
    )
    session.add(token)
    session.flush()
    return token, secret


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


# last_used_at is for an administrator asking "is this kiosk still in use?": writing it on
# every call would add a write and a commit to every checkout, so it is kept to the minute.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)
# Columns, not objects: the token is looked up on every API call, and loading two ORM objects
# for it cost more than the query. The same query asks the network tree's version, which
# a checkout would otherwise ask in a round trip of its own (circulation/tree.py).
_TOKEN_BY_HASH = asking_tree_version(
    select(ApiToken.id, ApiToken.name, ApiToken.point_id, ApiToken.expires_at,
           ApiToken.revoked_at, ApiToken.last_used_at, ApiToken.user_id, StaffUser.role,
           StaffUser.username, StaffUser.scope_point_id, StaffUser.active)
    .outerjoin(StaffUser, StaffUser.id == ApiToken.user_id)
    .where(ApiToken.token_hash == bindparam("token_hash"))
)  # fmt: skip
TOKEN_USED = "tongjie.token_used"
_TOKEN_USED = (
    update(ApiToken)
    .where(ApiToken.id == bindparam("token_id"))
    .values(last_used_at=bindparam("at"))
)


def principal_for_token(session: Session, secret: str) -> Principal | None:
    """The caller a bearer token stands for, or None if it is unknown, revoked or expired.

    Records the token's last use (at most once a minute) in the session's transaction and
    marks the session (``TOKEN_USED``) so that the caller commits it.
    """
    params = {"token_hash": hash_token(secret), **tree_version_params()}
    token = session.execute(_TOKEN_BY_HASH, params).one_or_none()
    now = utcnow()
    if token is not None:  # the same round trip asked whether the network tree changed
        note_tree_version(session, token, params)
    if token is None or token.revoked_at is not None:
        return None
    if token.expires_at is not None and _aware(token.expires_at) <= now:
        return None
    if token.last_used_at is None or _aware(token.last_used_at) < now - LAST_USED_RESOLUTION:
        session.execute(_TOKEN_USED, {"token_id": token.id, "at": now})
        session.info[TOKEN_USED] = True
    if token.user_id is not None:
        if not token.active:
            return None
        return _staff(token.role, token.username, token.user_id, token.scope_point_id, token.id)
    return Principal(
        role=Role.TERMINAL, name=token.name, token_id=token.id, scope_point_id=token.point_id
    )


def principal_for_user(user: StaffUser) -> Principal:
    return _staff(user.role, user.username, user.id, user.scope_point_id)


def _staff(role: str, username: str, user_id: int, scope_point_id: int | None,
           token_id: int | None = None) -> Principal:  # fmt: skip
    """A staff member as a caller, signed in or by one of their tokens."""
    return Principal(role=Role(role), name=username, user_id=user_id, token_id=token_id,
                     scope_point_id=scope_point_id)  # fmt: skip


def authenticate(session: Session, username: str, password: str) -> StaffUser | None:
    user = session.scalar(select(StaffUser).where(StaffUser.username == username))
    if user is None or not user.active or not user.check_password(password):
        return None
    return user


def may_manage_point(session: Session, principal: Principal, point: ServicePoint) -> bool:
    """Admins manage every point; a branch librarian only points in their subtree."""
    if principal.role == Role.NETWORK_ADMIN:
        return True
    if principal.role == Role.BRANCH_LIBRARIAN and principal.scope_point_id is not None:
        return is_within(session, point.id, principal.scope_point_id)
    return False


def require_point_scope(session: Session, principal: Principal, point: ServicePoint) -> None:
    """Refuse work at a point outside the caller's part of the network.

    Admins and cataloguers (the union catalogue is theirs) work anywhere;
    branch librarians in their subtree. Which roles reach an endpoint at all
    is still the endpoint's own @allow rule.
    """
    if principal.role == Role.CATALOGUER or may_manage_point(session, principal, point):
        return
    raise PermissionDenied(
        f"{point.code} is outside the part of the network you manage",
        f"{point.code} 不在您管辖的范围内",
    )
