"""Cataloguing through the API: records, copies, merge and split, shelf list."""

from __future__ import annotations

import pymarc
from sqlalchemy import func, select

from app.db import get_session
from circulation.ledger import LedgerEntry
from tests.conftest import bearer

BOOK = {
    "title": "水稻高产栽培技术",
    "responsibility": "李明主编",
    "authors": ["李明"],
    "publisher": "中国农业出版社",
    "pub_place": "北京",
    "pub_year": "2020",
    "clc": "S511",
    "isbns": ["978-7-109-26950-7"],
    "subjects": ["水稻—栽培技术"],
}


def create(client, token, **overrides):
    response = client.post("/api/v1/records", json={**BOOK, **overrides}, headers=bearer(token))
    assert response.status_code == 201, response.json
    return response.json


def test_create_writes_cnmarc_and_reads_it_back(client, make_token):
    cataloguer = make_token("cataloguer")
    record = create(client, cataloguer)
    assert record["title"] == "水稻高产栽培技术"
    assert record["isbn13"] == "9787109269507"
    assert record["marc_flavour"] == "unimarc"
    marc = client.get(f"/api/v1/records/{record['id']}/marc").json
    assert "=200  1\\$a水稻高产栽培技术" in marc["text"]
    assert "=690  " in marc["text"] and "S511" in marc["text"]


def test_edit_keeps_the_other_marc_fields(client, make_token):
    cataloguer = make_token("cataloguer")
    record = create(client, cataloguer, summary="介绍水稻栽培。")
    response = client.patch(
        f"/api/v1/records/{record['id']}", json={"title": "水稻栽培新技术"},
        headers=bearer(cataloguer),
    )  # fmt: skip
    assert response.status_code == 200
    assert response.json["title"] == "水稻栽培新技术"
    assert response.json["summary"] == "介绍水稻栽培。"
    assert response.json["clc"] == "S511"


def test_a_record_needs_a_title(client, make_token):
    cataloguer = make_token("cataloguer")
    response = client.post(
        "/api/v1/records", json={"authors": ["无名"]}, headers=bearer(cataloguer)
    )
    assert response.status_code == 422
    assert "title" in response.json["error"]["details"]["fields"]["json"]


def test_copies_added_moved_and_withdrawn_with_a_ledger_entry(app, client, make_token):
    cataloguer = make_token("cataloguer")
    record = create(client, cataloguer)
    added = client.post(f"/api/v1/records/{record['id']}/copies",
                        json={"home": "QX01", "call_number": "S511/12"},
                        headers=bearer(cataloguer))  # fmt: skip
    assert added.status_code == 201, added.json
    barcode = added.json["barcode"]
    assert barcode  # generated from the network's scheme
    duplicate = client.post(f"/api/v1/records/{record['id']}/copies",
                            json={"home": "QX01", "barcode": barcode},
                            headers=bearer(cataloguer))  # fmt: skip
    assert duplicate.status_code == 409
    moved = client.post(f"/api/v1/copies/{barcode}/move", json={"to": "QX02"},
                        headers=bearer(cataloguer))  # fmt: skip
    assert moved.json["home"] == "QX02" and moved.json["current"] == "QX02"
    no_reason = client.post(f"/api/v1/copies/{barcode}/status", json={"status": "withdrawn"},
                            headers=bearer(cataloguer))  # fmt: skip
    assert no_reason.status_code == 422
    withdrawn = client.post(f"/api/v1/copies/{barcode}/status",
                            json={"status": "withdrawn", "reason": "破损严重"},
                            headers=bearer(cataloguer))  # fmt: skip
    assert withdrawn.json["status"] == "withdrawn"
    with app.app_context():
        entry = get_session().scalar(select(LedgerEntry))
        assert entry.event == "status_changed"
        assert entry.details == {"from": "available", "to": "withdrawn", "reason": "破损严重"}
        assert entry.actor.startswith("staff:cataloguer")


def test_branch_librarian_adds_copies_only_in_their_subtree(client, make_token):
    record = create(client, make_token("cataloguer"))
    librarian = make_token("branch_librarian", scope="QX01")
    inside = client.post(f"/api/v1/records/{record['id']}/copies", json={"home": "QX01V01"},
                         headers=bearer(librarian))  # fmt: skip
    assert inside.status_code == 201
    outside = client.post(f"/api/v1/records/{record['id']}/copies", json={"home": "QX02"},
                          headers=bearer(librarian))  # fmt: skip
    assert outside.status_code == 403
    assert client.post("/api/v1/records", json=BOOK, headers=bearer(librarian)).status_code == 403


