"""The kiosk in a real browser at 1024x768 (and a 390 px phone): a reader signs in with the
number pad, scans books, prints the receipt; returns; the page signs an idle reader out."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.conftest import follow, live_server, scan, screenshot
from tests.kiosk.conftest import LOGIN, PASSWORD

pytestmark = pytest.mark.browser

VIEWPORTS = [{"width": 1024, "height": 768}, {"width": 390, "height": 844}]


@pytest.fixture
def kiosk_url(app, kiosk):
    with live_server(app) as url:
        yield url


def enrol(page, url: str) -> None:
    page.goto(url + "/kiosk/")
    page.get_by_label("终端账号").fill(LOGIN)
    page.get_by_label("终端密码").fill(PASSWORD)
    page.get_by_role("button", name="设置").click()
    page.wait_for_selector(".tiles")


def no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=["kiosk", "phone"])
def test_kiosk_2_kiosk_6_reader_borrows_three_books_and_prints_the_receipt(
    browser, kiosk_url, viewport
):
    name = "kiosk" if viewport["width"] == 1024 else "phone"
    page = browser.new_page(viewport=viewport)
    enrol(page, kiosk_url)
    screenshot(page, f"kiosk-home-{name}")
    assert no_horizontal_scroll(page)
    follow(page, "借书")
    scan(page, "2000000001")  # the card: the focus moves on to the PIN
    page.wait_for_function("document.activeElement.name === 'pin'")
    for key in "9999":
        page.locator(f'.keypad [data-key="{key}"]').click()
    page.get_by_role("button", name="登录", exact=True).click()
    expect(page.locator(".alert")).to_contain_text("读者证号或密码错误 / wrong card number or PIN")
    scan(page, "2000000001")
    for key in "1234":
        page.locator(f'.keypad [data-key="{key}"]').click()
    screenshot(page, f"kiosk-signin-{name}")
    page.get_by_role("button", name="登录", exact=True).click()
    page.wait_for_selector("form.scan")
    for barcode in ("3100000001", "3100000002", "no-such-book", "3100000003"):
        scan(page, barcode)
        page.wait_for_selector(f'.alert[data-barcode="{barcode}"], .alert b:text("{barcode}")')
        assert page.evaluate("document.activeElement.name") == "barcode"
    assert page.locator("table.list tbody tr").count() == 3
    assert "没有条码为 no-such-book" not in page.locator("table.list").inner_text()
    screenshot(page, f"kiosk-checkout-{name}")
    assert no_horizontal_scroll(page)
    box = page.get_by_role("button", name="完成并打印凭条").bounding_box()
    assert box["height"] >= 55 and box["width"] >= 55  # a finger, not a mouse
    page.get_by_role("button", name="完成并打印凭条").click()
    page.wait_for_selector("main.slip")
    slip = page.locator("main.slip").inner_text()
    assert "借书凭条" in slip and "王*英" in slip and "西游记" in slip
    screenshot(page, f"kiosk-receipt-{name}")
    page.close()


def test_kiosk_2_returns_and_my_account_in_english_and_chinese(browser, kiosk_url):
    page = browser.new_page(viewport={"width": 1024, "height": 768})
    enrol(page, kiosk_url)
    follow(page, "我的借阅")
    scan(page, "2000000001")
    page.keyboard.type("1234")
    page.keyboard.press("Enter")
    page.wait_for_selector("h1")
    assert "目前没有借书" in page.locator("main").inner_text()
    page.get_by_role("button", name="完成").click()
    follow(page, "还书")
    scan(page, "3100000009")  # belongs at QX02: it goes on
    page.wait_for_selector(".alert.ok")
    assert "还书箱" in page.locator(".alert.ok").inner_text()
    screenshot(page, "kiosk-checkin")
    follow(page, "English")
    scan(page, "nothing-here")
    page.wait_for_selector(".alert.error")
    error = page.locator(".alert.error").inner_text()
    assert (
        "没有条码为 nothing-here 的图书" in error and "no copy with barcode nothing-here" in error
    )
    assert page.locator("h1").inner_text() == "Scan a book to return it"
    page.close()


def test_kiosk_3_idle_page_signs_the_reader_out_by_itself(app, browser, kiosk_url):
    app.config["KIOSK_IDLE_SECONDS"] = 4
    page = browser.new_page(viewport={"width": 1024, "height": 768})
    enrol(page, kiosk_url)
    follow(page, "借书")
    scan(page, "2000000001")
    page.keyboard.type("1234")
    page.keyboard.press("Enter")
    page.wait_for_selector("form.scan")
    page.wait_for_selector(".idle-warning:not([hidden])", timeout=6000)
    screenshot(page, "kiosk-idle-warning")
    page.wait_for_selector(".tiles", timeout=8000)  # back at the start, signed out
    page.goto(kiosk_url + "/kiosk/checkout")
    assert "/kiosk/signin" in page.url
    page.close()
