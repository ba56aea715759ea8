"""The cataloguing pages: find, create, edit, copies, merge, shelf list, import history."""

from __future__ import annotations

import html
import re

import pytest

from tests.conftest import csrf_token, login


@pytest.fixture
def cataloguer(app, client, network):
    app.test_cli_runner().invoke(
        args=["users", "add", "cat", "--role", "cataloguer", "--password", "password-123"]
    )
    login(client, "cat", "password-123")
    return client


def post(client, path: str, data: dict, referrer: str = "/staff/records"):
    token = csrf_token(client, referrer)
    return client.post(path, data={**data, "csrf_token": token}, headers={"Referer": referrer},
                       follow_redirects=True)  # fmt: skip


def create(client, title: str = "水稻高产栽培技术") -> int:
    response = post(client, "/staff/records/new", {
        "title": title, "authors": "李明\n王五", "publisher": "中国农业出版社", "pub_place": "北京",
        "pub_year": "2020", "clc": "S511", "isbns": "978-7-109-26950-7", "subjects": "水稻",
        "flavour": "unimarc", "language": "chi",
    }, referrer="/staff/records/new")  # fmt: skip
    page = response.get_data(as_text=True)
    assert "已创建" in page, page
    return int(re.search(r"› #(\d+)", page).group(1))


def test_create_find_and_edit_a_record(cataloguer):
    record_id = create(cataloguer)
    page = cataloguer.get(f"/staff/records/{record_id}").get_data(as_text=True)
    assert "水稻高产栽培技术" in page and "=200  1\\$a水稻高产栽培技术" in page
    found = cataloguer.get("/staff/records?q=9787109269507")
    assert found.status_code == 302 and found.location.endswith(f"/staff/records/{record_id}")
    edited = post(cataloguer, f"/staff/records/{record_id}/edit",
                  {"title": "水稻栽培新技术", "authors": "李明", "clc": "S511.1"},
                  referrer=f"/staff/records/{record_id}/edit")  # fmt: skip
    page = edited.get_data(as_text=True)
    assert "水稻栽培新技术" in page and "S511.1" in page


def test_copies_added_moved_withdrawn_and_shelf_listed(cataloguer):
    record_id = create(cataloguer)
    page_path = f"/staff/records/{record_id}"
    for call_number in ("S511/2", "S511/10"):
        post(cataloguer, f"{page_path}/copies", {"home": "QX01", "call_number": call_number},
             referrer=page_path)  # fmt: skip
    page = cataloguer.get(page_path).get_data(as_text=True)
    barcodes = re.findall(r'data-barcode="([^"]+)"', page)
    assert len(barcodes) == 2
    moved = post(cataloguer, f"/staff/copies/{barcodes[0]}/move", {"to": "QX02"}, page_path)
    assert "石桥镇分馆" in moved.get_data(as_text=True)
    refused = post(cataloguer, f"/staff/copies/{barcodes[1]}/status", {"status": "withdrawn"},
                   page_path)  # fmt: skip
    assert "请填写原因" in refused.get_data(as_text=True)
    done = post(cataloguer, f"/staff/copies/{barcodes[1]}/status",
                {"status": "withdrawn", "reason": "破损"}, page_path)  # fmt: skip
    assert "已剔除" in done.get_data(as_text=True)
    shelf = cataloguer.get("/staff/points/QX02/shelf-list").get_data(as_text=True)
    assert barcodes[0] in shelf and barcodes[1] not in shelf


def test_merge_from_the_page(cataloguer):
    first = create(cataloguer)
    second = create(cataloguer, "水稻栽培（重复记录）")
    page = post(cataloguer, f"/staff/records/{first}/merge", {"other": str(second)},
                f"/staff/records/{first}").get_data(as_text=True)  # fmt: skip
    assert "已并入" in page
    assert cataloguer.get(f"/staff/records/{second}").status_code == 404
    split = post(cataloguer, f"/staff/records/{first}/split",
                 {"source": re.findall(r'name="source" value="(\d+)"', page)[1]},
                 f"/staff/records/{first}").get_data(as_text=True)  # fmt: skip
    assert "水稻栽培（重复记录）" in split