def test_merge_then_split_gives_the_copies_back(app, client, make_token):
    cataloguer = make_token("cataloguer")
    first = create(client, cataloguer)
    second = create(client, cataloguer, title="水稻高产栽培技术（修订）", isbns=[])
    for record, home in ((first, "QX01"), (second, "QX02")):
        client.post(f"/api/v1/records/{record['id']}/copies", json={"home": home},
                    headers=bearer(cataloguer))  # fmt: skip
    merged = client.post(f"/api/v1/records/{first['id']}/merge", json={"other": second["id"]},
                         headers=bearer(cataloguer)).json  # fmt: skip
    assert sorted(c["home"] for c in merged["copies"]) == ["QX01", "QX02"]
    assert len(merged["sources"]) == 2
    assert client.get(f"/api/v1/records/{second['id']}").status_code == 404

    source = merged["sources"][1]["id"]
    moved = [c["barcode"] for c in merged["copies"] if c["home"] == "QX02"]
    split = client.post(f"/api/v1/records/{first['id']}/split",
                        json={"source": source, "barcodes": moved},
                        headers=bearer(cataloguer))  # fmt: skip
    assert split.status_code == 201, split.json
    assert split.json["title"] == "水稻高产栽培技术（修订）"
    assert [c["home"] for c in split.json["copies"]] == ["QX02"]
    kept = client.get(f"/api/v1/records/{first['id']}").json
    assert kept["title"] == "水稻高产栽培技术"
    assert [c["home"] for c in kept["copies"]] == ["QX01"]


def test_shelf_list_in_clc_order(client, make_token):
    cataloguer = make_token("cataloguer")
    record = create(client, cataloguer)
    for call_number in ("I248/3", "I247.57/8", "I247.5/123", "I247.5/45", "F124/26"):
        client.post(f"/api/v1/records/{record['id']}/copies",
                    json={"home": "QX", "call_number": call_number},
                    headers=bearer(cataloguer))  # fmt: skip
    shelf = client.get("/api/v1/points/QX/shelf-list", headers=bearer(cataloguer)).json
    assert [c["call_number"] for c in shelf] == [
        "F124/26", "I247.5/45", "I247.5/123", "I247.57/8", "I248/3",
    ]  # fmt: skip


def test_created_record_exports_as_valid_marc(app, client, make_token, tmp_path):
    create(client, make_token("cataloguer"))
    out = tmp_path / "out.mrc"
    app.test_cli_runner().invoke(args=["catalog", "export", "--output", str(out)])
    [record] = list(pymarc.MARCReader(out.open("rb"), to_unicode=True, force_utf8=True))
    assert record["200"]["a"] == "水稻高产栽培技术"
    with app.app_context():
        assert get_session().scalar(select(func.count(LedgerEntry.id))) == 0


def test_marc_view_edits_the_whole_record(app, client, make_token):
    from catalog.search.outbox import SearchOutbox

    cataloguer = make_token("cataloguer")
    record = create(client, cataloguer, summary="介绍水稻栽培。")
    url = f"/api/v1/records/{record['id']}/marc"
    text = client.get(url).json["text"]
    assert "=330  \\\\$a介绍水稻栽培。" in text
    edited = (
        text.replace("$a水稻高产栽培技术", "$a水稻栽培新技术").replace(
            "=330  \\\\$a介绍水稻栽培。\n", ""
        )
        + "=606  0\\$a水稻$x病虫害防治\n"
    )
    with app.app_context():
        queued = get_session().scalar(select(func.count()).select_from(SearchOutbox))
    response = client.put(url, json={"text": edited}, headers=bearer(cataloguer))
    assert response.status_code == 200, response.json
    assert response.json["title"] == "水稻栽培新技术"
    assert response.json["summary"] is None
    assert any(s.startswith("水稻") and s.endswith("病虫害防治") for s in response.json["subjects"])
    assert response.json["isbn13"] == "9787109269507"  # the fields not touched are kept
    saved = client.get(url).json["text"].split("\n")
    assert saved[1:] == edited.split("\n")[1:]  # the leader's record length is recomputed
    with app.app_context():  # search will see the change
        assert get_session().scalar(select(func.count()).select_from(SearchOutbox)) > queued


def test_bad_marc_text_changes_nothing_and_names_the_lines(client, make_token):
    cataloguer = make_token("cataloguer")
    record = create(client, cataloguer)
    url = f"/api/v1/records/{record['id']}/marc"
    before = client.get(url).json["text"]
    broken = before.replace("=200  1\\$a", "=200  1\\a") + "700  \\1$a李明\n"
    response = client.put(url, json={"text": broken}, headers={**bearer(cataloguer),
                                                               "Accept-Language": "en"})  # fmt: skip
    assert response.status_code == 422
    problems = response.json["error"]["details"]["problems"]
    lines = broken.split("\n")
    assert [p["line"] for p in problems] == [
        lines.index(next(line for line in lines if line.startswith("=200"))) + 1,
        len(lines) - 1,
    ]
    assert "first subfield" in problems[0]["en"] and "第一个子字段" in problems[0]["zh"]
    assert client.get(url).json["text"] == before
    untitled = "\n".join(line for line in before.split("\n") if not line.startswith("=200"))
    response = client.put(url, json={"text": untitled}, headers=bearer(cataloguer))
    assert response.status_code == 422
    assert "200$a" in response.json["error"]["message"]
    assert client.get(url).json["text"] == before


def test_only_cataloguers_edit_marc(client, make_token):
    record = create(client, make_token("cataloguer"))
    url = f"/api/v1/records/{record['id']}/marc"
    text = client.get(url).json["text"]
    librarian = make_token("branch_librarian", scope="QX01")
    assert client.put(url, json={"text": text}, headers=bearer(librarian)).status_code == 403
    assert client.put(url, json={"text": text}).status_code == 401
