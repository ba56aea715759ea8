"""Label sheets (标签打印): barcodes that scan as the copy or card, the grid, access, bad parameters."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from barcode.charsets import code128 as code128_charset

import catalog.barcodes  # noqa: F401  (registers the model until app/models.py imports it)
from app.db import get_session
from app.labels import MAX_LABELS, barcode_svg, fit_font, short_title
from catalog.network import point_by_code
from catalog.records import Copy, CopyStatus, Record
from circulation.patrons_import import import_patrons
from tests.conftest import login

DATA = Path(__file__).parent / "data"
LONG_TITLE = "一个非常非常长的书名用来测试标签上的截断效果以及省略号是否出现"
PATTERNS = {pattern: value for value, pattern in enumerate(code128_charset.CODES)}


# -- an independent reading of the bars ---------------------------------------------


def decode_code128(svg: str) -> str:
    """Read a Code 128 symbol back from the SVG's bars (Code 128 values per ISO/IEC 15417)."""
    bars = []
    for tag in re.findall(r"<rect\b[^>]*>", svg):
        attributes = dict(re.findall(r'([\w-]+)="([^"]*)"', tag))
        if "x" in attributes:
            bars.append((float(attributes["x"]), float(attributes["width"])))
    bars.sort()
    unit = min(width for _, width in bars)
    bits, end = "", bars[0][0]
    for x, width in bars:
        bits += "0" * round((x - end) / unit) + "1" * round(width / unit)
        end = x + width
    stop = "1100011101011"
    assert bits.endswith(stop), "no stop pattern"
    body = bits[: -len(stop)]
    assert len(body) % 11 == 0
    symbols = [PATTERNS[body[i : i + 11]] for i in range(0, len(body), 11)]
    start, *data, check = symbols
    assert (start + sum(i * s for i, s in enumerate(data, 1))) % 103 == check, "bad checksum"
    code_set = {103: "A", 104: "B", 105: "C"}[start]
    text = ""
    for value in data:
        if code_set == "C" and value < 100:
            text += f"{value:02d}"
        elif value == 99:
            code_set = "C"
        elif (code_set, value) in (("C", 100), ("A", 100)):
            code_set = "B"
        elif (code_set, value) in (("C", 101), ("B", 101)):
            code_set = "A"
        elif code_set == "B":
            text += chr(value + 32)
        else:
            text += chr(value + 32) if value < 64 else chr(value - 64)
    return text


def svgs(page: str) -> list[str]:
    return re.findall(r"<svg\b.*?</svg>", page, flags=re.DOTALL)


def label_barcodes(page: str) -> list[str]:
    return re.findall(r'class="label \w+" data-barcode="([^"]+)"', page)


# -- data -------------------------------------------------------------------------------------

COPIES = [
    # barcode, call number, home point, added, status, title
    ("3000000012", "I247.5/123", "QX01", "2026-11-10", CopyStatus.AVAILABLE, LONG_TITLE),
    ("3000000020", "I247.5/2", "QX01", "2026-11-12", CopyStatus.AVAILABLE, "活着"),
    ("3000000038", "TP312/45-2", "QX01", "2026-11-15", CopyStatus.ON_LOAN, "Python编程"),
    ("3000000046", "F124/26", "QX01", "2026-11-20", CopyStatus.AVAILABLE, "中国经济"),
    ("3000000053", "I247.5/10", "QX01", "2026-01-05", CopyStatus.AVAILABLE, "旧书"),
    ("3000000061", "I247.57/8", "QX01", "2026-11-11", CopyStatus.WITHDRAWN, "剔旧的书"),
    ("3000000079", "I247.57/8", "QX", "2026-11-11", CopyStatus.AVAILABLE, "总馆的书"),
    ("QX-00012a", "K825.6=7/3", "QX", "2026-11-11", CopyStatus.AVAILABLE, "字母条码"),
]


@pytest.fixture
def holdings(app, network):
    with app.app_context():
        session = get_session()
        for barcode, call_number, point_code, added, status, title in COPIES:
            point = point_by_code(session, point_code)
            record = Record(
                title=title, authors=[], authors_pinyin=[], subjects=[], isbns=[], extra={}
            )
            session.add(
                Copy(
                    barcode=barcode,
                    record=record,
                    home_point=point,
                    current_point=point,
                    call_number=call_number,
                    status=status,
                    date_added=dt.date.fromisoformat(added),
                )
            )
        import_patrons(session, DATA / "patrons.csv", app.config["SECRET_KEY"])
        session.commit()