def test_import_history_lists_each_file(app, cataloguer, tmp_path):
    from tests.test_catalog_import import _marc21

    path = tmp_path / "vendor.mrc"
    path.write_bytes(_marc21("果树修剪", "9787111547426", barcode="3100000002"))
    app.test_cli_runner().invoke(
        args=["catalog", "import", str(path), "--report-dir", str(tmp_path)]
    )
    page = cataloguer.get("/staff/imports").get_data(as_text=True)
    assert "vendor.mrc" in page


def test_branch_librarian_sees_records_but_cannot_create(app, client, network):
    app.test_cli_runner().invoke(args=["users", "add", "b", "--role", "branch_librarian",
                                       "--scope", "QX01", "--password", "password-123"])  # fmt: skip
    login(client, "b", "password-123")
    assert client.get("/staff/records").status_code == 200
    assert client.get("/staff/records/new").status_code == 403


def test_edit_a_copy_from_the_record_page(cataloguer):
    record_id = create(cataloguer)
    page_path = f"/staff/records/{record_id}"
    post(cataloguer, f"{page_path}/copies", {"home": "QX01", "call_number": "S511/2"}, page_path)
    barcode = re.findall(
        r'data-barcode="([^"]+)"', cataloguer.get(page_path).get_data(as_text=True)
    )[0]
    page = post(cataloguer, f"/staff/copies/{barcode}/edit",
                {"call_number": "S511/20", "item_type": "reference", "price": "36.5"},
                page_path).get_data(as_text=True)  # fmt: skip
    assert f"图书 {barcode} 已保存" in page
    assert 'value="S511/20"' in page and 'value="reference"' in page and 'value="36.50"' in page
    bad = post(cataloguer, f"/staff/copies/{barcode}/edit", {"price": "abc"}, page_path)
    assert "请更正" in bad.get_data(as_text=True)


def _textarea(page: str) -> str:
    return html.unescape(re.search(r"<textarea[^>]*>(.*?)</textarea>", page, re.S).group(1))


def test_edit_marc_on_the_page_keeps_bad_text_and_saves_good(cataloguer):
    record_id = create(cataloguer)
    url = f"/staff/records/{record_id}/marc"
    assert f'href="{url}"' in cataloguer.get(f"/staff/records/{record_id}").get_data(as_text=True)
    form = cataloguer.get(url).get_data(as_text=True)
    text = _textarea(form)
    assert "=200  1\\$a水稻高产栽培技术" in text
    bad = text.replace("=200  1\\$a水稻高产栽培技术", "=200  1\\$a水稻栽培新技术") + "=7O1  x"
    response = post(cataloguer, url, {"marc": bad}, referrer=url)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "未保存任何内容" in page
    assert f"第 {len(bad.splitlines())} 行" in page  # the bad last line, in Chinese
    kept = _textarea(page)
    assert kept == bad  # nothing the cataloguer typed is lost
    assert "水稻高产栽培技术" in cataloguer.get(f"/staff/records/{record_id}").get_data(
        as_text=True
    )
    good = bad.rsplit("\n", 1)[0] + "\n"
    response = post(cataloguer, url, {"marc": good}, referrer=url)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "MARC 已保存" in page
    assert "<h1>水稻栽培新技术" in page


def test_branch_librarian_cannot_edit_marc(app, client, network):
    app.test_cli_runner().invoke(args=["users", "add", "lib", "--role", "branch_librarian",
                                       "--scope", "QX01", "--password", "password-123"])  # fmt: skip
    login(client, "lib", "password-123")
    assert client.get("/staff/records/1/marc").status_code == 403
