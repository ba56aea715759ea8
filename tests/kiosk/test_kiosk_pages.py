"""The kiosk pages through the test client: enrolment, sign-in with lockout, lending, returns,
renewals, the end of a session, and bad input (docs/sip2.md, KIOSK-n)."""

from __future__ import annotations

import re
import time

from sqlalchemy import func, select

from circulation.ledger import LedgerEntry
from circulation.models import Loan
from circulation.pins import MAX_FAILURES
from circulation.sip2.terminals import get_terminal
from tests.conftest import csrf_token, login
from tests.kiosk.conftest import CARD, LOGIN, PIN, enrol, sign_in


def form_key(page: str) -> str:
    return re.search(r'name="form_key" value="([^"]+)"', page).group(1)


def scan(client, path: str, barcode: str):
    page = client.get(path).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    return client.post(path, data={"barcode": barcode, "form_key": form_key(page),
                                   "csrf_token": token}, follow_redirects=True)  # fmt: skip


def test_kiosk_1_enrolled_browser_acts_as_the_terminal_until_disabled(app, client, kiosk):
    assert client.get("/kiosk/").headers["Location"].endswith("/kiosk/enrol")
    bad = client.post("/kiosk/enrol", data={"login": LOGIN, "password": "nope",
                                            "csrf_token": csrf_token(client, "/kiosk/enrol")})  # fmt: skip
    assert bad.status_code == 401 and "终端账号或密码错误" in bad.get_data(as_text=True)
    enrol(client)
    home = client.get("/kiosk/").get_data(as_text=True)
    assert "城关镇分馆" in home and "借书" in home
    assert client.get("/api/v1/me").json == {"name": LOGIN, "role": "terminal", "scope": "QX01"}
    assert client.post("/api/v1/checkins", json={"barcode": "3100000001"}).status_code == 401
    assert client.get("/staff/counter/checkout").status_code in (302, 403)
    terminal = get_terminal(kiosk.db, LOGIN)
    terminal.enabled = False
    kiosk.db.commit()
    assert client.get("/kiosk/").status_code == 302


def test_kiosk_1_enrolling_signs_staff_out(app, client, kiosk):
    app.test_cli_runner().invoke(args=["users", "add", "admin", "--role", "network_admin",
                                       "--password", "password-123"])  # fmt: skip
    login(client, "admin", "password-123")
    enrol(client)
    assert client.get("/api/v1/me").json["role"] == "terminal"


def test_kiosk_2_lending_needs_card_and_pin_with_lockout(app, client, kiosk):
    enrol(client)
    assert "/kiosk/signin" in client.get("/kiosk/checkout").headers["Location"]
    assert "/kiosk/signin" in client.get("/kiosk/account").headers["Location"]
    for _ in range(MAX_FAILURES - 1):
        wrong = sign_in(client, pin="0000")
        assert wrong.status_code == 401
        assert "读者证号或密码错误 / wrong card number or PIN" in wrong.get_data(as_text=True)
    unknown = sign_in(client, card="nobody")
    assert "读者证号或密码错误" in unknown.get_data(as_text=True)
    locked = sign_in(client, pin="0000")
    assert "已锁定" in locked.get_data(as_text=True) and "locked" in locked.get_data(as_text=True)
    assert sign_in(client).status_code == 401  # the right PIN too, while locked


def test_kiosk_2_returns_need_no_card_kiosk_4_same_service_functions(app, client, kiosk):
    enrol(client)
    assert sign_in(client).status_code == 302
    lent = scan(client, "/kiosk/checkout", "3100000001").get_data(as_text=True)
    assert "《红楼梦》" in lent and "应还日期" in lent
    client.post("/kiosk/end", data={"csrf_token": csrf_token(client, "/kiosk/")})
    back = scan(client, "/kiosk/checkin", "3100000001").get_data(as_text=True)
    assert "还书成功" in back and "还书车" in back
    away = scan(client, "/kiosk/checkin", "3100000009").get_data(as_text=True)
    assert "还书箱" in away
    entries = kiosk.db.scalars(select(LedgerEntry).order_by(LedgerEntry.id)).all()
    assert {e.actor for e in entries} == {f"terminal:{LOGIN}"}


def test_kiosk_4_a_form_sent_twice_is_applied_once(app, client, kiosk):
    enrol(client)
    sign_in(client)
    page = client.get("/kiosk/checkout").get_data(as_text=True)
    data = {"barcode": "3100000002", "form_key": form_key(page),
            "csrf_token": csrf_token(client, "/kiosk/checkout")}  # fmt: skip
    client.post("/kiosk/checkout", data=data)
    client.post("/kiosk/checkout", data=data)
    kiosk.db.expire_all()
    assert kiosk.db.scalar(select(func.count(Loan.id))) == 1


def test_kiosk_5_refusals_in_both_languages_and_bad_input_never_fails(app, client, kiosk):
    enrol(client)
    sign_in(client)
    missing = scan(client, "/kiosk/checkout", "no-such-book").get_data(as_text=True)
    assert (
        "没有条码为 no-such-book 的图书" in missing
        and "no copy with barcode no-such-book" in missing
    )
    for weird in ("\x00\x1b[2J", "' OR 1=1 --", "条" * 500, "9" * 80):
        for path in ("/kiosk/checkout", "/kiosk/checkin"):
            response = scan(client, path, weird)
            assert response.status_code == 200, (path, weird)
    token = csrf_token(client, "/kiosk/account")
    assert client.post("/kiosk/renew", data={"barcode": "", "form_key": "x" * 500,
                                             "csrf_token": token}).status_code < 500  # fmt: skip
    assert client.post("/kiosk/signin", data={"card": "\x00" * 100, "pin": "x" * 1000,
                                              "csrf_token": token}).status_code == 401  # fmt: skip


def test_kiosk_3_idle_reader_is_forgotten_by_the_server(app, client, kiosk):
    app.config["KIOSK_IDLE_SECONDS"] = 1
    enrol(client)
    sign_in(client)
    assert client.get("/kiosk/checkout").status_code == 200
    time.sleep(1.3)
    assert "/kiosk/signin" in client.get("/kiosk/checkout").headers["Location"]


def test_kiosk_6_receipt_slip_and_account_renewal(app, client, kiosk):
    enrol(client)
    sign_in(client)
    scan(client, "/kiosk/checkout", "3100000003")
    slip = client.post("/kiosk/receipt", data={"csrf_token": csrf_token(client, "/kiosk/checkout")})
    text = slip.get_data(as_text=True)
    assert "借书凭条" in text and "王*英" in text and "…0001" in text and "西游记" in text
    assert "paper-80mm" in text
    assert "/kiosk/signin" in client.get("/kiosk/account").headers["Location"]  # signed out
    sign_in(client, next_="kiosk.account")
    account = client.get("/kiosk/account").get_data(as_text=True)
    assert "西游记" in account and "续借" in account
    renewed = client.post("/kiosk/renew", data={"barcode": "3100000003", "form_key": "k1",
                                                "csrf_token": csrf_token(client, "/kiosk/account")},
                          follow_redirects=True).get_data(as_text=True)  # fmt: skip
    assert "今天续借不会延长应还日期" in renewed and "renewing today would not move" in renewed
    assert PIN not in renewed and CARD not in account
