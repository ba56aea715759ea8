"""The tables of circulation: loans, holds, transits, fines, blocks, policies and notices.

The database, not Python, keeps the rules that must never break under load:
one open loan per copy, one open transit per copy and one hold per promised
copy are partial unique indexes (the same on SQLite and PostgreSQL), and the
rows that many counters may change at once (copies, holds) carry a version
number, so a lost update is refused instead of silently applied.
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from catalog.db import Base, Timestamped, utcnow
from catalog.network import ServicePoint
from catalog.records import Copy, Record
from circulation.patrons import Patron

# A key that is an Integer on SQLite (so it autoincrements) and a BIGINT on
# PostgreSQL: loans and ledger rows outgrow 32 bits over the years.
BigKey = BigInteger().with_variant(Integer, "sqlite")


class Loan(Base):
    """A copy lent to a patron (借阅): open until ``returned_at`` is set."""

    __tablename__ = "loans"
    __table_args__ = (
        # LOAN-1: the database allows one open loan per copy.
        Index(
            "uq_loans_open_copy",
            "copy_id",
            unique=True,
            sqlite_where=text("returned_at IS NULL"),
            postgresql_where=text("returned_at IS NULL"),
        ),
        # A patron's open loans and overdue count, read at every checkout.
        Index(
            "ix_loans_open_patron_due",
            "patron_id",
            "due_date",
            sqlite_where=text("returned_at IS NULL"),
            postgresql_where=text("returned_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigKey, primary_key=True, autoincrement=True)
    copy_id: Mapped[int] = mapped_column(ForeignKey("copies.id"), index=True)
    patron_id: Mapped[int | None] = mapped_column(ForeignKey("patrons.id"), index=True)
    point_id: Mapped[int] = mapped_column(ForeignKey("service_points.id"))
    checked_out_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    due_date: Mapped[dt.date]
    renewals: Mapped[int] = mapped_column(default=0)
    returned_at: Mapped[dt.datetime | None]
    return_point_id: Mapped[int | None] = mapped_column(ForeignKey("service_points.id"))
    # How the loan ended: returned, lost (declared lost), or checked in for another loan.
    outcome: Mapped[str | None] = mapped_column(String(16))

    copy: Mapped[Copy] = relationship()
    patron: Mapped[Patron | None] = relationship()
    point: Mapped[ServicePoint] = relationship(foreign_keys=[point_id])
    return_point: Mapped[ServicePoint | None] = relationship(foreign_keys=[return_point_id])


class HoldStatus(enum.StrEnum):
    """Where a hold stands (预约状态). Open holds are the first four."""

    WAITING = "waiting"  # 排队中: no copy found yet
    TARGETED = "targeted"  # 待取书: a copy on a shelf is picked; it is on that point's pull list
    IN_TRANSIT = "in_transit"  # 在途: the copy is trapped and on its way to the pickup point
    READY = "ready"  # 待取: on the pickup point's hold shelf
    FILLED = "filled"  # 已借出
    CANCELLED = "cancelled"  # 已取消
    EXPIRED = "expired"  # 逾期未取


OPEN_HOLD = (HoldStatus.WAITING, HoldStatus.TARGETED, HoldStatus.IN_TRANSIT, HoldStatus.READY)
PROMISED = (HoldStatus.TARGETED, HoldStatus.IN_TRANSIT, HoldStatus.READY)
_PROMISED_SQL = "status IN ('targeted', 'in_transit', 'ready')"
_OPEN_SQL = "status IN ('waiting', 'targeted', 'in_transit', 'ready')"


class Hold(Base):
    """A patron's hold on a title (预约), picked up at any point of the network."""

    __tablename__ = "holds"
    __table_args__ = (
        # HOLD-2: a copy is promised to one hold at most.
        Index(
            "uq_holds_promised_copy",
            "copy_id",
            unique=True,
            sqlite_where=text(_PROMISED_SQL),
            postgresql_where=text(_PROMISED_SQL),
        ),
        Index("ix_holds_record_status", "record_id", "status"),
        # Pull lists, hold shelves and the daily round look for open holds by status; closed
        # holds pile up over the years and stay out of this index.
        Index(
            "ix_holds_open_status",
            "status",
            sqlite_where=text(_OPEN_SQL),
            postgresql_where=text(_OPEN_SQL),
        ),
        Index("ix_holds_patron_status", "patron_id", "status"),
    )

    id: Mapped[int] = mapped_column(BigKey, primary_key=True, autoincrement=True)
    patron_id: Mapped[int | None] = mapped_column(ForeignKey("patrons.id"))
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id"))
    pickup_point_id: Mapped[int] = mapped_column(ForeignKey("service_points.id"))
    placed_point_id: Mapped[int] = mapped_column(ForeignKey("service_points.id"))
    status: Mapped[str] = mapped_column(String(16), default=HoldStatus.WAITING)
    placed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    copy_id: Mapped[int | None] = mapped_column(ForeignKey("copies.id"))
    trapped_at: Mapped[dt.datetime | None]
    ready_at: Mapped[dt.datetime | None]
    shelf_until: Mapped[dt.date | None]
    closed_at: Mapped[dt.datetime | None]
    close_reason: Mapped[str] = mapped_column(String(300), default="")
    version: Mapped[int] = mapped_column(default=1, server_default=text("1"))

    patron: Mapped[Patron | None] = relationship()
    record: Mapped[Record] = relationship()
    pickup_point: Mapped[ServicePoint] = relationship(foreign_keys=[pickup_point_id])
    copy: Mapped[Copy | None] = relationship()

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (read once by the mapper)


