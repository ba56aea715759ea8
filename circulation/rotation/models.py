"""Rotation batches (图书流转批次): a named set of copies lent to a point for a season."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from catalog.db import Base, utcnow
from catalog.network import ServicePoint
from catalog.records import Copy


class BatchStatus(enum.StrEnum):
    PLANNED = "planned"  # 待发送: copies chosen, not yet sent
    SENT = "sent"  # 已发送: in the van or at the receiving point
    RECALLED = "recalled"  # 已召回: the season is over; copies go back as they are scanned
    CLOSED = "closed"  # 已结束: every copy is back home


OPEN_BATCH = (BatchStatus.PLANNED, BatchStatus.SENT)


class RotationBatch(Base):
    __tablename__ = "rotation_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    from_point_id: Mapped[int] = mapped_column(ForeignKey("service_points.id"))
    to_point_id: Mapped[int] = mapped_column(ForeignKey("service_points.id"))
    status: Mapped[str] = mapped_column(String(16), default=BatchStatus.PLANNED)
    recall_on: Mapped[dt.date | None]
    note: Mapped[str] = mapped_column(String(300), default="")
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[dt.datetime | None]
    recalled_at: Mapped[dt.datetime | None]
    closed_at: Mapped[dt.datetime | None]

    from_point: Mapped[ServicePoint] = relationship(foreign_keys=[from_point_id])
    to_point: Mapped[ServicePoint] = relationship(foreign_keys=[to_point_id])
    copies: Mapped[list[RotationCopy]] = relationship(
        back_populates="batch", order_by="RotationCopy.id"
    )


class RotationCopy(Base):
    """One copy of a batch, with the home it returns to."""

    __tablename__ = "rotation_copies"
    __table_args__ = (
        UniqueConstraint("batch_id", "copy_id", name="batch_copy"),
        Index("ix_rotation_copies_copy_id", "copy_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("rotation_batches.id"))
    copy_id: Mapped[int] = mapped_column(ForeignKey("copies.id"))
    original_home_id: Mapped[int] = mapped_column(ForeignKey("service_points.id"))
    received_at: Mapped[dt.datetime | None]
    recalled_at: Mapped[dt.datetime | None]
    back_at: Mapped[dt.datetime | None]

    batch: Mapped[RotationBatch] = relationship(back_populates="copies")
    copy: Mapped[Copy] = relationship()
