"""Every SIP2 message against the counter's rules, over a real socket: the ordinary flows through
the PyPI client ``sip2`` (Sip2 1.1), the rest in raw frames (docs/sip2.md)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select

from catalog.db import utcnow
from catalog.network import point_by_code
from catalog.records import Copy, CopyStatus
from circulation.blocks import block_patron
from circulation.desk import Desk
from circulation.fines import charge
from circulation.hold_service import place_hold
from circulation.ledger import LedgerEntry
from circulation.loans import checkout
from circulation.models import FineKind, Hold, Loan, PatronBlock, TransitReason
from circulation.patrons import Patron, PatronStatus
from circulation.pins import MAX_FAILURES
from circulation.transits import send
from tests.circulation.conftest import set_rule
from tests.sip2.conftest import BLANK, DATE, PASSWORD, fields

CARD, PIN = "2000000001", "1234"


@pytest.fixture
def kiosk(sip, tmp_path):
    """The PyPI client, logged in as kiosk-qx01, with the reader's card and PIN set."""
    from Sip2.sip2 import Sip2

    client = Sip2()
    client.hostName, client.hostPort, client.tlsEnable = "127.0.0.1", sip.port, False
    client.logfile_path, client.loglevel = str(tmp_path), "WARNING"
    client.institutionId, client.scLocation, client.language = "QX", "QX01", "019"
    client.connect()
    login = client.sip_login_response(client.get_response(client.sip_login_request(
        "kiosk-qx01", PASSWORD)))  # fmt: skip
    assert login["fixed"]["Ok"] == "1"
    client.patron, client.patronpwd = CARD, PIN
    yield client
    client.disconnect()


def ask(client, request: str, parse):
    return parse(client.get_response(request))


def desk(code: str, days_ago: int = 0, actor: str = "staff:test") -> Desk:
    def at(db):
        return Desk(point_by_code(db, code), actor, utcnow() - dt.timedelta(days=days_ago))

    return at


def reader(circ, card: str = CARD, pin: str | None = PIN, **kw) -> Patron:
    patron = circ.patron(card, **kw)
    if pin:
        patron.set_pin(pin)
    return patron


def book(circ, barcode: str, home: str = "QX01", title: str = "红楼梦", record=None) -> Copy:
    return circ.copy(barcode, record or circ.record(title), home)


def test_sip_checkout_1_sip_account_2_lends_by_the_counter_rules_at_the_terminals_point(sip, kiosk):
    c = sip.circ
    reader(c)
    book(c, "3100000001")
    c.db.commit()
    status = ask(kiosk, kiosk.sip_sc_status_request(), kiosk.sip_sc_status_response)
    assert status["fixed"]["OnlineStatus"] == "Y"
    lent = ask(kiosk, kiosk.sip_checkout_request("3100000001"), kiosk.sip_checkout_response)
    assert lent["fixed"]["Ok"] == "1"
    variable = lent["variable"]
    assert variable["AJ"] == ["红楼梦"] and variable["AA"] == [CARD]
    loan = c.db.scalar(select(Loan))
    assert variable["AH"] == [f"{loan.due_date:%Y%m%d}    235959"]
    assert "已借出" in variable["AF"][0]
    entry = c.db.scalar(select(LedgerEntry).where(LedgerEntry.event == "checkout"))
    assert entry.actor == "terminal:kiosk-qx01"
    assert entry.point_id == point_by_code(c.db, "QX01").id == loan.point_id