class TransitReason(enum.StrEnum):
    HOLD = "hold"  # to a hold's pickup point
    HOME = "home"  # back to the copy's home point
    ROTATION = "rotation"  # a rotation batch (图书流转)
    MANUAL = "manual"  # sent by a librarian


class Transit(Base):
    """A copy on its way from one point to another (在途).

    Open until received at its destination, or closed early when the copy is
    lent or found somewhere else on the way.
    """

    __tablename__ = "transits"
    __table_args__ = (
        # TRANSIT-1: the database allows one open transit per copy.
        Index(
            "uq_transits_open_copy",
            "copy_id",
            unique=True,
            sqlite_where=text("closed_at IS NULL"),
            postgresql_where=text("closed_at IS NULL"),
        ),
        Index("ix_transits_to_open", "to_point_id", "closed_at"),
        Index("ix_transits_from_open", "from_point_id", "closed_at"),
    )

    id: Mapped[int] = mapped_column(BigKey, primary_key=True, autoincrement=True)
    copy_id: Mapped[int] = mapped_column(ForeignKey("copies.id"), index=True)
    from_point_id: Mapped[int] = mapped_column(ForeignKey("service_points.id"))
    to_point_id: Mapped[int] = mapped_column(ForeignKey("service_points.id"))
    reason: Mapped[str] = mapped_column(String(16))
    hold_id: Mapped[int | None] = mapped_column(ForeignKey("holds.id"))
    batch_id: Mapped[int | None]
    sent_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[dt.datetime | None]
    closed_point_id: Mapped[int | None] = mapped_column(ForeignKey("service_points.id"))
    # received (at the destination), checked_out (lent on the way), redirected, status
    outcome: Mapped[str | None] = mapped_column(String(16))

    copy: Mapped[Copy] = relationship()
    from_point: Mapped[ServicePoint] = relationship(foreign_keys=[from_point_id])
    to_point: Mapped[ServicePoint] = relationship(foreign_keys=[to_point_id])
    hold: Mapped[Hold | None] = relationship()


class FineKind(enum.StrEnum):
    OVERDUE = "overdue"  # 逾期费
    LOST = "lost"  # 丢失赔偿
    DAMAGED = "damaged"  # 损坏赔偿
    MANUAL = "manual"  # 其他


