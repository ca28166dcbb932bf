"""The dashboards and lists in a real browser (Playwright driving Debian's Chromium):
the charts render with their printed values, on a desktop and on a phone."""

from __future__ import annotations

from typing import Any

from tests.web.conftest import PHONE, shoot, sign_in


def test_dashboard_charts_render(signed_in_page: Any) -> None:
    page = signed_in_page
    page.get_by_role("link", name="Dashboards").click()
    page.wait_for_load_state()
    assert page.title().startswith("Dashboards")
    charts = page.locator("svg.chart")
    assert charts.count() == 6
    for i in range(charts.count()):
        box = charts.nth(i).bounding_box()
        assert box is not None and box["width"] > 300 and box["height"] > 60, i
    # values are printed as text, readable without hovering
    retention = page.get_by_role("img", name="Retention and churn by month")
    assert retention.locator("text").filter(has_text="%").count() > 5
    funnel = page.get_by_role("img", name="The hourglass: how far customers got")
    assert funnel.locator("text").filter(has_text="went no further").count() >= 1
    shoot(page, "dashboard")
    # the numbers behind a chart open from the keyboard
    summary = page.locator("#retention summary")
    summary.focus()
    page.keyboard.press("Enter")
    assert page.locator("#retention table").is_visible()


def test_dashboards_and_lists_fit_a_phone(browser: Any, served: Any) -> None:
    context = browser.new_context(viewport=PHONE, base_url=served.url)
    try:
        tab = context.new_page()
        sign_in(tab, path="/dashboards")
        assert tab.locator("svg.chart").first.is_visible()
        for path in ("/dashboards", "/customers", "/promises?owner=anyone", "/admin/audit"):
            tab.goto(path)
            overflow = tab.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 1, (path, overflow)  # wide tables scroll inside their box
        tab.goto("/customers")
        tab.get_by_label("Stage").select_option("at_risk")
        tab.get_by_role("button", name="Show").click()
        tab.wait_for_load_state()
        assert "stage=at_risk" in tab.url
        assert tab.locator("tbody tr").count() >= 1
        shoot(tab, "customers-phone")
    finally:
        context.close()