def test_sip_checkout_1_refusals_say_why(sip, kiosk):
    c = sip.circ
    patron = reader(c)
    other = reader(c, "2000000002")
    copy = book(c, "3100000001")
    book(c, "3100000003", title="水浒传")
    place_hold(c.db, desk("QX01")(c.db), other, copy.record, point_by_code(c.db, "QX01"))
    c.db.flush()
    checkout_at = desk("QX01")(c.db)
    from circulation.checkin import checkin

    checkin(c.db, checkout_at, "3100000001")  # trapped for the other reader's hold
    block_patron(c.db, checkout_at, patron, "书损未赔")
    c.db.commit()
    blocked = ask(kiosk, kiosk.sip_checkout_request("3100000003"), kiosk.sip_checkout_response)
    assert blocked["fixed"]["Ok"] == "0" and "书损未赔" in blocked["variable"]["AF"][0]
    lift = c.db.scalar(select(PatronBlock))
    c.db.delete(lift)
    c.db.commit()
    held = ask(kiosk, kiosk.sip_checkout_request("3100000001"), kiosk.sip_checkout_response)
    assert held["fixed"]["Ok"] == "0" and "预约" in held["variable"]["AF"][0]
    missing = ask(kiosk, kiosk.sip_checkout_request("999"), kiosk.sip_checkout_response)
    assert missing["fixed"]["Ok"] == "0" and "没有条码为 999" in missing["variable"]["AF"][0]
    c.db.expire_all()
    assert c.db.scalar(select(Loan).where(Loan.patron_id == patron.id)) is None


def test_sip_checkout_2_already_lent_to_the_reader_is_renewed_when_the_kiosk_allows(sip):
    c = sip.circ
    patron = reader(c)
    book(c, "3100000001")
    c.db.flush()
    checkout(c.db, desk("QX01", days_ago=20)(c.db), CARD, "3100000001")
    c.db.commit()
    client = sip.raw()
    refused = client.ask(f"11NN{DATE}{BLANK}AOQX|AA{CARD}|AB3100000001|AD{PIN}|")
    assert refused.startswith("120N") and "续借" in refused
    renewed = client.ask(f"11YN{DATE}{BLANK}AOQX|AA{CARD}|AB3100000001|AD{PIN}|")
    assert renewed.startswith("121Y")
    loan = c.db.scalar(select(Loan).where(Loan.patron_id == patron.id))
    c.db.refresh(loan)
    assert loan.renewals == 1


def test_sip_checkout_3_no_block_flag_does_not_skip_the_rules(sip):
    c = sip.circ
    patron = reader(c)
    book(c, "3100000001")
    block_patron(c.db, desk("QX01")(c.db), patron, "停借测试")
    c.db.commit()
    answer = sip.raw().ask(f"11NY{DATE}{DATE}AOQX|AA{CARD}|AB3100000001|AD{PIN}|")
    assert answer.startswith("120") and "停借测试" in answer


def test_sip_checkin_1_returns_at_the_terminals_point_whoever_lent_it(sip, kiosk):
    c = sip.circ
    reader(c)
    book(c, "3100000001")
    c.db.flush()
    checkout(c.db, desk("QX02", days_ago=3)(c.db), CARD, "3100000001")
    c.db.commit()
    back = ask(kiosk, kiosk.sip_checkin_request("3100000001"), kiosk.sip_checkin_response)
    assert back["fixed"]["Ok"] == "1" and back["fixed"]["Alert"] == "N"
    assert back["variable"]["AQ"] == ["QX01"] and "CV" not in back["variable"]
    loan = c.db.scalar(select(Loan))
    c.db.refresh(loan)
    assert loan.returned_at is not None
    assert loan.return_point_id == point_by_code(c.db, "QX01").id


