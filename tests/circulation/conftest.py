"""One small real network with patrons and copies, and a desk to act at any point at any time.

清溪县 (tests/data/network.csv): central QX; branches QX01 and QX02; the village
bookshop QX01V01 under QX01 (open Saturday and Sunday only); the worksite
reading room QX02W01 under QX02 (open every day). "Now" is Wednesday
2026-12-02 10:00 in Beijing unless a test moves the clock.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.network import point_by_code
from catalog.records import Copy, Record
from circulation.desk import Desk
from circulation.ledger import LedgerEntry
from circulation.models import Policy
from circulation.patrons import Patron
from circulation.policies import save_rule

WEDNESDAY = dt.datetime(2026, 12, 2, 2, 0, tzinfo=dt.UTC)  # 10:00 in Beijing


@dataclass
class Circ:
    """The arranged network: patrons by card, records by key, and desks by point code."""

    db: Session
    now: dt.datetime = WEDNESDAY

    def desk(self, code: str, at: dt.datetime | None = None, actor: str = "staff:test") -> Desk:
        point = point_by_code(self.db, code)
        assert point is not None, code
        return Desk(point, actor, at or self.now)

    def patron(self, card: str, home: str = "QX01", category: str = "adult", **kw) -> Patron:
        point = point_by_code(self.db, home)
        patron = Patron(card=card, name=kw.pop("name", f"读者{card[-2:]}"), category=category,
                        home_point=point, **kw)  # fmt: skip
        self.db.add(patron)
        self.db.flush()
        return patron

    def record(self, title: str = "红楼梦") -> Record:
        record = Record(title=title, authors=["曹雪芹"])
        self.db.add(record)
        self.db.flush()
        return record

    def copy(
        self,
        barcode: str,
        record: Record,
        home: str,
        at: str | None = None,
        item_type: str = "book",
        price: str | None = None,
    ) -> Copy:
        home_point = point_by_code(self.db, home)
        current = point_by_code(self.db, at or home)
        copy = Copy(barcode=barcode, record=record, home_point=home_point, current_point=current,
                    item_type=item_type, call_number=f"I242.4/{barcode[-2:]}",
                    price=Decimal(price) if price else None)  # fmt: skip
        self.db.add(copy)
        self.db.flush()
        return copy


@pytest.fixture
def circ(db, network) -> Circ:
    return Circ(db)


def events(db: Session, event: str | None = None) -> list[LedgerEntry]:
    """Ledger rows in order, optionally of one kind."""
    query = select(LedgerEntry).order_by(LedgerEntry.id)
    if event is not None:
        query = query.where(LedgerEntry.event == event)
    return list(db.scalars(query))


def set_rule(db: Session, **values) -> Policy:
    """Add a rule (point given by code) or change the network default (no scope given)."""
    code = values.pop("point", None)
    if code is not None:
        values["point_id"] = point_by_code(db, code).id
    scope = {k: values.get(k) for k in ("point_id", "patron_category", "item_type")}
    rule = db.scalar(
        select(Policy).where(
            *(getattr(Policy, k).is_(None) if v is None else getattr(Policy, k) == v
              for k, v in scope.items())
        )
    )  # fmt: skip
    return save_rule(db, values, rule)
