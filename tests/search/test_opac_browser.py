"""The OPAC in a real browser (Debian's Chromium): search, suggestions, facets, my library, record.

Set TONGJIE_SCREENSHOTS=DIR to keep screenshots at 390 px (phone) and
1024x768 (kiosk).
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect
from werkzeug.serving import make_server

from catalog.network import point_by_code
from catalog.records import Copy, CopyStatus, Record
from circulation.models import Loan
from circulation.patrons import Patron
from tests.test_pages_browser import no_horizontal_overflow

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}
KIOSK = {"width": 1024, "height": 768}
DUE = dt.date(2026, 12, 30)


@pytest.fixture
def opac_url(app, network, db, index_now) -> Iterator[str]:
    points = {code: point_by_code(db, code) for code in ("QX", "QX01", "QX02", "QX01V01")}
    titles = [("红楼梦", ["曹雪芹", "高鹗"], "I242.47", "1982"),
              ("红楼梦人物论", ["王昆仑"], "I207.411", "2004"),
              ("红楼梦诗词曲赋鉴赏", ["蔡义江"], "I207.411", "2001"),
              ("水稻高产栽培技术", ["李明"], "S511", "2015")]  # fmt: skip
    reader = Patron(card="20000001", name="读者甲", category="adult", home_point=points["QX01V01"])
    db.add(reader)
    n = 0
    for title, authors, clc, year in titles:
        record = Record(title=title, authors=authors, clc=clc, pub_year=year, language="chi",
                        publisher="人民文学出版社", responsibility="、".join(authors) + "著")  # fmt: skip
        for code, status in (("QX", CopyStatus.AVAILABLE), ("QX01V01", CopyStatus.ON_LOAN),
                             ("QX02", CopyStatus.AVAILABLE)):  # fmt: skip
            n += 1
            copy = Copy(barcode=f"3100{n:06d}", record=record, home_point=points[code],
                        current_point=points[code], status=status, call_number=f"{clc}/{n}")  # fmt: skip
            db.add(copy)
            if status == CopyStatus.ON_LOAN:
                db.add(Loan(copy=copy, patron=reader, point_id=points[code].id, due_date=DUE))
    db.commit()
    index_now()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def shot(page, name: str) -> None:
    folder = os.environ.get("TONGJIE_SCREENSHOTS")
    if folder:
        page.screenshot(path=f"{folder}/{name}.png", full_page=True)


@pytest.mark.parametrize("viewport", [PHONE, KIOSK], ids=["phone", "kiosk"])
def test_reader_searches_in_chinese_and_sees_availability(browser, opac_url, viewport):
    page = browser.new_page(viewport=viewport)
    sizes: list[int] = []
    page.on("response", lambda r: sizes.append(len(r.body())) if r.ok else None)
    page.goto(opac_url + "/search")
    page.get_by_label("馆藏检索").fill("hlm")
    page.get_by_role("button", name="检索").click()
    page.wait_for_selector("li.hit")
    assert page.locator("#count").inner_text().startswith("共 3 条结果")
    first = page.locator("li.hit").first
    assert first.locator("a.title").inner_text() == "红楼梦"
    assert "在架 2 册" in first.inner_text()
    assert "白沙村农家书屋 已借出" in first.inner_text()
    assert page.locator("aside.facets").get_by_text("在架服务点").is_visible() or viewport == PHONE
    assert no_horizontal_overflow(page)
    shot(page, f"opac-results-{viewport['width']}")
    assert sum(sizes) < 150_000, sizes  # the result page with its stylesheet, transferred
    page.close()


def test_suggestions_as_you_type(browser, opac_url):
    page = browser.new_page(viewport=PHONE)
    page.goto(opac_url + "/search")
    page.get_by_label("馆藏检索").press_sequentially("hongl", delay=30)
    page.wait_for_function("document.querySelectorAll('#suggestions option').length >= 3")
    options = page.eval_on_selector_all("#suggestions option", "els => els.map(e => e.value)")
    assert options[0] == "红楼梦" and "红楼梦人物论" in options
    page.close()


def test_facet_narrows_and_my_library_comes_first(browser, opac_url):
    page = browser.new_page(viewport=KIOSK)
    page.goto(opac_url + "/search?q=红楼梦")
    page.locator("aside.facets summary", has_text="中图法大类").click()
    page.locator("aside.facets").get_by_role("link", name="I 文学").click()
    page.wait_for_url("**clc=I**")
    page.wait_for_selector("li.hit")
    assert page.locator("li.hit").count() == 3
    page.get_by_label("我的图书馆").select_option(label="石桥镇分馆")
    page.wait_for_url("**point=QX02**")
    first_place = page.locator("li.hit").first.locator(".place").first
    assert "石桥镇分馆" in first_place.inner_text()
    assert "mine" in (first_place.get_attribute("class") or "")
    page.goto(opac_url + "/search?q=水稻")  # the cookie remembers the reader's point
    assert "石桥镇分馆" in page.locator("li.hit .place").first.inner_text()
    page.close()


@pytest.mark.parametrize("viewport", [PHONE, KIOSK], ids=["phone", "kiosk"])
def test_record_page_lists_copies_per_point(browser, opac_url, viewport):
    page = browser.new_page(viewport=viewport)
    page.goto(opac_url + "/search?q=红楼梦人物论")
    page.locator("li.hit a.title").first.click()
    expect(page.locator("h1")).to_have_text("红楼梦人物论")  # waits for the record page
    sections = page.locator("section.point-copies")
    assert sections.count() == 3
    village = page.locator('section[data-point="QX01V01"]')
    assert "借出" in village.inner_text() and "I207.411/" in village.inner_text()
    assert village.locator("td.due").inner_text() == "2026-12-30"
    assert page.locator('section[data-point="QX"] td.due').inner_text() == "—"
    assert no_horizontal_overflow(page)
    shot(page, f"opac-record-{viewport['width']}")
    page.close()


def test_opac_in_english(browser, opac_url):
    page = browser.new_page(viewport=KIOSK)
    page.goto(opac_url + "/search?q=hongloumeng&lang=en")
    assert page.locator("#count").inner_text().startswith("3 results")
    assert "on the shelf" in page.locator("li.hit").first.inner_text()
    assert page.locator("li.hit mark").first.inner_text() == "红楼梦"
    page.close()