def test_sip_checkin_2_alert_types_destination_and_hold_reader(sip, kiosk):
    c = sip.circ
    reader(c)
    waiting_here = reader(c, "2000000002", name="张三丰")
    waiting_there = reader(c, "2000000003")
    book(c, "3100000002", home="QX02", title="西游记")
    here = book(c, "3100000003", home="QX02", title="三国演义")
    there = book(c, "3100000004", home="QX01", title="水浒传")
    c.db.flush()
    for barcode in ("3100000002", "3100000003", "3100000004"):
        checkout(c.db, desk("QX02", days_ago=2)(c.db), CARD, barcode)
    at = desk("QX01")(c.db)
    place_hold(c.db, at, waiting_here, here.record, point_by_code(c.db, "QX01"))
    place_hold(c.db, at, waiting_there, there.record, point_by_code(c.db, "QX02"))
    c.db.commit()
    home = ask(kiosk, kiosk.sip_checkin_request("3100000002"), kiosk.sip_checkin_response)
    assert home["fixed"]["Alert"] == "Y"
    assert home["variable"]["CV"] == ["04"] and home["variable"]["CT"] == ["QX02"]
    assert "石桥镇分馆" in home["variable"]["AF"][0]
    shelf = ask(kiosk, kiosk.sip_checkin_request("3100000003"), kiosk.sip_checkin_response)
    assert shelf["fixed"]["Alert"] == "Y" and shelf["variable"]["CV"] == ["01"]
    assert shelf["variable"]["DA"] == ["张*丰 (…0002)"] and "CT" not in shelf["variable"]
    away = ask(kiosk, kiosk.sip_checkin_request("3100000004"), kiosk.sip_checkin_response)
    assert away["variable"]["CV"] == ["02"] and away["variable"]["CT"] == ["QX02"]
    assert "石桥镇分馆" in away["variable"]["AF"][0]


def test_sip_checkin_3_refused_checkin_alerts_99(sip, kiosk):
    c = sip.circ
    copy = book(c, "3100000001")
    copy.status = CopyStatus.WITHDRAWN
    c.db.commit()
    unknown = ask(kiosk, kiosk.sip_checkin_request("0000"), kiosk.sip_checkin_response)
    assert unknown["fixed"]["Ok"] == "0" and unknown["fixed"]["Alert"] == "Y"
    assert unknown["variable"]["CV"] == ["99"]
    out = ask(kiosk, kiosk.sip_checkin_request("3100000001"), kiosk.sip_checkin_response)
    assert out["fixed"]["Ok"] == "0" and "不能流通" in out["variable"]["AF"][0]


def test_sip_item_1_circulation_status_of_each_state(sip):
    c = sip.circ
    reader(c)
    other = reader(c, "2000000002")
    record = c.record("红楼梦")
    for n, home in ((1, "QX01"), (2, "QX01"), (3, "QX02"), (4, "QX01"), (5, "QX01")):
        book(c, f"310000000{n}", home=home, record=record)
    c.db.flush()
    checkout(c.db, desk("QX01")(c.db), CARD, "3100000002")
    place_hold(c.db, desk("QX01")(c.db), other, record, point_by_code(c.db, "QX01"))
    copies = {x.barcode: x for x in c.db.scalars(select(Copy))}
    send(
        c.db,
        desk("QX01")(c.db),
        copies["3100000003"],
        point_by_code(c.db, "QX02"),
        TransitReason.MANUAL,
    )
    copies["3100000005"].status = CopyStatus.MISSING
    c.db.commit()
    client = sip.raw()

    def info(barcode):
        answer = client.ask(f"17{DATE}AOQX|AB{barcode}|")
        return answer[2:4], fields(answer, 26)

    shelf_status, shelf = info("3100000004")
    loan_status, loan = info("3100000002")
    transit_status, transit = info("3100000003")
    assert (shelf_status, loan_status, transit_status, info("3100000005")[0]) == (
        "03", "04", "10", "13")  # fmt: skip
    assert loan["AH"][0].endswith("235959") and transit["CT"] == ["QX02"]
    assert shelf["CF"] == ["1"] and shelf["AQ"] == ["QX01"] and shelf["AP"] == ["QX01"]
    from circulation.checkin import checkin

    hold = c.db.scalar(select(Hold))
    checkin(c.db, desk("QX01")(c.db), hold.copy.barcode)
    c.db.commit()
    c.db.refresh(hold)
    ready_status, ready = info(hold.copy.barcode)
    assert ready_status == "08" and ready["CM"] == [f"{hold.shelf_until:%Y%m%d}    235959"]
    assert info("nothing")[0] == "01"