class Fine(Base):
    """An amount a patron owes (欠款); outstanding = amount - paid - waived."""

    __tablename__ = "fines"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("paid >= 0 AND waived >= 0", name="paid_waived_not_negative"),
        CheckConstraint("paid + waived <= amount", name="not_overpaid"),
        Index(
            "ix_fines_open_patron",
            "patron_id",
            sqlite_where=text("closed_at IS NULL"),
            postgresql_where=text("closed_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigKey, primary_key=True, autoincrement=True)
    patron_id: Mapped[int] = mapped_column(ForeignKey("patrons.id"), index=True)
    loan_id: Mapped[int | None] = mapped_column(ForeignKey("loans.id"))
    copy_id: Mapped[int | None] = mapped_column(ForeignKey("copies.id"))
    point_id: Mapped[int] = mapped_column(ForeignKey("service_points.id"))
    kind: Mapped[str] = mapped_column(String(16))
    amount: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    paid: Mapped[Decimal] = mapped_column(Numeric(10, 2), default=Decimal("0"))
    waived: Mapped[Decimal] = mapped_column(Numeric(10, 2), default=Decimal("0"))
    note: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[dt.datetime | None]
    version: Mapped[int] = mapped_column(default=1, server_default=text("1"))

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (read once by the mapper)

    @property
    def outstanding(self) -> Decimal:
        return self.amount - self.paid - self.waived


class PatronBlock(Base):
    """A librarian's block on a patron's borrowing, with the reason (停借)."""

    __tablename__ = "patron_blocks"

    id: Mapped[int] = mapped_column(primary_key=True)
    patron_id: Mapped[int] = mapped_column(ForeignKey("patrons.id"), index=True)
    reason: Mapped[str] = mapped_column(String(300))
    blocked_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    blocked_by: Mapped[str] = mapped_column(String(100))
    lifted_at: Mapped[dt.datetime | None]
    lifted_by: Mapped[str | None] = mapped_column(String(100))
    lift_reason: Mapped[str] = mapped_column(String(300), default="")


class Policy(Timestamped, Base):
    """One circulation rule (流通规则): a point and its subtree, a patron category, an item type.

    An empty point, category or item type means "any". Each setting left empty
    is inherited from the next less specific rule; the network default (all
    three empty) sets every one (POLICY-1..3 in docs/circulation.md).
    """

    __tablename__ = "circulation_policies"
    __table_args__ = (
        Index(
            "uq_circulation_policies_scope",
            text("coalesce(point_id, 0)"),
            text("coalesce(patron_category, '')"),
            text("coalesce(item_type, '')"),
            unique=True,
        ),
        CheckConstraint("loan_days IS NULL OR loan_days BETWEEN 1 AND 3650", name="loan_days"),
        CheckConstraint("max_renewals IS NULL OR max_renewals >= 0", name="max_renewals"),
        CheckConstraint("max_loans IS NULL OR max_loans >= 0", name="max_loans"),
        CheckConstraint("max_holds IS NULL OR max_holds >= 0", name="max_holds"),
        CheckConstraint(
            "hold_shelf_days IS NULL OR hold_shelf_days BETWEEN 1 AND 365", name="hold_shelf_days"
        ),
        CheckConstraint("fine_per_day IS NULL OR fine_per_day >= 0", name="fine_per_day"),
        CheckConstraint("fine_cap IS NULL OR fine_cap >= 0", name="fine_cap"),
        CheckConstraint(
            "overdue_block_items IS NULL OR overdue_block_items >= 0", name="overdue_block_items"
        ),
        CheckConstraint(
            "fine_block_amount IS NULL OR fine_block_amount >= 0", name="fine_block_amount"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    point_id: Mapped[int | None] = mapped_column(ForeignKey("service_points.id"))
    patron_category: Mapped[str | None] = mapped_column(String(32))
    item_type: Mapped[str | None] = mapped_column(String(32))
    loan_days: Mapped[int | None]
    max_renewals: Mapped[int | None]
    max_loans: Mapped[int | None]
    max_holds: Mapped[int | None]
    hold_shelf_days: Mapped[int | None]
    fine_per_day: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    fine_cap: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    overdue_block_items: Mapped[int | None]
    fine_block_amount: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    lendable: Mapped[bool | None]
    note: Mapped[str] = mapped_column(String(300), default="")

    point: Mapped[ServicePoint | None] = relationship()


class PatronNotice(Base):
    """A message for a patron (a hold is ready, a hold expired), waiting for a sender.

    Tongjie writes notices; sending them by SMS or WeChat is a site's own
    gateway, which reads unsent rows and sets ``sent_at``.
    """

    __tablename__ = "patron_notices"

    id: Mapped[int] = mapped_column(BigKey, primary_key=True, autoincrement=True)
    patron_id: Mapped[int] = mapped_column(ForeignKey("patrons.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    message_zh: Mapped[str] = mapped_column(Text)
    message_en: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[dt.datetime | None]
