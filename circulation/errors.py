"""Why a circulation action was refused, in words a librarian can act on (Chinese and English).

Every refusal leaves the database as it was: the service functions raise
before they write, and the caller's transaction is rolled back.
"""

from __future__ import annotations

from typing import Any

from catalog.errors import Conflict, DomainError, NotFound


class PatronNotFound(NotFound):
    code = "patron_not_found"

    def __init__(self, card: str) -> None:
        super().__init__(
            f"no patron with card {card}: check the card number",
            f"没有卡号为 {card} 的读者，请核对读者证号",
            card=card,
        )


class CopyNotFound(NotFound):
    code = "copy_not_found"

    def __init__(self, barcode: str) -> None:
        super().__init__(
            f"no copy with barcode {barcode}: check the barcode or catalogue the copy first",
            f"没有条码为 {barcode} 的图书，请核对条码或先编目入藏",
            barcode=barcode,
        )


class PatronBlocked(Conflict):
    """The patron may not borrow now; ``details.reasons`` lists every reason (BLOCK-n)."""

    code = "patron_blocked"

    def __init__(self, reasons: list[dict[str, str]]) -> None:
        en = "; ".join(r["en"] for r in reasons)
        zh = "；".join(r["zh"] for r in reasons)
        super().__init__(f"patron may not borrow: {en}", f"该读者不能借书：{zh}", reasons=reasons)


class CirculationRefused(Conflict):
    """A rule refuses the action; ``code`` says which (stable for terminals and SIP2)."""

    def __init__(self, code: str, message_en: str, message_zh: str, **details: Any) -> None:
        super().__init__(message_en, message_zh, **details)
        self.code = code


class ConcurrentChange(Conflict):
    code = "concurrent_change"

    def __init__(self) -> None:
        super().__init__(
            "another desk changed this copy or patron at the same moment: scan again",
            "其他服务台同时办理了该图书或读者的业务，请重新扫描",
        )


class InvalidCirculationInput(DomainError):
    code = "invalid_input"
    http_status = 422
