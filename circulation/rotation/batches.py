"""Rotation batches (图书流转): the central library lends a point a set of copies for a season.

ROTATION-1 A batch names the point that receives it, the point that sends it (the desk's),
           the day the season ends and copies on the sending point's shelf; a copy is in
           one open batch at most.
ROTATION-2 Sending puts each copy still on the shelf there in transit to the receiving
           point (TRANSIT-2, reason ``rotation``); copies lent or gone meanwhile are left out
           of the batch and listed.
ROTATION-3 Received there (check-in or receive, TRANSIT-3), a copy's home becomes the
           receiving point for the season (MOVE-2): it is shelved there, counts in that
           point's holdings, its loans count for that point by copy's home, and a return
           anywhere sends it back there (CHECKIN-2.4).
ROTATION-4 Recalling gives every copy its original home back (MOVE-2): copies on the
           receiving point's shelf are sent home at their next scan, copies on loan when
           returned, copies still in the van stay bound for home.
ROTATION-5 A recalled batch closes once every copy is back at its original home on the shelf
           (checked by the daily round and when the batch is shown).
ROTATION-6 Each batch has its list (title, call number, where each copy is) and a slip.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from catalog.errors import NotFound
from catalog.network import ServicePoint
from catalog.records import Copy, CopyStatus
from circulation.desk import Desk
from circulation.errors import CirculationRefused, InvalidCirculationInput
from circulation.models import Transit, TransitReason
from circulation.rotation.models import OPEN_BATCH, BatchStatus, RotationBatch, RotationCopy
from circulation.rotation.moves import set_home
from circulation.transits import send

MAX_COPIES = 5000


@dataclass(frozen=True)
class Left:
    """A copy that could not go with the batch, and why (in both languages)."""

    barcode: str
    en: str
    zh: str


def get_batch(session: Session, batch_id: int) -> RotationBatch:
    batch = session.get(RotationBatch, batch_id) if 0 < batch_id < 2**31 else None
    if batch is None:
        raise NotFound(f"no rotation batch {batch_id}", f"没有编号为 {batch_id} 的流转批次")
    return batch


def create_batch(
    session: Session,
    desk: Desk,
    name: str,
    to: ServicePoint,
    barcodes: list[str],
    recall_on: dt.date | None = None,
) -> tuple[RotationBatch, list[Left]]:
    """ROTATION-1: plan a batch from barcodes; returns it and the barcodes left out, with why."""
    name = name.strip()
    if not name:
        raise InvalidCirculationInput("give the batch a name", "请填写批次名称")
    if to.id == desk.point.id:
        raise InvalidCirculationInput("a batch goes to another point", "流转批次必须送往其他服务点")
    unique = list(dict.fromkeys(b.strip() for b in barcodes if b.strip()))
    if not unique or len(unique) > MAX_COPIES:
        raise InvalidCirculationInput(
            f"give 1 to {MAX_COPIES} barcodes", f"请提供 1 至 {MAX_COPIES} 个条码"
        )
    copies = {c.barcode: c for c in session.scalars(select(Copy).where(Copy.barcode.in_(unique)))}
    busy = set(
        session.scalars(
            select(RotationCopy.copy_id)
            .join(RotationBatch, RotationBatch.id == RotationCopy.batch_id)
            .where(RotationBatch.status.in_(OPEN_BATCH))
        )
    )
    batch = RotationBatch(
        name=name,
        from_point_id=desk.point.id,
        to_point_id=to.id,
        recall_on=recall_on,
        created_by=desk.actor,
        created_at=desk.now,
    )
    session.add(batch)
    session.flush()
    left: list[Left] = []
    for barcode in unique:
        copy = copies.get(barcode)
        reason = _unfit(copy, desk, busy)
        if reason is not None:
            left.append(Left(barcode, *reason))
            continue
        assert copy is not None
        session.add(
            RotationCopy(batch_id=batch.id, copy_id=copy.id, original_home_id=copy.home_point_id)
        )
    session.flush()
    if not batch.copies:
        raise InvalidCirculationInput(
            "none of these copies can go: " + "; ".join(f"{x.barcode} {x.en}" for x in left),
            "这些图书都不能流转：" + "；".join(f"{x.barcode} {x.zh}" for x in left),
        )
    return batch, left


def _unfit(copy: Copy | None, desk: Desk, busy: set[int]) -> tuple[str, str] | None:
    if copy is None:
        return "no such copy", "没有该图书"
    if copy.id in busy:
        return "already in an open batch", "已在另一个流转批次中"
    if copy.status != CopyStatus.AVAILABLE or copy.current_point_id != desk.point.id:
        return "not on the shelf here", "不在本馆架上"
    return None


def send_batch(session: Session, desk: Desk, batch: RotationBatch) -> list[Left]:
    """ROTATION-2: every copy still on this shelf leaves for the receiving point."""
    if batch.status != BatchStatus.PLANNED:
        raise CirculationRefused(
            "batch_not_planned",
            f"batch {batch.id} is {batch.status}",
            f"批次 {batch.id} 当前状态不能发送",
        )
    left: list[Left] = []
    for item in list(batch.copies):
        copy = item.copy
        reason = _unfit(copy, desk, set())
        if reason is not None:
            left.append(Left(copy.barcode, *reason))
            session.delete(item)
            continue
        send(session, desk, copy, batch.to_point, TransitReason.ROTATION, batch_id=batch.id)
    batch.status, batch.sent_at = BatchStatus.SENT, desk.now
    session.flush()
    return left


def received(session: Session, desk: Desk, copy: Copy, transit: Transit) -> bool:
    """ROTATION-3, called when a rotation transit arrives: the copy's home for the season."""
    item = session.scalar(
        select(RotationCopy)
        .join(RotationBatch, RotationBatch.id == RotationCopy.batch_id)
        .where(
            RotationCopy.copy_id == copy.id,
            RotationBatch.id == transit.batch_id,
            RotationBatch.status == BatchStatus.SENT,
        )
    )
    if item is None or desk.point.id != item.batch.to_point_id:
        return False
    item.received_at = desk.now
    set_home(session, desk, copy, item.batch.to_point_id, "rotation", item.batch_id)
    return True


