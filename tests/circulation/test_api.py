"""The circulation API as the contract names it (API-1..3, CHECKOUT-11), through HTTP."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.idempotency import IdempotencyKey
from circulation.ledger import LedgerEntry
from circulation.models import Loan
from tests.conftest import bearer


@pytest.fixture
def desk(app, circ, make_token):
    """Copies at QX and QX01, a patron, and tokens: a QX01 librarian, a QX02 kiosk, an admin."""
    record = circ.record()
    circ.copy("31001", record, "QX")
    circ.copy("31002", record, "QX01")
    circ.patron("20001")
    circ.db.commit()
    return {
        "record": record.id,
        "librarian": bearer(make_token("branch_librarian", scope="QX01")),
        "kiosk": bearer(make_token("terminal", scope="QX02")),
        "admin": bearer(make_token("network_admin")),
    }


def count(db, model) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(model))


def test_checkout_and_checkin_answer_the_contract_shape(client, desk):
    lent = client.post("/api/v1/checkouts", json={"card": "20001", "barcode": "31001"},
                       headers=desk["librarian"])  # fmt: skip
    assert lent.status_code == 201, lent.json
    assert set(lent.json) == {"loan", "receipt"}
    assert {"id", "due_date"} <= set(lent.json["loan"]) and lent.json["loan"]["point"] == "QX01"
    assert lent.json["receipt"]["notes"][0]["code"] == "whereabouts_corrected"
    back = client.post("/api/v1/checkins", json={"barcode": "31001"}, headers=desk["kiosk"])
    assert back.status_code == 200
    receipt = back.json["receipt"]
    assert receipt["action"] == "transit" and receipt["destination"] == "QX"
    assert receipt["instruction"]["zh"] == "送往 清溪县图书馆 (QX)"
    assert receipt["point"]["code"] == "QX02" and receipt["loan"]["patron"]["card"] == "20001"


def test_acting_point_rules(client, desk):
    at_village = client.post("/api/v1/checkouts", headers=desk["librarian"],
                             json={"card": "20001", "barcode": "31002", "point": "QX01V01"})  # fmt: skip
    assert at_village.json["loan"]["point"] == "QX01V01"
    outside = client.post("/api/v1/checkins", headers=desk["librarian"],
                          json={"barcode": "31002", "point": "QX02"})  # fmt: skip
    assert outside.status_code == 403 and outside.json["error"]["code"] == "forbidden"
    kiosk_elsewhere = client.post("/api/v1/checkins", headers=desk["kiosk"],
                                  json={"barcode": "31002", "point": "QX01"})  # fmt: skip
    assert kiosk_elsewhere.status_code == 403
    admin = client.post("/api/v1/checkins", json={"barcode": "31002"}, headers=desk["admin"])
    assert admin.json["receipt"]["point"]["code"] == "QX"  # the network's central library


def test_checkout_11_only_librarians_override(client, desk):
    response = client.post("/api/v1/checkouts", headers=desk["kiosk"],
                           json={"card": "20001", "barcode": "31001", "override": "x"})  # fmt: skip
    assert response.status_code == 403


def test_api_1_retry_with_the_same_key_gets_the_first_answer(client, db, desk):
    headers = {**desk["librarian"], "Idempotency-Key": "kiosk-7-000123"}
    body = {"card": "20001", "barcode": "31001"}
    first = client.post("/api/v1/checkouts", json=body, headers=headers)
    again = client.post("/api/v1/checkouts", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json == first.json and again.headers["Idempotent-Replayed"] == "true"
    assert count(db, Loan) == 1 and count(db, LedgerEntry) == 1
    other = client.post("/api/v1/checkouts", json={**body, "barcode": "31002"}, headers=headers)
    assert other.status_code == 422
    assert other.json["error"]["code"] == "idempotency_key_reused"


def test_api_1_refusals_are_answered_the_same_way_again(client, db, desk):
    headers = {**desk["kiosk"], "Idempotency-Key": "r-1"}
    body = {"card": "nobody", "barcode": "31001"}
    first = client.post("/api/v1/checkouts", json=body, headers=headers)
    assert first.status_code == 404 and first.json["error"]["code"] == "patron_not_found"
    again = client.post("/api/v1/checkouts", json=body, headers=headers)
    assert again.status_code == 404 and again.json == first.json
    assert count(db, IdempotencyKey) == 1
    bad = client.post(
        "/api/v1/checkouts", json=body, headers={**desk["kiosk"], "Idempotency-Key": "é"}
    )
    assert bad.status_code == 422 and bad.json["error"]["code"] == "invalid_idempotency_key"


def test_api_2_bad_input_is_a_4xx_in_both_languages_and_changes_nothing(client, db, desk):
    unknown = client.post("/api/v1/checkouts?lang=en", headers=desk["librarian"],
                          json={"card": "20001", "barcode": "nope"})  # fmt: skip
    assert unknown.status_code == 404
    assert unknown.json["error"]["message"].startswith("no copy with barcode nope")
    zh = client.post("/api/v1/checkouts?lang=zh_CN", headers=desk["librarian"],
                     json={"card": "20001", "barcode": "nope"})  # fmt: skip
    assert "没有条码为 nope 的图书" in zh.json["error"]["message"]
    malformed = client.post("/api/v1/checkouts", data="{not json", headers={
        **desk["librarian"], "Content-Type": "application/json"})  # fmt: skip
    assert malformed.status_code in (400, 422) and "error" in malformed.json
    missing = client.post("/api/v1/checkouts", json={"card": "20001"}, headers=desk["librarian"])
    assert (
        missing.status_code == 422
        and "barcode" in missing.json["error"]["details"]["fields"]["json"]
    )
    control = client.post("/api/v1/checkouts", headers=desk["librarian"],
                          json={"card": "2000\x1f1", "barcode": "31001"})  # fmt: skip
    assert control.status_code == 422
    assert count(db, Loan) == 0 and count(db, LedgerEntry) == 0


def test_blocked_patron_reasons_in_the_error(client, db, desk):
    client.post(
        "/api/v1/patrons/20001/blocks", json={"reason": "证件待核实"}, headers=desk["librarian"]
    )
    refused = client.post("/api/v1/checkouts", json={"card": "20001", "barcode": "31002"},
                          headers=desk["librarian"])  # fmt: skip
    assert refused.status_code == 409 and refused.json["error"]["code"] == "patron_blocked"
    assert refused.json["error"]["details"]["reasons"][0]["code"] == "manual_block"
    patron = client.get("/api/v1/patrons/20001", headers=desk["kiosk"]).json
    assert patron["may_borrow"] is False and patron["blocks"][0]["zh"] == "馆员停借：证件待核实"


def test_renewal_holds_and_patron_views(client, desk):
    client.post(
        "/api/v1/checkouts", json={"card": "20001", "barcode": "31002"}, headers=desk["librarian"]
    )
    renewal = client.post("/api/v1/renewals", json={"barcode": "31002"}, headers=desk["kiosk"])
    assert renewal.status_code == 409 and renewal.json["error"]["code"] == "renewal_too_soon"
    hold = client.post("/api/v1/holds", headers=desk["librarian"],
                       json={"card": "20001", "record_id": desk["record"], "pickup": "QX01V01"})  # fmt: skip
    assert hold.status_code == 409 and hold.json["error"]["code"] == "already_on_loan"
    client.post("/api/v1/checkins", json={"barcode": "31002"}, headers=desk["librarian"])
    hold = client.post("/api/v1/holds", headers=desk["librarian"],
                       json={"card": "20001", "record_id": desk["record"], "pickup": "QX01V01"})  # fmt: skip
    assert hold.status_code == 201 and hold.json["status"] == "targeted"
    assert hold.json["queue_position"] == 1 and hold.json["pickup"]["code"] == "QX01V01"
    pull = client.get("/api/v1/points/QX01/pull-list", headers=desk["librarian"]).json
    assert [p["barcode"] for p in pull] == ["31002"]
    holds = client.get("/api/v1/patrons/20001/holds", headers=desk["kiosk"]).json
    assert [h["id"] for h in holds] == [hold.json["id"]]
    history = client.get("/api/v1/patrons/20001/history", headers=desk["librarian"]).json
    assert [h["barcode"] for h in history] == ["31002"]
    cancelled = client.post(f"/api/v1/holds/{hold.json['id']}/cancel", json={"reason": "不要了"},
                            headers=desk["kiosk"])  # fmt: skip
    assert cancelled.json["hold"]["status"] == "cancelled" and cancelled.json["receipt"] is None


def test_policies_api_admin_edits_librarian_reads(client, desk):
    rule = client.post("/api/v1/policies", headers=desk["admin"],
                       json={"point": "QX01V01", "patron_category": "institution", "max_loans": 500,
                             "loan_days": 90})  # fmt: skip
    assert rule.status_code == 201 and rule.json["point"] == "QX01V01"
    denied = client.post("/api/v1/policies", json={"item_type": "x", "loan_days": 3},
                         headers=desk["librarian"])  # fmt: skip
    assert denied.status_code == 403
    table = client.get("/api/v1/policies/resolved?point=QX01V01", headers=desk["librarian"]).json
    row = next(r for r in table["rows"] if r["patron_category"] == "institution")
    assert row["max_loans"] == 500 and row["loan_days"] == 90
    default = client.get("/api/v1/policies", headers=desk["librarian"]).json[0]
    assert default["point"] is None and default["loan_days"] == 30
    gone = client.delete(f"/api/v1/policies/{default['id']}", headers=desk["admin"])
    assert gone.status_code == 409


def test_api_ids_beyond_the_database_range_are_not_found(client, desk):
    huge = 2**70
    assert client.get(f"/api/v1/holds/{huge}", headers=desk["admin"]).status_code == 404
    body = {"card": "20001", "record_id": huge, "pickup": "QX"}
    assert client.post("/api/v1/holds", json=body, headers=desk["admin"]).status_code == 422


def test_checkout_policy_4_2_the_token_query_asks_the_tree_version(app, client, db, desk):
    """An API call asks whether the network tree changed in its token query, not in a round
    trip of its own, and a closed day added by another process meanwhile is still seen."""
    import datetime as dt

    from sqlalchemy import event, insert

    from catalog.network import ClosedDay, point_by_code

    engine = app.extensions["tongjie.engine"]
    lend = {"card": "20001", "barcode": "31002"}
    client.post("/api/v1/checkouts", json=lend, headers=desk["librarian"])  # the token's first
    client.post("/api/v1/checkins", json={"barcode": "31002"}, headers=desk["librarian"])  # use
    seen: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *a: seen.append(a[2]))
    first = client.post("/api/v1/checkouts", json=lend, headers=desk["librarian"])
    assert first.status_code == 201, first.json
    asked = [s for s in seen if "max(closed_days.id)" in s]
    assert len(asked) == 1 and "api_tokens" in asked[0], [s[:70] for s in seen]
    due = dt.date.fromisoformat(first.json["loan"]["due_date"])
    client.post("/api/v1/checkins", json={"barcode": "31002"}, headers=desk["librarian"])
    qx01 = point_by_code(db, "QX01")
    with engine.begin() as other:  # a plain INSERT: no session of this process sees it
        other.execute(insert(ClosedDay).values(point_id=qx01.id, day=due, reason="盘点"))
    again = client.post("/api/v1/checkouts", json=lend, headers=desk["librarian"])
    assert dt.date.fromisoformat(again.json["loan"]["due_date"]) > due
