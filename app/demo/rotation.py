"""The demo's rotation (图书流转): this season's batches, drawn up by the planner.

A hundred days before the demo is loaded, the network administrator runs the rotation
planner (circulation/rotation/planner.py): idle copies at the points above 0.8 copies per
resident are proposed for the points furthest below it. The proposals for the two
furthest below go out as batches, one per sending point; the van delivers them the next
day and they count for the receiving points from then on. The third proposal is planned
as next season's batch but not sent, so the rotation page shows both states.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from catalog.errors import DomainError
from catalog.network import ServicePoint
from circulation.desk import Desk, local_date
from circulation.rotation.batches import create_batch, send_batch
from circulation.rotation.planner import plan

if TYPE_CHECKING:
    from app.demo.circulation import World

ROTATION_DAYS_AGO = 100
COPIES_PER_BATCH = 120  # at scale 1; a season's box for a village bookshop
SEASON_DAYS = 180


def spring_rotation(session: Session, world: World, day_index: int, morning: dt.datetime) -> None:
    today = local_date(morning)
    codes = {p.id: code for code, p in world.points.items()}
    limit = max(5, int(COPIES_PER_BATCH * world.scale))
    proposals = [p for p in plan(session, today).proposals if p.lines][:3]
    for n, proposal in enumerate(proposals):
        to = session.get(ServicePoint, proposal.to_id)
        assert to is not None
        by_source: dict[str, list[str]] = defaultdict(list)
        for line in proposal.lines[:limit]:
            by_source[codes[line.from_id]].append(line.barcode)
        for source, barcodes in sorted(by_source.items()):
            on_shelf = set(world.shelf[source])
            barcodes = [b for b in barcodes if b in on_shelf]
            if barcodes:
                _batch(session, world, world.desk(source, morning, 50 + n), to, barcodes,
                       send=n < 2, day_index=day_index)  # fmt: skip


def _batch(
    session: Session,
    world: World,
    desk: Desk,
    to: ServicePoint,
    barcodes: list[str],
    send: bool,
    day_index: int,
) -> None:
    today = local_date(desk.now)
    season = "春季" if send else "秋季"
    try:
        batch, _left = create_batch(session, desk, f"{today.year}年{season}流转·{to.name}", to,
                                    barcodes, today + dt.timedelta(days=SEASON_DAYS))  # fmt: skip
        if not send:  # next season's: planned, not sent
            world.counts["rotation batches planned"] += 1
            return
        send_batch(session, desk, batch)
    except DomainError:
        world.counts["refused rotation batches"] += 1
        return
    world.counts["rotation batches sent"] += 1
    for barcode in barcodes:
        world.shelf[desk.point.code].remove(barcode)
        world.van[day_index + 1].append((to.code, barcode))  # received at the other end
