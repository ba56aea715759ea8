"""The counter in a real browser: a librarian scans ten books in a row, then takes books back."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.conftest import follow, live_server, scan, screenshot, sign_in

pytestmark = pytest.mark.browser

VIEWPORTS = [{"width": 1024, "height": 768}, {"width": 390, "height": 844}]


@pytest.fixture
def counter_url(app, circ):
    record = circ.record()
    for n in range(10):
        circ.copy(f"310{n:02d}", circ.record(f"农村实用技术第{n + 1}册") if n else record, "QX01")
    circ.copy("39999", record, "QX")
    circ.patron("20001", name="王秀英")
    circ.db.commit()
    app.test_cli_runner().invoke(args=["users", "add", "wang", "--role", "branch_librarian",
                                       "--scope", "QX01", "--password", "password-123"])  # fmt: skip
    with live_server(app) as url:
        yield url


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=["kiosk", "phone"])
def test_librarian_scans_a_card_and_ten_books_in_a_row(browser, counter_url, viewport):
    page = browser.new_page(viewport=viewport)
    sign_in(page, counter_url, "wang", "password-123")
    page.get_by_role("link", name="流通台").click()
    expect(page.locator("h1")).to_have_text("借书")  # waits for the page the click opens
    scan(page, "20001")
    page.wait_for_selector(".patron-panel")
    assert "王秀英" in page.locator(".patron-panel").inner_text()
    for n in range(10):
        scan(page, f"310{n:02d}")
        page.wait_for_selector(f'tr.ok[data-barcode="310{n:02d}"]')
        assert page.evaluate("document.activeElement.name") == "barcode"  # focus stays
    assert page.locator("tr.ok").count() == 10
    assert "农村实用技术第10册" in page.locator('tr.ok[data-barcode="31009"]').inner_text()
    scan(page, "nope")
    page.wait_for_selector("[data-alert=error]")
    assert "没有条码为 nope 的图书" in page.locator(".alert.error").inner_text()
    assert page.evaluate("document.body.classList.contains('flash-error')")
    assert page.evaluate("document.activeElement.name") == "barcode"
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(page, f"counter-checkout-{viewport['width']}")
    page.get_by_role("button", name="完成并打印凭条").click()
    page.locator("main.slip").wait_for()  # count() does not wait for the page it follows
    assert page.locator("main.slip tr").count() == 10
    page.close()


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=["kiosk", "phone"])
def test_returns_each_get_their_instruction(browser, counter_url, viewport):
    page = browser.new_page(viewport=viewport)
    sign_in(page, counter_url, "wang", "password-123")
    page.goto(counter_url + "/staff/counter/checkout?card=20001")
    scan(page, "31000")
    page.wait_for_selector('tr.ok[data-barcode="31000"]')
    scan(page, "39999")
    page.wait_for_selector('tr.ok[data-barcode="39999"]')
    follow(page, "还书")
    scan(page, "31000")
    page.wait_for_selector('section.instruction[data-barcode="31000"]')
    assert page.locator("section.instruction .what").inner_text() == "上架"
    scan(page, "39999")
    page.wait_for_selector('section.instruction[data-barcode="39999"]')
    assert page.locator("section.instruction .what").inner_text() == "送往 清溪县图书馆 (QX)"
    assert page.locator("table.returns tr[data-barcode]").count() == 1
    size = page.evaluate(
        "parseFloat(getComputedStyle(document.querySelector('section.instruction .what')).fontSize)"
    )
    assert size >= 28  # large type, readable from the other side of the desk
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(page, f"counter-checkin-{viewport['width']}")
    page.close()
