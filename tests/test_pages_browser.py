"""The pages in a real browser (Debian's Chromium via Playwright): Chinese first, phone and kiosk."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect
from werkzeug.serving import make_server

from tests.test_api import add_copies

pytestmark = pytest.mark.browser


@pytest.fixture
def live_url(app, network, db) -> Iterator[str]:
    add_copies(db, "QX01V01", 1300)  # 1.08 per resident: meets the target
    add_copies(db, "QX02", 40)  # 0.01 per resident: below it
    app.test_cli_runner().invoke(
        args=["users", "add", "admin", "--role", "network_admin", "--password", "password-123"]
    )
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def no_horizontal_overflow(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.parametrize(
    "viewport", [{"width": 390, "height": 844}, {"width": 1024, "height": 768}]
)
def test_front_page_shows_the_network_in_chinese(browser, live_url, viewport):
    page = browser.new_page(viewport=viewport)
    page.goto(live_url + "/")
    assert page.locator("h1").inner_text() == "图书馆服务网络"
    assert page.locator("tr[data-code]").count() == 5
    village = page.locator('tr[data-code="QX01V01"]')
    assert "白沙村农家书屋" in village.inner_text()
    assert "1.08" in village.inner_text()
    assert "未达标" not in village.inner_text()
    assert "未达标" in page.locator('tr[data-code="QX02"]').inner_text()
    assert no_horizontal_overflow(page)
    if os.environ.get("TONGJIE_SCREENSHOTS"):
        page.screenshot(path=f"{os.environ['TONGJIE_SCREENSHOTS']}/front-{viewport['width']}.png")
    page.close()


def test_english_on_request_and_remembered(browser, live_url):
    page = browser.new_page()
    page.goto(live_url + "/")
    page.get_by_role("link", name="English").click()
    expect(page.locator("h1")).to_have_text("The library network")
    page.goto(live_url + "/")
    assert page.locator("h1").inner_text() == "The library network"
    assert "Village bookshop" in page.locator('tr[data-code="QX01V01"]').inner_text()
    page.close()


def test_staff_sign_in_and_out(browser, live_url):
    page = browser.new_page()
    page.goto(live_url + "/")
    page.get_by_role("link", name="工作人员登录").click()
    page.get_by_label("用户名").fill("admin")
    page.get_by_label("密码").fill("password-123")
    page.get_by_role("button", name="登录").click()
    expect(page.locator("header")).to_contain_text("admin (总馆管理员)")
    page.get_by_role("button", name="退出").click()
    expect(page.locator("header")).to_contain_text("工作人员登录")
    page.close()


def test_cataloguer_creates_a_record_and_adds_a_copy(browser, live_url, app):
    app.test_cli_runner().invoke(
        args=["users", "add", "cat", "--role", "cataloguer", "--password", "password-123"]
    )
    page = browser.new_page(viewport={"width": 1024, "height": 768})
    page.goto(live_url + "/login")
    page.get_by_label("用户名").fill("cat")
    page.get_by_label("密码").fill("password-123")
    page.get_by_role("button", name="登录").click()
    page.get_by_role("link", name="编目").click()
    page.get_by_role("link", name="新建书目").click()
    page.get_by_label("题名", exact=True).fill("果树修剪图解")
    page.get_by_label("著者（每行一个）").fill("张建国")
    page.get_by_label("中图分类号").fill("S660.5")
    page.get_by_role("button", name="保存").click()
    expect(page.locator(".flash")).to_contain_text("书目记录")
    assert page.locator("h1").inner_text() == "果树修剪图解"
    page.get_by_label("索书号").fill("S660.5/3")
    page.get_by_role("button", name="添加", exact=True).click()
    assert "已添加图书" in page.locator(".flash").inner_text()
    assert page.locator("tr[data-barcode]").count() == 1
    assert page.locator("tr[data-barcode] input[name=call_number]").input_value() == "S660.5/3"
    assert no_horizontal_overflow(page)
    page.close()


def test_cataloguer_corrects_a_record_in_the_marc_view(browser, live_url, app):
    app.test_cli_runner().invoke(
        args=["users", "add", "cat", "--role", "cataloguer", "--password", "password-123"]
    )
    for viewport in ({"width": 1024, "height": 768}, {"width": 390, "height": 844}):
        page = browser.new_page(viewport=viewport)
        page.goto(live_url + "/login")
        page.get_by_label("用户名").fill("cat")
        page.get_by_label("密码").fill("password-123")
        page.get_by_role("button", name="登录").click()
        page.goto(live_url + "/staff/records/new")
        page.get_by_label("题名", exact=True).fill("果树修剪图解")
        page.get_by_role("button", name="保存").click()
        page.get_by_role("link", name="编辑 MARC").click()
        box = page.get_by_label("MARC")
        text = box.input_value()
        assert "=200  1\\$a果树修剪图解" in text
        box.fill(text.replace("$a果树修剪图解", "$a果树修剪图解（第二版）") + "=2051\n")
        page.get_by_role("button", name="保存").click()
        assert "未保存任何内容" in page.locator(".flash").inner_text()
        assert page.get_by_label("MARC").input_value().endswith("=2051\n")  # nothing lost
        assert no_horizontal_overflow(page)
        box = page.get_by_label("MARC")
        box.fill(box.input_value().replace("=2051\n", ""))
        page.get_by_role("button", name="保存").click()
        assert "MARC 已保存" in page.locator(".flash").inner_text()
        assert page.locator("h1").inner_text() == "果树修剪图解（第二版）"
        page.close()