def add_user(app, username: str, role: str, scope: str | None = None) -> None:
    args = ["users", "add", username, "--role", role, "--password", "password-123"]
    if scope:
        args += ["--scope", scope]
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 0, result.output


@pytest.fixture
def cataloguer(app, client, holdings):
    add_user(app, "cat", "cataloguer")
    login(client, "cat", "password-123")
    return client


@pytest.fixture
def librarian(app, client, holdings):
    add_user(app, "lib", "branch_librarian", scope="QX01")
    login(client, "lib", "password-123")
    return client


# -- access -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/staff/labels/",
        "/staff/labels/copies?barcodes=3000000012",
        "/staff/labels/spine?point=QX01",
        "/staff/labels/cards?cards=2000000001",
    ],
)
def test_anonymous_callers_are_sent_to_sign_in(client, holdings, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
    body = response.get_data(as_text=True)
    assert "<svg" not in body and "I247.5/123" not in body and "王秀英" not in body


def test_cataloguers_print_copies_but_not_patron_cards(cataloguer):
    assert cataloguer.get("/staff/labels/copies?barcodes=3000000012").status_code == 200
    assert cataloguer.get("/staff/labels/spine?barcodes=3000000012").status_code == 200
    assert cataloguer.get("/staff/labels/cards?cards=2000000001").status_code == 403
    index = cataloguer.get("/staff/labels/").get_data(as_text=True)
    assert 'name="barcodes"' in index and 'name="cards"' not in index


def test_network_admin_and_branch_librarian_print_everything(app, client, holdings):
    add_user(app, "admin", "network_admin")
    login(client, "admin", "password-123")
    for url in (
        "/staff/labels/",
        "/staff/labels/copies?point=QX",
        "/staff/labels/cards?cards=2000000002",
    ):
        assert client.get(url).status_code == 200, url
    add_user(app, "lib", "branch_librarian", scope="QX01")
    login(client, "lib", "password-123")
    assert client.get("/staff/labels/cards?cards=2000000002").status_code == 200
    assert 'name="cards"' in client.get("/staff/labels/").get_data(as_text=True)


# -- copy labels ------------------------------------------------------------------------------


def test_copy_labels_carry_barcode_call_number_title_and_point(cataloguer):
    response = cataloguer.get("/staff/labels/copies?barcodes=3000000012,3000000079")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert label_barcodes(page) == ["3000000012", "3000000079"]
    assert [decode_code128(svg) for svg in svgs(page)] == ["3000000012", "3000000079"]
    assert "I247.5/123" in page and "I247.57/8" in page
    assert "城关镇分馆" in page and "清溪县图书馆" in page
    assert short_title(LONG_TITLE) in page and short_title(LONG_TITLE).endswith("…")
    assert ">" + LONG_TITLE + "<" not in page  # only the full title's tooltip carries it whole


def test_alphanumeric_barcodes_scan_too(cataloguer):
    page = cataloguer.get("/staff/labels/copies?barcodes=QX-00012a").get_data(as_text=True)
    assert [decode_code128(svg) for svg in svgs(page)] == ["QX-00012a"]


def test_barcodes_keep_the_order_given_and_accept_lines_and_spaces(cataloguer):
    page = cataloguer.get(
        "/staff/labels/copies",
        query_string={"barcodes": "3000000046\n3000000012  3000000020，3000000012"},
    ).get_data(as_text=True)
    assert label_barcodes(page) == ["3000000046", "3000000012", "3000000020", "3000000012"]


def test_copies_of_a_point_added_since_a_day_in_shelf_order(cataloguer):
    page = cataloguer.get("/staff/labels/copies?point=QX01&added_since=2026-11-10").get_data(
        as_text=True
    )
    # F124/26, I247.5/2, I247.5/123, TP312/45-2; not the old copy, not the withdrawn one
    assert label_barcodes(page) == ["3000000046", "3000000020", "3000000012", "3000000038"]
    everything = cataloguer.get("/staff/labels/copies?point=QX01").get_data(as_text=True)
    assert label_barcodes(everything) == [
        "3000000046",
        "3000000020",
        "3000000053",
        "3000000012",
        "3000000038",
    ]


def test_a_point_without_new_copies_gives_an_empty_page(cataloguer):
    response = cataloguer.get("/staff/labels/copies?point=QX02")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'class="sheet"' not in page and "没有要打印的标签" in page


# -- spine labels -------------------------------------------------------------------------------


def test_spine_labels_split_the_call_number_and_show_the_point_code(cataloguer):
    page = cataloguer.get("/staff/labels/spine?point=QX01&added_since=2026-11-10").get_data(
        as_text=True
    )
    assert label_barcodes(page) == ["3000000046", "3000000020", "3000000012", "3000000038"]
    assert re.search(
        r'class="class-number"[^>]*>I247\.5</div>\s*<div class="book-number"[^>]*>123</div>', page
    )
    assert re.search(
        r'class="class-number"[^>]*>TP312</div>\s*<div class="book-number"[^>]*>45-2</div>', page
    )
    assert page.count('<div class="point-code">QX01</div>') == 4
    assert "<svg" not in page


def test_spine_font_shrinks_for_long_class_numbers():
    assert fit_font("I247", 30, 8) == 8
    assert fit_font("TP311.138-53", 30, 8) < 8
    assert fit_font("中国", 4, 8) == 2.0


# -- patron cards --------------------------------------------------------------------------------


def test_cards_show_barcode_name_and_point_but_never_the_id_number(librarian):
    response = librarian.get("/staff/labels/cards?cards=2000000001 2000000003")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert [decode_code128(svg) for svg in svgs(page)] == ["2000000001", "2000000003"]
    assert "王秀英" in page and "张建国" in page
    assert "城关镇分馆" in page and "清溪县图书馆" in page
    for secret in ("11010519491231002X", "110105195001010012", "110***", "002X",
                   "13800000001", "15900000003", "123456"):  # fmt: skip
        assert secret not in page
    assert not re.search(r"\d{15,}", page)  # no ID number in any form


def test_unknown_cards_are_refused(librarian):
    response = librarian.get("/staff/labels/cards?cards=2000000001,2999999999")
    assert response.status_code == 400
    assert "2999999999" in response.get_data(as_text=True)


# -- the grid ------------------------------------------------------------------------------


def css(page: str) -> str:
    return " ".join(re.search(r"<style>(.*?)</style>", page, flags=re.DOTALL).group(1).split())


def test_default_grid_is_3_by_8_on_a4(cataloguer):
    style = css(cataloguer.get("/staff/labels/copies?barcodes=3000000012").get_data(as_text=True))
    assert "@page { size: A4 portrait; margin: 0; }" in style
    assert "grid-template-columns: repeat(3, 70mm);" in style
    assert "grid-template-rows: repeat(8, 36mm);" in style


def test_grid_parameters_change_the_css(cataloguer):
    page = cataloguer.get(
        "/staff/labels/copies?barcodes=3000000012&columns=2&rows=5&label_width=99.1"
        "&label_height=38.1&margin_top=15.15&margin_left=4.6&gap_x=2.5&gap_y=0"
    ).get_data(as_text=True)
    style = css(page)
    assert "grid-template-columns: repeat(2, 99.1mm);" in style
    assert "grid-template-rows: repeat(5, 38.1mm);" in style
    assert "padding: 15.15mm 0 0 4.6mm;" in style
    assert "column-gap: 2.5mm;" in style and "row-gap: 0mm;" in style
    assert "width: 99.1mm; height: 38.1mm;" in style
    assert 'name="columns" min="1" max="20" value="2"' in page  # the form keeps the values


def test_skip_leaves_used_labels_empty_and_labels_flow_onto_a_new_sheet(cataloguer):
    page = cataloguer.get("/staff/labels/copies?point=QX01&columns=2&rows=2&skip=3").get_data(
        as_text=True
    )
    sheets = page.split('<div class="sheet">')[1:]
    assert len(sheets) == 2
    assert sheets[0].count('class="label empty"') == 3 and len(label_barcodes(sheets[0])) == 1
    assert len(label_barcodes(sheets[1])) == 4 and "empty" not in sheets[1]


def test_pages_are_self_contained(cataloguer, app):
    for url in ("/staff/labels/copies?point=QX01", "/staff/labels/spine?point=QX01"):
        page = cataloguer.get(url).get_data(as_text=True)
        assert "<script" not in page.lower()
        assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
        assert "@import" not in page and "url(" not in page


# -- bad parameters ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "zh", "en"),
    [
        (
            "barcodes=3000000012&columns=abc",
            "columns 应为 1 至 20 的整数",
            "columns must be a whole number from 1 to 20",
        ),
        (
            "barcodes=3000000012&columns=0",
            "columns 应为 1 至 20 的整数",
            "columns must be a whole number from 1 to 20",
        ),
        (
            "barcodes=3000000012&columns=2.5",
            "columns 应为 1 至 20 的整数",
            "columns must be a whole number",
        ),
        (
            "barcodes=3000000012&label_width=-3",
            "label_width 应为 5 至 210 毫米",
            "label_width must be a number of millimetres from 5 to 210",
        ),
        (
            "barcodes=3000000012&label_height=nan",
            "label_height 应为 5 至 297 毫米",
            "label_height must be a number of millimetres",
        ),
        (
            "barcodes=3000000012&columns=4&label_width=60",
            "A4 纸放不下",
            "does not fit on an A4 page (210 x 297 mm): it needs 240 x 292.5 mm",
        ),
        (
            "barcodes=3000000012&skip=24",
            "skip 应小于每张纸的标签数 24",
            "skip must be less than the 24 labels of a sheet",
        ),
        (
            "barcodes=3000000012,3999999999",
            "没有条码为 3999999999 的单册",
            "No copy has the barcode 3999999999",
        ),
        ("point=XX", "没有代码为 XX 的服务点", "There is no service point XX"),
        (
            "point=QX01&added_since=2026-13-01",
            "added_since 应为 YYYY-MM-DD 格式的日期",
            "added_since must be a date written YYYY-MM-DD",
        ),
        (
            "point=QX01&barcodes=3000000012",
            "请只给出条码或服务点之一",
            "Give either barcodes or a point, not both",
        ),
        ("", "请说明要打印哪些标签", "Say which labels to print"),
    ],
)
def test_bad_parameters_give_a_clear_400_in_the_page_language(cataloguer, query, zh, en):
    response = cataloguer.get(f"/staff/labels/copies?{query}")
    assert response.status_code == 400
    assert zh in response.get_data(as_text=True)
    english = cataloguer.get(f"/staff/labels/copies?{query}&lang=en")
    assert english.status_code == 400
    assert en in english.get_data(as_text=True)
    cataloguer.get("/?lang=zh_CN")


