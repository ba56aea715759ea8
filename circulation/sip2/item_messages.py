"""Messages about a book: 11/12 checkout, 09/10 checkin, 29/30 renew, 65/66 renew all,
17/18 item information, 15/16 hold. Each calls the counter's service function.

SIP-CHECKOUT-1 Checkout lends by CHECKOUT-1..11 at the terminal's point; a refusal
               answers ok 0 with the reason in AF (in the reader's language).
SIP-CHECKOUT-2 A copy already on loan to the same reader is renewed instead when the
               kiosk's renewal policy (fixed field) is Y: ok 1, renewal ok Y.
SIP-CHECKOUT-3 The no-block flag and the no-block due date are read but change
               nothing: every rule applies (an offline kiosk's uploads are checked).
SIP-CHECKIN-1  Checkin returns by CHECKIN-1..4 at the terminal's point.
SIP-CHECKIN-2  A book that goes on the shelf here answers alert N. Otherwise alert Y
               and CV: 01 for this point's hold shelf (DA: the reader's masked
               name), 02 in transit for a hold elsewhere, 04 in transit to another
               point (home, or where it was sent); with CT the destination's code and
               AF naming the destination.
SIP-CHECKIN-3  A refused checkin (unknown barcode, out of circulation) answers ok 0,
               alert Y, CV 99.
SIP-RENEW-1    Renew renews by RENEW-1..6, only a loan of the reader named in AA.
SIP-RENEW-2    Renew all tries every open loan of the reader; BM lists the renewed
               barcodes, BN the others.
SIP-ITEM-1     Item information: circulation status 03 on the shelf, 04 on loan (AH
               the due date), 06 in processing, 08 on the hold shelf (CM the date it
               is kept until), 10 in transit (CT its destination), 12 lost, 13
               missing, 01 damaged or withdrawn; CF the number of open holds on the
               title; AQ home point, AP where it is now.
SIP-HOLD-1     Hold: mode + places a hold (HOLD-1) on the title of the copy AB (or the
               record id in AJ) for pickup at BS (default: the terminal's point);
               - cancels the reader's open hold on it (HOLD-7); * changes its pickup
               point (HOLD-8). BR is the queue position (HOLD-6).
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from catalog.errors import DomainError, NotFound
from catalog.network import point_by_code
from catalog.records import Copy, CopyStatus, Record
from circulation.checkin import checkin as check_in
from circulation.errors import CirculationRefused
from circulation.hold_service import cancel_hold, change_pickup, place_hold
from circulation.holds import queue_position
from circulation.loans import checkout as check_out
from circulation.models import OPEN_HOLD, Hold, HoldStatus, Loan, Transit
from circulation.patrons import Patron, patron_by_card
from circulation.pins import PinCheck
from circulation.receipts import mask_name
from circulation.renewals import renew as renew_loan
from circulation.sip2.codec import Request, build, count, sip_date, sip_datetime, yes
from circulation.sip2.context import Context
from circulation.tree import NetworkTree

CIRCULATION_STATUS = {
    CopyStatus.AVAILABLE: "03",
    CopyStatus.ON_LOAN: "04",
    CopyStatus.IN_PROCESSING: "06",
    CopyStatus.ON_HOLD_SHELF: "08",
    CopyStatus.IN_TRANSIT: "10",
    CopyStatus.LOST: "12",
    CopyStatus.MISSING: "13",
}
MEDIA_TYPE = {"book": "001", "periodical": "002", "magazine": "002", "audio": "004"}
STATUS_TEXT = {
    "available": ("on the shelf", "在架"),
    "on_loan": ("on loan", "已借出"),
    "in_transit": ("in transit", "在途"),
    "on_hold_shelf": ("on the hold shelf", "在预约架"),
    "in_processing": ("in processing", "加工中"),
    "missing": ("missing", "丢失待查"),
    "damaged": ("damaged", "破损"),
    "lost": ("lost", "遗失"),
    "withdrawn": ("withdrawn", "已剔旧"),
}
ALERT = {"hold_shelf": "01", "hold_elsewhere": "02", "transit": "04"}


def _title(ctx: Context, barcode: str) -> str:
    title = ctx.session.scalar(
        select(Record.title).join(Copy, Copy.record_id == Record.id).where(Copy.barcode == barcode)
    )
    return title or ""


def _reader(ctx: Context, request: Request) -> tuple[Patron | None, str | None]:
    """The reader named in AA with a right PIN (SIP-PIN-1), or the refusal to give."""
    card = request.get("AA")
    patron = patron_by_card(ctx.session, card) if card else None
    return _checked(ctx, request, card, patron)


def _card(ctx: Context, request: Request) -> tuple[str | None, str | None]:
    """The card in AA when its PIN is right; read from the database only if not remembered."""
    card = request.get("AA")
    pin = request.get("AD")
    if card and ctx.pins.card == card and (not pin or ctx.pins.knows(card, pin)):
        return card, None
    patron, refusal = _reader(ctx, request)
    return (patron.card if patron else None), refusal


def _checked(
    ctx: Context, request: Request, card: str, patron: Patron | None
) -> tuple[Patron | None, str | None]:
    if patron is None:
        return None, ctx.say(f"no reader with card {card}", f"没有卡号为 {card} 的读者")
    pin = ctx.pin(patron, request)
    if pin != PinCheck.OK:
        return None, ctx.pin_message(pin)
    return patron, None


def _loan_answer(command: str, ctx: Context, request: Request, **values: object) -> str:
    """12 and 30 share their layout."""
    ok = bool(values.get("ok"))
    return build(command, [
        "1" if ok else "0", yes(bool(values.get("renewal"))), "N", yes(ok and command == "12"),
        sip_datetime(ctx.now),
    ], [
        ("AO", ctx.terminal.institution), ("AA", request.get("AA")), ("AB", request.get("AB")),
        ("AJ", values.get("title", "")), ("AH", values.get("due", "")),
        ("CK", values.get("media")), ("AF", values.get("screen")), ("AG", values.get("print")),
    ])  # fmt: skip


def checkout(ctx: Context, request: Request) -> str:
    """11 -> 12 (SIP-CHECKOUT-1..3)."""
    barcode = request.get("AB")
    card, refusal = _card(ctx, request)
    if card is None:
        return _loan_answer("12", ctx, request, screen=refusal, title=_title(ctx, barcode))
    try:
        receipt = check_out(ctx.session, ctx.desk(), card, barcode)
    except CirculationRefused as exc:
        if exc.code != "already_on_loan" or request.fixed.get("sc_renewal_policy") != "Y":
            ctx.undo()
            return _loan_answer(
                "12", ctx, request, screen=ctx.error(exc), title=_title(ctx, barcode)
            )
        ctx.undo()  # SIP-CHECKOUT-2
        return _renewed("12", ctx, request, card)
    except DomainError as exc:
        ctx.undo()
        return _loan_answer("12", ctx, request, screen=ctx.error(exc), title=_title(ctx, barcode))
    due = receipt.loan.due_date
    return _loan_answer(
        "12", ctx, request, ok=True, title=receipt.copy.title, due=sip_date(due),
        media=MEDIA_TYPE.get(receipt.copy.item_type, "000"),
        screen=ctx.say(receipt.instruction.en, receipt.instruction.zh),
        print=f"{receipt.copy.title} {ctx.say('due', '应还')} {due.isoformat()}",
    )  # fmt: skip


def _renewed(command: str, ctx: Context, request: Request, card: str) -> str:
    barcode = request.get("AB")
    try:
        receipt = renew_loan(ctx.session, ctx.desk(), barcode)
        if receipt.loan.patron is None or receipt.loan.patron.card != card:  # SIP-RENEW-1
            raise NotFound(
                f"copy {barcode} is not on loan to this reader", f"图书 {barcode} 不是此读者所借"
            )
    except DomainError as exc:
        ctx.undo()
        return _loan_answer(
            command, ctx, request, screen=ctx.error(exc), title=_title(ctx, barcode)
        )
    due = receipt.loan.due_date
    return _loan_answer(
        command, ctx, request, ok=True, renewal=True, title=receipt.copy.title,
        due=sip_date(due), media=MEDIA_TYPE.get(receipt.copy.item_type, "000"),
        screen=ctx.say(receipt.instruction.en, receipt.instruction.zh),
    )  # fmt: skip


def renew(ctx: Context, request: Request) -> str:
    """29 -> 30 (SIP-RENEW-1)."""
    card, refusal = _card(ctx, request)
    if card is None:
        return _loan_answer(
            "30", ctx, request, screen=refusal, title=_title(ctx, request.get("AB"))
        )
    return _renewed("30", ctx, request, card)


def renew_all(ctx: Context, request: Request) -> str:
    """65 -> 66 (SIP-RENEW-2)."""
    patron, refusal = _reader(ctx, request)
    fixed_date = sip_datetime(ctx.now)
    if patron is None:
        return build("66", ["0", "0000", "0000", fixed_date],
                     [("AO", ctx.terminal.institution), ("AF", refusal)])  # fmt: skip
    barcodes = list(
        ctx.session.scalars(
            select(Copy.barcode)
            .join(Loan, Loan.copy_id == Copy.id)
            .where(Loan.patron_id == patron.id, Loan.returned_at.is_(None))
            .order_by(Loan.due_date, Loan.id)
        )
    )
    desk = ctx.desk()
    renewed, unrenewed = [], []
    for barcode in barcodes:
        try:  # a refused renewal writes nothing (RENEW-1..6 refuse before writing)
            renew_loan(ctx.session, desk, barcode)
            renewed.append(barcode)
        except DomainError:
            unrenewed.append(barcode)
    return build("66", ["1", count(len(renewed)), count(len(unrenewed)), fixed_date], [
        ("AO", ctx.terminal.institution), *(("BM", b) for b in renewed),
        *(("BN", b) for b in unrenewed),
        ("AF", ctx.say(f"{len(renewed)} renewed, {len(unrenewed)} not renewed",
                       f"续借成功 {len(renewed)} 册，未能续借 {len(unrenewed)} 册")),
    ])  # fmt: skip


def _checkin_answer(ctx: Context, request: Request, **values: object) -> str:
    ok = bool(values.get("ok"))
    return build("10", [
        "1" if ok else "0", yes(ok), "N", yes(bool(values.get("alert"))), sip_datetime(ctx.now),
    ], [
        ("AO", ctx.terminal.institution), ("AB", request.get("AB")),
        ("AQ", values.get("home", "")), ("AJ", values.get("title")), ("CK", values.get("media")),
        ("CT", values.get("destination")), ("CV", values.get("alert_type")),
        ("DA", values.get("hold_name")), ("AF", values.get("screen")),
    ])  # fmt: skip


def checkin(ctx: Context, request: Request) -> str:
    """09 -> 10 (SIP-CHECKIN-1..3)."""
    barcode = request.get("AB")
    try:
        receipt = check_in(ctx.session, ctx.desk(), barcode)
    except DomainError as exc:
        ctx.undo()
        return _checkin_answer(ctx, request, alert=True, alert_type="99", screen=ctx.error(exc),
                               title=_title(ctx, barcode) or None)  # fmt: skip
    kind = receipt.action
    if kind == "transit" and receipt.hold is not None:
        kind = "hold_elsewhere"
    hold = receipt.hold
    hold_name = None
    if kind == "hold_shelf" and hold is not None and hold.patron is not None:
        hold_name = f"{mask_name(hold.patron.name)} (…{hold.patron.card[-4:]})"
    destination = receipt.destination
    return _checkin_answer(
        ctx, request, ok=True, alert=kind != "shelve", alert_type=ALERT.get(kind),
        destination=destination.code if destination else None, hold_name=hold_name,
        home=receipt.copy.home, title=receipt.copy.title,
        media=MEDIA_TYPE.get(receipt.copy.item_type, "000"),
        screen=ctx.say(receipt.instruction.en, receipt.instruction.zh),
    )  # fmt: skip


def item_information(ctx: Context, request: Request) -> str:
    """17 -> 18 (SIP-ITEM-1)."""
    session = ctx.session
    barcode = request.get("AB")
    copy = session.scalar(
        select(Copy)
        .where(Copy.barcode == barcode)
        .options(joinedload(Copy.record), joinedload(Copy.home_point),
                 joinedload(Copy.current_point))
    )  # fmt: skip
    fixed_date = sip_datetime(ctx.now)
    if copy is None:
        return build("18", ["01", "00", "01", fixed_date], [
            ("AB", barcode), ("AJ", ""),
            ("AF", ctx.say(f"no copy with barcode {barcode}", f"没有条码为 {barcode} 的图书")),
        ])  # fmt: skip
    due = shelf_until = destination = None
    if copy.status == CopyStatus.ON_LOAN:
        due = session.scalar(
            select(Loan.due_date).where(Loan.copy_id == copy.id, Loan.returned_at.is_(None))
        )
    elif copy.status == CopyStatus.ON_HOLD_SHELF:
        shelf_until = session.scalar(
            select(Hold.shelf_until).where(Hold.copy_id == copy.id, Hold.status == HoldStatus.READY)
        )
    elif copy.status == CopyStatus.IN_TRANSIT:
        destination = session.scalar(
            select(Transit.to_point_id).where(Transit.copy_id == copy.id,
                                             Transit.closed_at.is_(None))
        )  # fmt: skip
    queue = session.scalar(
        select(func.count(Hold.id)).where(
            Hold.record_id == copy.record_id, Hold.status.in_(OPEN_HOLD)
        )
    )
    en, zh = STATUS_TEXT.get(copy.status, (copy.status, copy.status))
    where = NetworkTree.load(session)[destination].code if destination else None
    return build("18", [CIRCULATION_STATUS.get(CopyStatus(copy.status), "01"), "00", "01",
                        fixed_date], [
        ("CF", str(queue or 0)), ("AH", sip_date(due) if due else None),
        ("CM", sip_date(shelf_until) if shelf_until else None), ("AB", copy.barcode),
        ("AJ", copy.record.title), ("BG", copy.home_point.code),
        ("CK", MEDIA_TYPE.get(copy.item_type, "000")), ("AQ", copy.home_point.code),
        ("AP", copy.current_point.code),
        ("CT", where), ("AF", ctx.say(en, zh)),
    ])  # fmt: skip


def _record(ctx: Context, request: Request) -> Record | None:
    barcode, title_id = request.get("AB"), request.get("AJ")
    if barcode:
        return ctx.session.scalar(
            select(Record).join(Copy, Copy.record_id == Record.id).where(Copy.barcode == barcode)
        )
    if title_id.isdigit() and len(title_id) < 18:
        return ctx.session.get(Record, int(title_id))
    return None


def _hold_answer(ctx: Context, request: Request, ok: bool, screen: str, **values: object) -> str:
    return build("16", ["1" if ok else "0", yes(bool(values.get("available"))),
                        sip_datetime(ctx.now)], [
        ("BW", values.get("expires")), ("BR", values.get("queue")), ("BS", values.get("pickup")),
        ("AO", ctx.terminal.institution), ("AA", request.get("AA")),
        ("AB", request.get("AB") or None), ("AJ", values.get("title")), ("AF", screen),
    ])  # fmt: skip


def hold(ctx: Context, request: Request) -> str:
    """15 -> 16 (SIP-HOLD-1)."""
    patron, refusal = _reader(ctx, request)
    if patron is None:
        return _hold_answer(ctx, request, False, refusal or "")
    record = _record(ctx, request)
    if record is None:
        return _hold_answer(ctx, request, False, ctx.say(
            "no such title: scan a copy of it", "找不到该书，请扫描一册该书的条码"))  # fmt: skip
    session, desk = ctx.session, ctx.desk()
    mode = request.fixed.get("hold_mode", "+")
    try:
        pickup = point_by_code(session, request.get("BS") or desk.point.code)
        if pickup is None:
            code = request.get("BS")
            raise NotFound(f"no service point {code}", f"没有服务点 {code}")
        if mode == "+":
            placed = place_hold(session, desk, patron, record, pickup)
        else:
            placed = _open_hold(ctx, patron, record)
            if mode == "-":
                cancel_hold(session, desk, placed, f"cancelled at kiosk {ctx.terminal.login}")
            else:
                change_pickup(session, desk, placed, pickup)
    except DomainError as exc:
        ctx.undo()
        return _hold_answer(ctx, request, False, ctx.error(exc), title=record.title)
    if mode == "-":
        return _hold_answer(ctx, request, True, ctx.say("hold cancelled", "预约已取消"),
                            title=record.title)  # fmt: skip
    position = queue_position(session, placed)
    return _hold_answer(
        ctx, request, True, ctx.say(f"hold placed: collect it at {pickup.name}",
                                    f"预约成功，取书地点：{pickup.name}"),
        available=placed.status == HoldStatus.TARGETED, queue=position, pickup=pickup.code,
        title=record.title,
    )  # fmt: skip


def _open_hold(ctx: Context, patron: Patron, record: Record) -> Hold:
    found = ctx.session.scalar(
        select(Hold).where(
            Hold.patron_id == patron.id, Hold.record_id == record.id, Hold.status.in_(OPEN_HOLD)
        )
    )
    if found is None:
        raise NotFound("the reader has no hold on this title", "该读者没有预约此书")
    return found
