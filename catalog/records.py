"""Bibliographic records of the union catalogue (联合目录) and their copies (馆藏/单册).

A record holds the normalised fields that pages, search and figures read,
plus the original MARC in lossless form (ISO 2709, UTF-8). Copies hang under
one record whatever point holds them.
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, LargeBinary, Numeric, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from catalog.db import Base, Timestamped, utcnow
from catalog.network import ServicePoint


class CopyStatus(enum.StrEnum):
    """Where a copy stands in circulation. Held = every status but withdrawn and lost."""

    AVAILABLE = "available"  # 在架
    ON_LOAN = "on_loan"  # 借出
    IN_TRANSIT = "in_transit"  # 在途
    ON_HOLD_SHELF = "on_hold_shelf"  # 预约架
    IN_PROCESSING = "in_processing"  # 加工中
    MISSING = "missing"  # 丢失待查
    DAMAGED = "damaged"  # 破损
    LOST = "lost"  # 遗失
    WITHDRAWN = "withdrawn"  # 剔旧/注销


NOT_HELD = (CopyStatus.WITHDRAWN, CopyStatus.LOST)


class Record(Timestamped, Base):
    """One edition, shared by the whole network (书目记录)."""

    __tablename__ = "records"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    title_pinyin: Mapped[str | None] = mapped_column(Text)
    other_title: Mapped[str | None] = mapped_column(Text)
    responsibility: Mapped[str | None] = mapped_column(Text)
    authors: Mapped[list[str]] = mapped_column(JSON, default=list)
    authors_pinyin: Mapped[list[str]] = mapped_column(JSON, default=list)
    edition: Mapped[str | None] = mapped_column(String(200))
    publisher: Mapped[str | None] = mapped_column(String(300))
    pub_place: Mapped[str | None] = mapped_column(String(200))
    pub_year: Mapped[str | None] = mapped_column(String(4))
    extent: Mapped[str | None] = mapped_column(String(300))
    series: Mapped[str | None] = mapped_column(Text)
    summary: Mapped[str | None] = mapped_column(Text)
    subjects: Mapped[list[str]] = mapped_column(JSON, default=list)
    clc: Mapped[str | None] = mapped_column(String(64), index=True)
    language: Mapped[str | None] = mapped_column(String(3))
    isbn13: Mapped[str | None] = mapped_column(String(13), index=True)
    isbns: Mapped[list[str]] = mapped_column(JSON, default=list)
    price: Mapped[str | None] = mapped_column(String(64))
    match_key: Mapped[str | None] = mapped_column(String(400), index=True)
    marc_flavour: Mapped[str | None] = mapped_column(String(8))
    marc: Mapped[bytes | None] = mapped_column(LargeBinary)
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    copies: Mapped[list[Copy]] = relationship(back_populates="record")
    sources: Mapped[list[RecordSource]] = relationship(
        back_populates="record", order_by="RecordSource.id"
    )


class RecordSource(Base):
    """One MARC record as a vendor sent it, kept under the union record it was merged into.

    Keeping every source lets a cataloguer split a wrong merge back out, with
    the copies that came with it, and shows which file each version came from.
    """

    __tablename__ = "record_sources"
    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id"), index=True)
    flavour: Mapped[str] = mapped_column(String(8))
    marc: Mapped[bytes] = mapped_column(LargeBinary)
    marc_sha256: Mapped[str] = mapped_column(String(64), index=True)
    file_name: Mapped[str] = mapped_column(String(300), default="")
    record_index: Mapped[int | None]
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"))
    matched_by: Mapped[str] = mapped_column(String(8))  # new, isbn, key, manual
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    record: Mapped[Record] = relationship(back_populates="sources")


class ImportBatch(Base):
    """One file imported by `tongjie catalog import`, with its report (编目导入批次)."""

    __tablename__ = "import_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    file_name: Mapped[str] = mapped_column(String(300))
    file_sha256: Mapped[str] = mapped_column(String(64), index=True)
    location_id: Mapped[int | None] = mapped_column(ForeignKey("service_points.id"))
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[dt.datetime | None]
    status: Mapped[str] = mapped_column(String(16), default="running")
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Copy(Timestamped, Base):
    """One physical item with its own barcode (单册).

    ``version`` makes every ORM update of a copy conditional on the version
    it read: two counters changing one copy at the same moment cannot both
    win (the loser's update matches no row and is refused).
    """

    __tablename__ = "copies"

    id: Mapped[int] = mapped_column(primary_key=True)
    barcode: Mapped[str] = mapped_column(String(64), unique=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id"), index=True)
    home_point_id: Mapped[int] = mapped_column(ForeignKey("service_points.id"), index=True)
    current_point_id: Mapped[int] = mapped_column(ForeignKey("service_points.id"), index=True)
    call_number: Mapped[str] = mapped_column(String(100), default="")
    item_type: Mapped[str] = mapped_column(String(32), default="book")
    status: Mapped[str] = mapped_column(String(20), default=CopyStatus.AVAILABLE, index=True)
    status_reason: Mapped[str] = mapped_column(String(300), default="")
    status_changed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    price: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    date_added: Mapped[dt.date] = mapped_column(default=dt.date.today, index=True)
    source_id: Mapped[int | None] = mapped_column(ForeignKey("record_sources.id"))
    # The day it was last lent (kept by checkout): idle copies are found without the loans table.
    last_lent_on: Mapped[dt.date | None] = mapped_column(index=True)
    version: Mapped[int] = mapped_column(default=1, server_default=text("1"))

    record: Mapped[Record] = relationship(back_populates="copies")
    home_point: Mapped[ServicePoint] = relationship(foreign_keys=[home_point_id])
    current_point: Mapped[ServicePoint] = relationship(foreign_keys=[current_point_id])

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (read once by the mapper)