def test_sip_patron_1_sip_patron_2_status_flags_and_fee(sip, kiosk):
    c = sip.circ
    patron = reader(c)
    book(c, "3100000001")
    c.db.flush()
    checkout(c.db, desk("QX01", days_ago=40)(c.db), CARD, "3100000001")
    charge(c.db, desk("QX01")(c.db), patron, FineKind.MANUAL, Decimal("12.50"))
    set_rule(c.db, fine_block_amount=Decimal("10"))
    c.db.commit()
    status = ask(kiosk, kiosk.sip_patron_status_request(), kiosk.sip_patron_status_response)
    flags = status["fixed"]["PatronStatus"]
    assert [i for i, f in enumerate(flags) if f == "Y"] == [0, 1, 3, 6, 10]
    variable = status["variable"]
    assert variable["BL"] == ["Y"] and variable["CQ"] == ["Y"]
    assert variable["BH"] == ["CNY"] and variable["BV"] == ["12.50"]
    assert "逾期" in variable["AF"][0] and "欠款" in variable["AF"][0]
    patron.status = PatronStatus.CARD_LOST
    c.db.commit()
    lost = ask(kiosk, kiosk.sip_patron_status_request(), kiosk.sip_patron_status_response)
    assert lost["fixed"]["PatronStatus"][4] == "Y"


def test_sip_patron_3_unknown_card(sip):
    answer = sip.raw().ask(f"23019{DATE}AOQX|AA0000|AD1|")
    assert answer.startswith("24YYYY          019")
    assert fields(answer, 37)["BL"] == ["N"]


def test_sip_patron_4_sip_pin_3_lists_only_with_the_pin(sip):
    c = sip.circ
    patron = reader(c, name="李小龙")
    other = reader(c, "2000000002")
    for n in range(1, 4):
        book(c, f"310000000{n}", title=f"书{n}")
    waiting = book(c, "3100000009", title="在借的书")
    c.db.flush()
    for barcode in ("3100000002", "3100000003"):
        checkout(c.db, desk("QX01")(c.db), CARD, barcode)
    checkout(c.db, desk("QX01")(c.db), other.card, "3100000009")
    place_hold(c.db, desk("QX01")(c.db), patron, waiting.record, point_by_code(c.db, "QX01"))
    checkout(c.db, desk("QX01", days_ago=40)(c.db), CARD, "3100000001")
    fine = charge(c.db, desk("QX01")(c.db), patron, FineKind.MANUAL, Decimal("3"))
    set_rule(c.db, overdue_block_items=0)
    c.db.commit()
    client = sip.raw()
    anonymous = client.ask(f"63019{DATE}  Y       AOQX|AA{CARD}|")
    assert anonymous[37:61] == "000000010003000100000001"
    assert "AU" not in fields(anonymous, 61) and fields(anonymous, 61)["AE"] == ["李*龙"]
    charged = client.ask(f"63019{DATE}  Y       AOQX|AA{CARD}|AD{PIN}|BP2|BQ3|")
    found = fields(charged, 61)
    assert found["AE"] == ["李小龙"] and found["CQ"] == ["Y"]
    assert found["AU"] == ["3100000002", "3100000003"]
    overdue = fields(client.ask(f"63019{DATE} Y        AOQX|AA{CARD}|"), 61)
    assert overdue["AT"] == ["3100000001"]
    fines = fields(client.ask(f"63019{DATE}   Y      AOQX|AA{CARD}|"), 61)
    assert fines["AV"] == [f"{fine.id} 3.00 manual"]
    holds = fields(client.ask(f"63019{DATE}     Y    AOQX|AA{CARD}|"), 61)
    assert holds["CD"] == ["在借的书"]
    assert "BD" not in holds and "BF" not in holds


