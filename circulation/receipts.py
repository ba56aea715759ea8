"""What a circulation action tells the librarian (or the kiosk) to do next: the receipt (凭条).

Receipts are plain values, built by the service functions and shown by the
counter pages, the JSON API and the SIP2 server alike, so every desk gives
the same instruction for the same book.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from catalog.records import Copy
from circulation.desk import Place
from circulation.patrons import Patron


@dataclass(frozen=True)
class Note:
    """Something the librarian should know (whereabouts corrected, a transit closed...)."""

    code: str
    en: str
    zh: str


@dataclass(frozen=True)
class PointRef:
    code: str
    name: str

    @classmethod
    def of(cls, point: Place) -> PointRef:
        return cls(point.code, point.name)


@dataclass(frozen=True)
class CopyRef:
    barcode: str
    record_id: int
    title: str
    call_number: str
    home: str
    item_type: str

    @classmethod
    def of(cls, copy: Copy) -> CopyRef:
        return cls(
            copy.barcode,
            copy.record_id,
            copy.record.title,
            copy.call_number,
            copy.home_point.code,
            copy.item_type,
        )


def mask_name(name: str) -> str:
    """张三丰 -> 张*丰, 李四 -> 李*: hold-shelf slips can be seen by other readers."""
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


@dataclass(frozen=True)
class PatronRef:
    card: str
    name: str

    @classmethod
    def of(cls, patron: Patron) -> PatronRef:
        return cls(patron.card, patron.name)

    @property
    def slip_name(self) -> str:
        """Name and card tail for a slip on an open hold shelf: 张*丰 (…1234)."""
        return f"{mask_name(self.name)} (…{self.card[-4:]})"


@dataclass(frozen=True)
class LoanRef:
    id: int
    patron: PatronRef | None
    due_date: dt.date
    renewals: int
    checked_out_at: dt.datetime
    point: str
    days_overdue: int = 0


@dataclass(frozen=True)
class HoldRef:
    id: int
    patron: PatronRef | None
    pickup: PointRef
    status: str
    shelf_until: dt.date | None


@dataclass(frozen=True)
class FineRef:
    id: int
    kind: str
    amount: Decimal


@dataclass
class CheckoutReceipt:
    """CHECKOUT: the loan made, its due date, and anything corrected on the way."""

    loan: LoanRef
    copy: CopyRef
    point: PointRef
    notes: list[Note] = field(default_factory=list)

    @property
    def instruction(self) -> Note:
        due = self.loan.due_date.isoformat()
        return Note("lent", f"lent until {due}", f"已借出，应还日期 {due}")


@dataclass
class CheckinReceipt:
    """CHECKIN: the loan closed (if any) and where the book goes now.

    ``action`` is ``shelve`` (put it on the shelf here), ``hold_shelf`` (put
    it on the hold shelf here for ``hold``) or ``transit`` (send it to
    ``destination``).
    """

    action: str
    destination: PointRef | None
    copy: CopyRef
    point: PointRef
    loan: LoanRef | None = None
    hold: HoldRef | None = None
    transit_id: int | None = None
    fine: FineRef | None = None
    notes: list[Note] = field(default_factory=list)

    @property
    def instruction(self) -> Note:
        if self.action == "hold_shelf" and self.hold is not None:
            who = self.hold.patron.slip_name if self.hold.patron else ""
            until = self.hold.shelf_until.isoformat() if self.hold.shelf_until else ""
            return Note(
                "hold_shelf",
                f"hold shelf for {who} until {until}",
                f"放预约架：{who}，保留至 {until}",
            )
        if self.action == "transit" and self.destination is not None:
            to = f"{self.destination.name} ({self.destination.code})"
            return Note("transit", f"send to {to}", f"送往 {to}")
        return Note("shelve", "shelve here", "上架")


@dataclass
class RenewalReceipt:
    loan: LoanRef
    copy: CopyRef
    point: PointRef
    previous_due_date: dt.date
    notes: list[Note] = field(default_factory=list)

    @property
    def instruction(self) -> Note:
        due = self.loan.due_date.isoformat()
        return Note("renewed", f"renewed until {due}", f"已续借，应还日期 {due}")