def test_too_many_labels_are_refused(cataloguer):
    barcodes = " ".join(str(n) for n in range(MAX_LABELS + 1))
    response = cataloguer.get(
        "/staff/labels/spine", query_string={"barcodes": barcodes, "lang": "en"}
    )
    assert response.status_code == 400
    assert f"print at most {MAX_LABELS} at a time" in response.get_data(as_text=True)


def test_cards_need_card_numbers(librarian):
    response = librarian.get("/staff/labels/cards?lang=en")
    assert response.status_code == 400
    assert "Say which cards to print" in response.get_data(as_text=True)


# -- helpers -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value", ["3000000012", "2000000001", "31000000011", "QX-00012a", "A", "12345"]
)
def test_barcode_svg_encodes_the_value(value):
    svg = barcode_svg(value)
    assert svg is not None and svg.startswith("<svg") and 'viewBox="0 0 ' in svg
    assert ' id="' not in svg and "<?xml" not in svg
    assert decode_code128(str(svg)) == value


def test_barcode_svg_refuses_what_code_128_cannot_carry():
    assert barcode_svg("条码123") is None
    assert barcode_svg("") is None


def test_a_copy_with_an_unprintable_barcode_still_gets_its_label(app, cataloguer):
    with app.app_context():
        session = get_session()
        point = point_by_code(session, "QX")
        record = Record(
            title="中文条码", authors=[], authors_pinyin=[], subjects=[], isbns=[], extra={}
        )
        session.add(Copy(barcode="条码1", record=record, home_point=point, current_point=point))
        session.commit()
    page = cataloguer.get("/staff/labels/copies", query_string={"barcodes": "条码1"}).get_data(
        as_text=True
    )
    assert "条码1" in page and "无法打印为 Code 128 条码" in page


def test_short_title():
    assert short_title("活着") == "活着"
    assert short_title("  a  b ") == "a b"
    assert short_title(None) == ""
    assert short_title("x" * 30) == "x" * 23 + "…"
