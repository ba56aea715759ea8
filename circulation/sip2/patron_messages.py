"""Messages about a reader: 23/24 patron status, 63/64 patron information, 35/36 end
session, 37/38 fee paid, 01 block patron (answered with 24).

SIP-PATRON-1 The 14-character patron status says Y where the reader may not:
             charge (0), renew (1) and hold (3) for any block (BLOCK-1..5), card
             reported lost (4), too many items charged (5) when the loans reach the
             rule's limit, too many items overdue (6) for BLOCK-4, excessive
             outstanding fines (10) for BLOCK-5. AF gives every reason in words.
SIP-PATRON-2 The fee amount (BV, currency BH CNY) is the outstanding total, sent
             when something is owed.
SIP-PATRON-3 An unknown card gets valid patron (BL) N and a patron status of Y in
             the first four places.
SIP-PATRON-4 Patron information lists, when the summary asks for them and the PIN is
             right: hold items (AS, barcodes of copies on a hold shelf for the
             reader), overdue items (AT) and charged items (AU) as barcodes, fine
             items (AV) as ``fine-id amount kind``, unavailable holds (CD) as titles;
             from BP to BQ (1-based, both included; default all). No addresses, phone
             numbers or e-mail are sent.
SIP-FEE-1    Fee paid pays the fine named by CG (its id), or without CG the reader's
             open fines oldest first; the amount (BV) may not exceed what is owed,
             and the currency must be CNY (or blank).
SIP-BLOCK-1  Block patron (01) puts a manual block (BLOCK-3) on the card with the
             kiosk's message (AL) as the reason, in the ledger as the terminal.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from catalog.errors import DomainError
from catalog.records import Copy
from circulation.blocks import block_patron, block_reasons, loan_counts, outstanding_fines
from circulation.fines import get_fine, open_fines, pay
from circulation.holds import open_holds_of
from circulation.models import HoldStatus, Loan
from circulation.patrons import Patron, PatronStatus, patron_by_card
from circulation.pins import PinCheck
from circulation.policies import resolve
from circulation.receipts import mask_name
from circulation.sip2.codec import Request, amount, build, count, sip_datetime, yes
from circulation.sip2.context import Context
from circulation.tree import NetworkTree

UNKNOWN_PATRON_STATUS = "YYYY" + " " * 10


class PatronView:
    """What patron status and patron information say about one reader."""

    def __init__(self, ctx: Context, patron: Patron, pin: PinCheck | None) -> None:
        desk = ctx.desk()
        tree = NetworkTree.load(ctx.session)
        self.ctx, self.patron, self.pin = ctx, patron, pin
        self.policy = resolve(tree, desk.point.id, patron.category, None)
        self.counts = loan_counts(ctx.session, patron.id, desk.today)
        self.reasons = block_reasons(ctx.session, patron, self.policy, desk.today, self.counts)
        self.fines = outstanding_fines(ctx.session, patron.id)

    @property
    def verified(self) -> bool:
        return self.pin == PinCheck.OK

    def status(self) -> str:
        """SIP-PATRON-1: the 14 flags."""
        codes = {r["code"] for r in self.reasons}
        denied = bool(self.reasons)
        flags = [" "] * 14
        for position, on in (
            (0, denied),
            (1, denied),
            (3, denied),
            (4, self.patron.status == PatronStatus.CARD_LOST),
            (5, self.counts.open >= self.policy.max_loans),
            (6, "overdue" in codes),
            (10, "fines" in codes),
        ):
            if on:
                flags[position] = "Y"
        return "".join(flags)

    def name(self) -> str:
        return self.patron.name if self.verified else mask_name(self.patron.name)

    def screen(self) -> str | None:
        """AF: a PIN problem, else every reason the reader may not borrow."""
        ctx = self.ctx
        if self.pin not in (None, PinCheck.OK):
            return ctx.pin_message(self.pin)
        if self.reasons:
            return ctx.say(
                "; ".join(r["en"] for r in self.reasons), "；".join(r["zh"] for r in self.reasons)
            )
        return None

    def fee(self) -> tuple[str | None, str | None]:
        """SIP-PATRON-2: (BH, BV)."""
        return ("CNY", amount(self.fines)) if self.fines > 0 else (None, None)


def _patron(ctx: Context, request: Request) -> Patron | None:
    card = request.get("AA")
    return patron_by_card(ctx.session, card) if card else None


def patron_status_response(ctx: Context, patron: Patron | None, pin: PinCheck | None) -> str:
    fixed_date = sip_datetime(ctx.now)
    if patron is None:  # SIP-PATRON-3
        return build("24", [UNKNOWN_PATRON_STATUS, ctx.language, fixed_date], [
            ("AO", ctx.terminal.institution), ("AA", ""), ("AE", ""), ("BL", "N"), ("CQ", "N"),
            ("AF", ctx.say("unknown card", "无效读者证")),
        ])  # fmt: skip
    view = PatronView(ctx, patron, pin)
    currency, fee = view.fee()
    return build("24", [view.status(), ctx.language, fixed_date], [
        ("AO", ctx.terminal.institution), ("AA", patron.card), ("AE", view.name()),
        ("BL", "Y"), ("CQ", yes(view.verified)), ("BH", currency), ("BV", fee),
        ("AF", view.screen()),
    ])  # fmt: skip


def patron_status(ctx: Context, request: Request) -> str:
    """23 -> 24."""
    patron = _patron(ctx, request)
    pin = ctx.pin(patron, request) if patron is not None else None
    return patron_status_response(ctx, patron, pin)


def _window(request: Request, items: list[str]) -> list[str]:
    """SIP-PATRON-4: BP..BQ, 1-based and inclusive."""
    try:
        start = max(1, int(request.get("BP") or 1))
        end = int(request.get("BQ") or len(items))
    except ValueError:
        start, end = 1, len(items)
    return items[start - 1 : end]


def patron_information(ctx: Context, request: Request) -> str:
    """63 -> 64, with the one list the summary asks for."""
    patron = _patron(ctx, request)
    fixed_date = sip_datetime(ctx.now)
    if patron is None:
        return build("64", [UNKNOWN_PATRON_STATUS, ctx.language, fixed_date, "0000" * 6], [
            ("AO", ctx.terminal.institution), ("AA", ""), ("AE", ""), ("BL", "N"), ("CQ", "N"),
            ("AF", ctx.say("unknown card", "无效读者证")),
        ])  # fmt: skip
    view = PatronView(ctx, patron, ctx.pin(patron, request))
    session = ctx.session
    loans = list(
        session.scalars(
            select(Loan)
            .where(Loan.patron_id == patron.id, Loan.returned_at.is_(None))
            .options(joinedload(Loan.copy).load_only(Copy.barcode))
            .order_by(Loan.due_date, Loan.id)
        )
    )
    today = ctx.desk().today
    holds = open_holds_of(session, patron)
    ready = [h for h in holds if h.status == HoldStatus.READY]
    waiting = [h for h in holds if h.status != HoldStatus.READY]
    fines = open_fines(session, patron)
    lists = {
        0: ("AS", [h.copy.barcode for h in ready if h.copy is not None]),
        1: ("AT", [loan.copy.barcode for loan in loans if loan.due_date < today]),
        2: ("AU", [loan.copy.barcode for loan in loans]),
        3: ("AV", [f"{f.id} {amount(f.outstanding)} {f.kind}" for f in fines]),
        4: ("BU", []),
        5: ("CD", [h.record.title for h in waiting]),
    }
    summary = request.fixed.get("summary", "")
    asked = next((i for i, flag in enumerate(summary[:6]) if flag in "Yy"), None)
    listed: list[tuple[str, object | None]] = []
    if asked is not None and view.verified:
        code, items = lists[asked]
        listed = [(code, item) for item in _window(request, items)]
    counts = [len(ready), len(lists[1][1]), len(loans), len(fines), 0, len(waiting)]
    currency, fee = view.fee()
    limit = view.policy.fine_block_amount
    return build("64", [view.status(), ctx.language, fixed_date, *(count(n) for n in counts)], [
        ("AO", ctx.terminal.institution), ("AA", patron.card), ("AE", view.name()),
        ("BZ", count(view.policy.max_holds)), ("CA", count(view.policy.overdue_block_items)),
        ("CB", count(view.policy.max_loans)), ("BL", "Y"), ("CQ", yes(view.verified)),
        ("BH", currency), ("BV", fee), ("CC", amount(limit) if limit > 0 else None),
        *listed, ("AF", view.screen()),
    ])  # fmt: skip


def end_session(ctx: Context, request: Request) -> str:
    """35 -> 36: the PIN memory of this connection ends (SIP-PIN-1)."""
    ctx.pins.forget()
    return build("36", ["Y", sip_datetime(ctx.now)], [
        ("AO", ctx.terminal.institution), ("AA", request.get("AA")),
        ("AF", ctx.say("thank you, goodbye", "谢谢，再见")),
    ])  # fmt: skip


def _fee_answer(ctx: Context, request: Request, accepted: bool, message: str) -> str:
    transaction = request.get("BK") or None
    return build("38", [yes(accepted), sip_datetime(ctx.now)], [
        ("AO", ctx.terminal.institution), ("AA", request.get("AA")), ("BK", transaction),
        ("AF", message),
    ])  # fmt: skip


def fee_paid(ctx: Context, request: Request) -> str:
    """37 -> 38 (SIP-FEE-1)."""
    patron = _patron(ctx, request)
    if patron is None:
        return _fee_answer(ctx, request, False, ctx.say("unknown card", "无效读者证"))
    pin = ctx.pin(patron, request)
    if pin != PinCheck.OK:
        return _fee_answer(ctx, request, False, ctx.pin_message(pin))
    currency = request.fixed.get("currency_type", "").strip().upper()
    if currency not in ("", "CNY"):
        message = ctx.say(
            f"payments are in CNY, not {currency}", f"只收人民币（CNY），不收 {currency}"
        )
        return _fee_answer(ctx, request, False, message)
    try:
        paying = Decimal(request.get("BV")).quantize(Decimal("0.01"))
    except InvalidOperation:
        paying = Decimal("0")
    if not paying.is_finite() or paying <= 0:
        return _fee_answer(ctx, request, False, ctx.say("no amount given", "未给出金额"))
    desk = ctx.desk()
    try:
        if request.get("CG"):
            fine_id = int(request.get("CG")) if request.get("CG").isdigit() else 0
            fine = get_fine(ctx.session, fine_id)
            if fine.patron_id != patron.id:
                raise DomainError("this fine is another reader's", "该费用不属于此读者")
            pay(ctx.session, desk, fine, paying)
        else:
            left = paying
            owed = open_fines(ctx.session, patron)
            if sum((f.outstanding for f in owed), Decimal("0")) < paying:
                raise DomainError("the amount is more than is owed", "金额超过欠款总额")
            for fine in owed:
                part = min(left, fine.outstanding)
                if part > 0:
                    pay(ctx.session, desk, fine, part)
                    left -= part
    except DomainError as exc:
        ctx.undo()
        return _fee_answer(ctx, request, False, ctx.error(exc))
    owed_now = outstanding_fines(ctx.session, patron.id)
    message = ctx.say(
        f"paid {paying} yuan; {owed_now} yuan still owed", f"已缴 {paying} 元，尚欠 {owed_now} 元"
    )
    return _fee_answer(ctx, request, True, message)


def block(ctx: Context, request: Request) -> str:
    """01 -> 24 (SIP-BLOCK-1)."""
    patron = _patron(ctx, request)
    if patron is None:
        return patron_status_response(ctx, None, None)
    message = request.get("AL") or "card retained by the kiosk"
    retained = " (card retained 卡已吞)" if request.fixed.get("card_retained") == "Y" else ""
    block_patron(ctx.session, ctx.desk(), patron, f"{ctx.terminal.login}: {message}{retained}")
    ctx.pins.forget()
    return patron_status_response(ctx, patron, None)