def test_sip_pin_1_pin_needed_remembered_for_the_card_until_end_session(sip, kiosk):
    c = sip.circ
    reader(c)
    for n in (1, 2, 3):
        book(c, f"310000000{n}")
    c.db.commit()
    kiosk.patronpwd = ""
    refused = ask(kiosk, kiosk.sip_checkout_request("3100000001"), kiosk.sip_checkout_response)
    assert refused["fixed"]["Ok"] == "0" and "密码" in refused["variable"]["AF"][0]
    kiosk.patronpwd = PIN
    ask(kiosk, kiosk.sip_patron_status_request(), kiosk.sip_patron_status_response)
    kiosk.patronpwd = ""
    lent = ask(kiosk, kiosk.sip_checkout_request("3100000001"), kiosk.sip_checkout_response)
    assert lent["fixed"]["Ok"] == "1"
    ended = ask(kiosk, kiosk.sip_end_patron_session_request(),
                kiosk.sip_end_patron_session_response)  # fmt: skip
    assert ended["fixed"]["EndSession"] == "Y"
    again = ask(kiosk, kiosk.sip_checkout_request("3100000002"), kiosk.sip_checkout_response)
    assert again["fixed"]["Ok"] == "0"


def test_sip_pin_2_wrong_pins_lock_the_card(sip):
    c = sip.circ
    patron = reader(c)
    book(c, "3100000001")
    c.db.commit()
    client = sip.raw()
    for _ in range(MAX_FAILURES - 1):
        assert "密码错误" in client.ask(f"23019{DATE}AOQX|AA{CARD}|AD9999|")
    locked = client.ask(f"11NN{DATE}{BLANK}AOQX|AA{CARD}|AB3100000001|AD0000|")
    assert locked.startswith("120") and "锁定" in locked
    right = client.ask(f"11NN{DATE}{BLANK}AOQX|AA{CARD}|AB3100000001|AD{PIN}|")
    assert right.startswith("120") and "锁定" in right
    c.db.refresh(patron)
    assert patron.pin_locked_until is not None


def test_sip_fee_1_fee_paid(sip, kiosk):
    c = sip.circ
    patron = reader(c)
    first = charge(c.db, desk("QX01")(c.db), patron, FineKind.MANUAL, Decimal("5"))
    second = charge(c.db, desk("QX01")(c.db), patron, FineKind.MANUAL, Decimal("4"))
    c.db.commit()
    named = ask(kiosk, kiosk.sip_fee_paid_request(1, 0, "2.00", str(second.id), "T1", "CNY"),
                kiosk.sip_fee_paid_response)  # fmt: skip
    assert named["fixed"]["PaymentAccepted"] == "Y" and named["variable"]["BK"] == ["T1"]
    oldest = ask(kiosk, kiosk.sip_fee_paid_request(1, 0, "6.00", "", "", "CNY"),
                 kiosk.sip_fee_paid_response)  # fmt: skip
    assert (
        oldest["fixed"]["PaymentAccepted"] == "Y" and "尚欠 1.00 元" in oldest["variable"]["AF"][0]
    )
    c.db.refresh(first)
    c.db.refresh(second)
    assert (first.paid, second.paid) == (Decimal("5.00"), Decimal("3.00"))
    too_much = ask(kiosk, kiosk.sip_fee_paid_request(1, 0, "9.00", "", "", "CNY"),
                   kiosk.sip_fee_paid_response)  # fmt: skip
    dollars = ask(kiosk, kiosk.sip_fee_paid_request(1, 0, "1.00", "", "", "USD"),
                  kiosk.sip_fee_paid_response)  # fmt: skip
    assert too_much["fixed"]["PaymentAccepted"] == dollars["fixed"]["PaymentAccepted"] == "N"


def test_sip_block_1_block_patron(sip):
    c = sip.circ
    patron = reader(c)
    c.db.commit()
    answer = sip.raw().ask(f"01Y{DATE}AOQX|AL读者证被吞|AA{CARD}|AC|")
    assert answer.startswith("24YY Y          ")
    block = c.db.scalar(select(PatronBlock).where(PatronBlock.patron_id == patron.id))
    assert "读者证被吞" in block.reason and block.blocked_by == "terminal:kiosk-qx01"


