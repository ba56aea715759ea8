"""The counter pages through the test client: lend, return, readers, lists, slips, rules."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from circulation.ledger import LedgerEntry
from circulation.models import Loan, Policy
from tests.conftest import csrf_token, login


@pytest.fixture
def librarian(app, client, circ):
    """A QX01 branch librarian signed in; copies at QX01 and QX, two readers."""
    record = circ.record()
    circ.copy("31001", record, "QX01")
    circ.copy("31002", record, "QX")
    circ.patron("20001", name="王秀英")
    circ.patron("20002", name="李明")
    circ.db.commit()
    app.test_cli_runner().invoke(args=["users", "add", "wang", "--role", "branch_librarian",
                                       "--scope", "QX01", "--password", "password-123"])  # fmt: skip
    login(client, "wang", "password-123")
    return client


def form_key(page: str) -> str:
    match = re.search(r'name="form_key" value="([0-9a-f]+)"', page)
    assert match, "the scan form has no one-time key"
    return match.group(1)


def lend(client, card: str, barcode: str, **extra) -> str:
    page = client.get(f"/staff/counter/checkout?card={card}").get_data(as_text=True)
    data = {"csrf_token": csrf_token(client, f"/staff/counter/checkout?card={card}"),
            "form_key": form_key(page), "card": card, "barcode": barcode, **extra}  # fmt: skip
    response = client.post("/staff/counter/checkout", data=data, follow_redirects=True)
    return response.get_data(as_text=True)


def test_lend_a_visit_and_print_its_receipt(librarian, db):
    page = librarian.get("/staff/counter/checkout").get_data(as_text=True)
    assert "扫描读者证" in page and "城关镇分馆" in page
    page = lend(librarian, "20001", "31001")
    assert "王秀英" in page and 'data-barcode="31001"' in page
    page = lend(librarian, "20001", "31002")
    assert page.count('class="ok"') == 2 and "系统记录该书在 清溪县图书馆" in page
    receipt = librarian.post(
        "/staff/counter/checkout/receipt",
        data={"csrf_token": csrf_token(librarian, "/staff/counter/checkout")},
    )
    text = receipt.get_data(as_text=True)
    assert "王*英" in text and text.count("应还") + text.count("due") >= 2
    assert db.scalar(select(func.count(Loan.id))) == 2


def test_a_double_enter_lends_once(librarian, db):
    page = librarian.get("/staff/counter/checkout?card=20001").get_data(as_text=True)
    data = {"csrf_token": csrf_token(librarian, "/staff/counter/checkout?card=20001"),
            "form_key": form_key(page), "card": "20001", "barcode": "31001"}  # fmt: skip
    librarian.post("/staff/counter/checkout", data=data)
    again = librarian.post("/staff/counter/checkout", data=data, follow_redirects=True)
    assert "已借此书" not in again.get_data(as_text=True)  # the first outcome, not a refusal
    assert db.scalar(select(func.count(LedgerEntry.id))) == 1


def test_refusal_is_red_and_an_override_needs_a_reason(librarian, db):
    lend(librarian, "20001", "31001")
    page = lend(librarian, "20002", "31001")
    assert 'data-alert="error"' in page and "其他读者借出" in page
    assert 'name="override"' in page
    page = lend(librarian, "20002", "31001", override="读者还书未扫描")
    assert 'class="ok"' in page
    assert db.scalar(select(func.count(Loan.id)).where(Loan.returned_at.is_(None))) == 1


def test_unknown_card_is_said_and_the_card_field_comes_back(librarian):
    page = librarian.get("/staff/counter/checkout?card=99999").get_data(as_text=True)
    assert "没有卡号为 99999 的读者" in page and 'name="card"' in page


def test_return_shows_the_instruction_in_large_type(librarian):
    lend(librarian, "20001", "31002")
    page = librarian.get("/staff/counter/checkin").get_data(as_text=True)
    data = {"csrf_token": csrf_token(librarian, "/staff/counter/checkin"),
            "form_key": form_key(page), "barcode": "31002"}  # fmt: skip
    page = librarian.post("/staff/counter/checkin", data=data, follow_redirects=True)
    text = page.get_data(as_text=True)
    assert 'class="instruction action-transit"' in text
    assert "送往 清溪县图书馆 (QX)" in text and "打印在途条" in text


def test_reader_page_renews_blocks_and_lists(librarian, db):
    lend(librarian, "20001", "31001")
    page = librarian.get("/staff/counter/patrons/20001").get_data(as_text=True)
    assert "王秀英" in page and 'data-barcode="31001"' in page
    token = csrf_token(librarian, "/staff/counter/patrons/20001")
    refused = librarian.post(
        "/staff/counter/patrons/20001/renew",
        data={"csrf_token": token, "barcode": "31001"},
        follow_redirects=True,
    )
    assert "今天续借不会延长应还日期" in refused.get_data(as_text=True)
    blocked = librarian.post(
        "/staff/counter/patrons/20001/block",
        data={"csrf_token": token, "reason": "证件待核实"},
        follow_redirects=True,
    )
    assert "馆员停借：证件待核实" in blocked.get_data(as_text=True)
    found = librarian.get("/staff/counter/patrons?q=李", follow_redirects=True)
    assert "<h1>李明" in found.get_data(as_text=True)  # one match: straight to the reader


def test_lists_and_slips(librarian, circ):
    lend(librarian, "20001", "31002")
    page = librarian.get("/staff/counter/checkin").get_data(as_text=True)
    librarian.post("/staff/counter/checkin", data={
        "csrf_token": csrf_token(librarian, "/staff/counter/checkin"),
        "form_key": form_key(page), "barcode": "31002"})  # fmt: skip
    out = librarian.get("/staff/counter/transits?direction=out").get_data(as_text=True)
    assert 'data-barcode="31002"' in out and "物流线路 QX" in out
    slip = librarian.get("/staff/counter/transits?direction=out&run=QX&paper=80mm")
    assert "paper-80mm" in slip.get_data(as_text=True)
    assert librarian.get("/staff/counter/pull-list").status_code == 200
    assert librarian.get("/staff/counter/hold-shelf").status_code == 200
    assert librarian.get("/staff/counter/slips/transit/1").status_code == 200
    assert librarian.get("/staff/counter/slips/transit/999").status_code == 404


def test_desk_point_within_scope_only(librarian):
    token = csrf_token(librarian, "/staff/counter/checkout")
    ok = librarian.post("/staff/counter/", data={"csrf_token": token, "point": "QX01V01"},
                        follow_redirects=True)  # fmt: skip
    assert 'value="QX01V01" selected' in ok.get_data(as_text=True)
    refused = librarian.post("/staff/counter/", data={"csrf_token": token, "point": "QX02"})
    assert refused.status_code == 403


def test_rules_page_admin_edits_librarian_reads(app, client, librarian, db):
    page = librarian.get("/staff/policies/").get_data(as_text=True)
    assert "网络默认" not in page and "借期（天）" in page and "添加规则" not in page
    librarian.post("/logout", data={"csrf_token": csrf_token(librarian, "/staff/policies/")})
    app.test_cli_runner().invoke(args=["users", "add", "boss", "--role", "network_admin",
                                       "--password", "password-123"])  # fmt: skip
    login(client, "boss", "password-123")
    token = csrf_token(client, "/staff/policies/")
    saved = client.post("/staff/policies/save", follow_redirects=True, data={
        "csrf_token": token, "point": "QX01V01", "patron_category": "institution",
        "max_loans": "500", "loan_days": "90"})  # fmt: skip
    assert "规则已保存" in saved.get_data(as_text=True)
    rule = db.scalar(select(Policy).where(Policy.patron_category == "institution"))
    assert rule.max_loans == 500 and rule.loan_days == 90
    bad = client.post("/staff/policies/save", follow_redirects=True, data={
        "csrf_token": token, "loan_days": "0", "rule_id": "1"})  # fmt: skip
    assert "请更正" in bad.get_data(as_text=True)
