"""The figures dashboard and the rotation planner in a real browser, on a kiosk and a phone.

An administrator opens 统计, reads the charts and their tables, downloads the assessment
table, then goes to the planner, unticks one proposed copy and plans the batch.
"""

from __future__ import annotations

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from tests.conftest import live_server, screenshot, sign_in
from tests.figures.conftest import idle_stock

pytestmark = pytest.mark.browser

VIEWPORTS = [{"width": 1024, "height": 768}, {"width": 390, "height": 844}]


@pytest.fixture
def admin_url(app, year, circ):
    idle_stock(year, circ, 6, ("S", "I"), qx_population=1)  # all its idle copies may go
    app.test_cli_runner().invoke(args=["users", "add", "boss", "--role", "network_admin",
                                       "--password", "password-123"])  # fmt: skip
    with live_server(app) as url:
        yield url


def fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=["kiosk", "phone"])
def test_fig_10_12_14_dashboard_shows_charts_tables_and_downloads(
    browser, admin_url, viewport, tmp_path
):
    page = browser.new_page(viewport=viewport, accept_downloads=True)
    sign_in(page, admin_url, "boss", "password-123")
    page.get_by_role("link", name="统计").click()
    page.get_by_label("起始日期").fill("2026-01-01")
    page.get_by_label("截止日期").fill("2026-12-31")
    page.get_by_role("button", name="显示").click()
    page.wait_for_url("**/staff/figures/?from=2026-01-01*")  # the page asked for, not the first
    assert page.locator("h1").inner_text().startswith("统计")
    assert page.locator("section.chart figure svg").count() >= 5  # drawn on the server
    village = page.locator('#holdings tr[data-code="QX01V01"]')
    page.locator("#holdings details summary").first.click()
    assert village.locator("td.below").count() == 1  # 6 copies for 20 residents: below 0.8
    assert "未达基本标准的农家书屋" in page.locator("#bookshops h2").inner_text()
    assert fits(page)
    screenshot(page, f"figures-{viewport['width']}")
    with page.expect_download() as download:
        page.locator("#holdings a", has_text="XLSX").first.click()
    name = download.value.suggested_filename
    assert name.endswith(".xlsx")
    download.value.save_as(tmp_path / name)
    sheet = load_workbook(tmp_path / name).active
    header = [c.value for c in next(sheet.iter_rows(max_row=1))]
    assert "人均藏书" in " ".join(str(h) for h in header)
    page.close()


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=["kiosk", "phone"])
def test_plan_5_planner_page_unticks_a_copy_and_plans_the_batch(browser, admin_url, year, viewport):
    from circulation.rotation.models import RotationBatch

    before = set(year.scalars(select(RotationBatch.id)))
    page = browser.new_page(viewport=viewport)
    sign_in(page, admin_url, "boss", "password-123")
    page.get_by_role("link", name="图书流转").click()
    page.wait_for_url("**/staff/rotation/")  # count() does not wait for the page it follows
    assert page.locator("tr[data-batch]").count() == 1  # the scripted year's spring batch
    assert fits(page)
    screenshot(page, f"rotation-{viewport['width']}")
    page.get_by_role("link", name="流转方案").first.click()
    proposal = page.locator('section.proposal[data-code="QX01V01"]')
    proposal.wait_for()
    assert proposal.locator("input[type=checkbox]").count() == 6
    assert "藏书 6 → 12 册" in proposal.inner_text()
    assert fits(page)
    screenshot(page, f"rotation-plan-{viewport['width']}")
    proposal.get_by_label("IDLE00").uncheck()
    page.get_by_role("button", name="计划这些批次").click()
    page.wait_for_selector(".flash, .alert")
    assert "已计划 1 个批次" in page.content()
    year.expire_all()
    [batch] = year.scalars(select(RotationBatch).where(RotationBatch.id.not_in(before)))
    assert sorted(c.copy.barcode for c in batch.copies) == [f"IDLE{n:02d}" for n in range(1, 6)]
    page.goto(admin_url + f"/staff/rotation/{batch.id}")
    assert fits(page)
    screenshot(page, f"rotation-batch-{viewport['width']}")
    page.close()