def test_sip_renew_1_sip_renew_2_renew_and_renew_all(sip, kiosk):
    c = sip.circ
    reader(c)
    other = reader(c, "2000000002")
    record = c.record("红楼梦")
    for n in (1, 2, 3):
        book(c, f"310000000{n}", record=c.record(f"书{n}"))
    book(c, "3100000004", record=record)
    c.db.flush()
    for barcode in ("3100000001", "3100000002"):
        checkout(c.db, desk("QX01", days_ago=20)(c.db), CARD, barcode)
    checkout(c.db, desk("QX01", days_ago=40)(c.db), CARD, "3100000003")  # overdue
    checkout(c.db, desk("QX01", days_ago=20)(c.db), other.card, "3100000004")
    set_rule(c.db, overdue_block_items=0)  # an overdue loan alone does not block here
    c.db.commit()
    renewed = ask(kiosk, kiosk.sip_renew_request("3100000001"), kiosk.sip_renew_response)
    assert renewed["fixed"]["Ok"] == "1" and renewed["fixed"]["RenewalOk"] == "Y"
    not_mine = ask(kiosk, kiosk.sip_renew_request("3100000004"), kiosk.sip_renew_response)
    assert not_mine["fixed"]["Ok"] == "0" and "不是此读者所借" in not_mine["variable"]["AF"][0]
    everything = sip.raw().ask(f"65{DATE}AOQX|AA{CARD}|AD{PIN}|")
    assert everything.startswith("6610001000")  # the first renewal allowed is used up
    found = fields(everything, 28)
    assert found["BM"] == ["3100000002"]
    assert sorted(found["BN"]) == ["3100000001", "3100000003"]


def test_sip_hold_1_place_change_and_cancel(sip):
    # Raw frames: the sip2 1.1 client reads BW of a 16 as a fixed field; the spec (and Koha)
    # make it a variable one, as we send it.
    c = sip.circ
    patron = reader(c)
    book(c, "3100000001", home="QX02")
    c.db.commit()
    client = sip.raw()
    placed = client.ask(f"15+{DATE}BSQX01|AOQX|AA{CARD}|AD{PIN}|AB3100000001|")
    assert placed.startswith("161Y")
    found = fields(placed, 22)
    assert found["BR"] == ["1"] and found["BS"] == ["QX01"] and found["AJ"] == ["红楼梦"]
    hold = c.db.scalar(select(Hold).where(Hold.patron_id == patron.id))
    assert hold.pickup_point.code == "QX01"
    assert client.ask(f"15*{DATE}BSQX02|AOQX|AA{CARD}|AB3100000001|").startswith("161")
    c.db.refresh(hold)
    assert hold.pickup_point.code == "QX02"
    assert client.ask(f"15-{DATE}AOQX|AA{CARD}|AB3100000001|").startswith("161")
    c.db.refresh(hold)
    assert hold.status == "cancelled"
    assert client.ask(f"15-{DATE}AOQX|AA{CARD}|AB3100000001|").startswith("160N")


def test_sip_account_3_other_institution_refused(sip):
    c = sip.circ
    reader(c)
    book(c, "3100000001")
    c.db.commit()
    answer = sip.raw().ask(f"11NN{DATE}{BLANK}AOOTHER|AA{CARD}|AB3100000001|AD{PIN}|")
    assert answer.startswith("120") and "机构代码 OTHER 不符" in answer


def test_sip_account_4_gb18030_terminal_reads_and_writes_chinese(sip):
    c = sip.circ
    reader(c)
    book(c, "3100000001", title="红楼梦（程甲本）")
    c.db.commit()
    client = sip.raw("kiosk-gb", encoding="gb18030")
    answer = client.ask(f"17{DATE}AOQX|AB3100000001|")
    assert fields(answer, 26)["AJ"] == ["红楼梦（程甲本）"]
    client.ask(f"01N{DATE}AOQX|AL机器故障，卡未退|AA{CARD}|AC|")
    assert "机器故障，卡未退" in c.db.scalar(select(PatronBlock.reason))
    raw = client.frame(f"17{DATE}AOQX|AB3100000001|")
    client.send(raw)
    assert "红楼梦".encode("gb18030") in client.read()