def recall_batch(session: Session, desk: Desk, batch: RotationBatch) -> int:
    """ROTATION-4: the season is over; returns how many copies got their home back."""
    if batch.status != BatchStatus.SENT:
        raise CirculationRefused(
            "batch_not_sent",
            f"batch {batch.id} is {batch.status}",
            f"批次 {batch.id} 尚未发送或已召回",
        )
    moved = 0
    for item in batch.copies:
        item.recalled_at = desk.now
        if item.copy.home_point_id != item.original_home_id:
            set_home(session, desk, item.copy, item.original_home_id, "rotation recalled", batch.id)
            moved += 1
    batch.status, batch.recalled_at = BatchStatus.RECALLED, desk.now
    session.flush()
    close_if_back(session, desk, batch)
    return moved


def close_if_back(session: Session, desk: Desk, batch: RotationBatch) -> bool:
    """ROTATION-5: close a recalled batch whose copies are all home on the shelf."""
    if batch.status != BatchStatus.RECALLED:
        return False
    for item in batch.copies:
        home = item.copy.current_point_id == item.original_home_id
        if item.back_at is None and home and item.copy.status == CopyStatus.AVAILABLE:
            item.back_at = desk.now
    if all(item.back_at is not None for item in batch.copies):
        batch.status, batch.closed_at = BatchStatus.CLOSED, desk.now
    session.flush()
    return batch.status == BatchStatus.CLOSED


def batches(session: Session, open_only: bool = False) -> list[RotationBatch]:
    query = select(RotationBatch).options(
        joinedload(RotationBatch.to_point), joinedload(RotationBatch.from_point)
    )
    if open_only:
        query = query.where(RotationBatch.status != BatchStatus.CLOSED)
    return list(session.scalars(query.order_by(RotationBatch.id.desc())))
