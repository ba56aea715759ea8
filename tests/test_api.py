"""The JSON API: its OpenAPI document, its one error shape, and the network figures it serves."""

from __future__ import annotations

from catalog.network import point_by_code
from catalog.records import Copy, CopyStatus, Record
from tests.conftest import bearer


def add_copies(db, code: str, n: int, status: str = CopyStatus.AVAILABLE) -> Record:
    point = point_by_code(db, code)
    record = Record(title=f"{code} 藏书", authors=["王五"])
    for i in range(n):
        db.add(
            Copy(
                barcode=f"{code}-{status}-{i}",
                record=record,
                home_point=point,
                current_point=point,
                status=status,
            )
        )
    db.commit()
    return record


def test_openapi_document_describes_every_api_route(app, client):
    spec = client.get("/api/v1/openapi.json").json
    assert spec["info"]["title"] == "Tongjie 通借 API"
    documented = set(spec["paths"])
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/") and not rule.rule.endswith("openapi.json"):
            path = rule.rule.replace("<int:", "<").replace("<", "{").replace(">", "}")
            assert path in documented, path
    assert "Point" in spec["components"]["schemas"]
    patch = spec["paths"]["/api/v1/points/{code}"]["patch"]
    assert patch["security"] == [{"bearerAuth": []}]
    assert "network_admin" in patch["description"]


def test_points_list_counts_held_copies_per_capita(client, db, network):
    add_copies(db, "QX01V01", 6)
    add_copies(db, "QX01V01", 2, CopyStatus.WITHDRAWN)  # not held
    add_copies(db, "QX01V01", 1, CopyStatus.ON_LOAN)  # held, out on loan
    points = {p["code"]: p for p in client.get("/api/v1/points").json}
    assert points["QX01V01"]["copies_held"] == 7
    assert points["QX01V01"]["holdings_per_capita"] == round(7 / 1200, 3)
    assert points["QX01V01"]["parent"] == "QX01"
    assert points["QX"]["copies_held"] == 0


def test_not_found_uses_the_error_shape_in_both_languages(client, network):
    zh = client.get("/api/v1/points/NOPE")
    assert zh.status_code == 404
    assert zh.json == {
        "error": {"code": "not_found", "message": "没有代码为 NOPE 的服务点", "details": {}}
    }
    en = client.get("/api/v1/points/NOPE?lang=en")
    assert en.json["error"]["message"] == "no service point with code NOPE"
    assert client.get("/api/v1/no-such-thing").json["error"]["code"] == "not_found"


def test_invalid_fields_are_named(client, make_token):
    admin = make_token("network_admin")
    response = client.patch(
        "/api/v1/points/QX", json={"population": -5, "opening_days": "89"}, headers=bearer(admin)
    )
    assert response.status_code == 422
    error = response.json["error"]
    assert error["code"] == "unprocessable_entity"
    assert set(error["details"]["fields"]["json"]) == {"population", "opening_days"}


def test_record_shows_every_copy_with_point_and_status(client, db, network):
    record = add_copies(db, "QX02", 2)
    body = client.get(f"/api/v1/records/{record.id}").json
    assert body["title"] == "QX02 藏书"
    assert [(c["home"], c["status"]) for c in body["copies"]] == [("QX02", "available")] * 2


def test_patron_lookup_never_shows_pin_or_full_id(app, client, make_token):
    app.test_cli_runner().invoke(args=["patrons", "import", "tests/data/patrons.csv"])
    terminal = make_token("terminal", scope="QX01")
    body = client.get("/api/v1/patrons/2000000001", headers=bearer(terminal)).json
    assert body["id_number_masked"] == "110***********002X"
    assert body["has_pin"] is True
    assert "pin_hash" not in body and "11010519491231002X" not in str(body)


def test_copy_lookup_for_staff(client, db, make_token):
    add_copies(db, "QX", 1)
    librarian = make_token("branch_librarian", scope="QX01")
    body = client.get("/api/v1/copies/QX-available-0", headers=bearer(librarian)).json
    assert body["home"] == "QX" and body["status"] == "available"


def test_api_2_what_a_fuzzer_found_is_a_4xx(client, db, make_token):
    """Numbers beyond 64 bits, a MARC delimiter in a title, a repeated closed day: 4xx, not 500."""
    admin = bearer(make_token("network_admin"))
    record = add_copies(db, "QX", 1)
    assert client.get(f"/api/v1/records/{2**70}").status_code == 404
    merge = client.post(f"/api/v1/records/{record.id}/merge", json={"other": 2**70}, headers=admin)
    assert merge.status_code == 422
    delimiter = client.post("/api/v1/records", json={"title": "红\x1f楼梦"}, headers=admin)
    assert delimiter.status_code == 422
    assert "control characters" in str(delimiter.json["error"]["details"])
    twice = {"closed_days": [{"day": "2027-01-01"}, {"day": "2027-01-01", "reason": "元旦"}]}
    response = client.patch("/api/v1/points/QX", json=twice, headers=admin)
    assert response.status_code == 422 and "2027-01-01" in str(response.json["error"]["details"])
    once = {"closed_days": [{"day": "2027-01-01", "reason": "元旦"}]}
    assert client.patch("/api/v1/points/QX", json=once, headers=admin).status_code == 200
    again = {"closed_days": [{"day": "2027-01-01", "reason": "新年"}, {"day": "2027-02-17"}]}
    body = client.patch("/api/v1/points/QX", json=again, headers=admin).json
    assert [(c["day"], c["reason"]) for c in body["closed_days"]] == [
        ("2027-01-01", "新年"), ("2027-02-17", "")]  # fmt: skip
    huge = client.patch("/api/v1/points/QX", json={"population": 2**40}, headers=admin)
    assert huge.status_code == 422


def test_api_2_a_rule_moved_onto_another_rules_scope_is_a_conflict(client, make_token):
    admin = bearer(make_token("network_admin"))
    first = client.post("/api/v1/policies", json={"item_type": "children", "loan_days": 21},
                        headers=admin).json  # fmt: skip
    second = client.post("/api/v1/policies", json={"item_type": "reference", "lendable": False},
                         headers=admin).json  # fmt: skip
    moved = client.patch(f"/api/v1/policies/{second['id']}", json={"item_type": "children"},
                         headers=admin)  # fmt: skip
    assert moved.status_code == 409 and str(first["id"]) in moved.json["error"]["message"]


def test_api_2_an_id_beyond_the_database_integer_is_a_422_not_a_500(client, network):
    response = client.get(f"/api/v1/records/{2**40}")
    assert response.status_code in (404, 422)  # SQLite finds no record; PostgreSQL refuses it
    assert set(response.json["error"]) == {"code", "message", "details"}
