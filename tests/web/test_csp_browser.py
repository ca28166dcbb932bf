"""The pages still work under their Content-Security-Policy, in a real browser
(Playwright driving Debian's Chromium): htmx forms, the Today actions, charts, lists,
the admin pages and the API's docs — and the browser reports no CSP violation (it
logs each one on the console) and no script error."""

from __future__ import annotations

from typing import Any

from tests.web.conftest import World, sign_in


def watch(tab: Any) -> list[str]:
    """Everything the page complains about: console errors and warnings (a blocked
    script, style or connection is one), and uncaught script errors."""
    problems: list[str] = []
    tab.on(
        "console",
        lambda message: (
            problems.append(f"{message.type}: {message.text}")
            if message.type in ("error", "warning")
            else None
        ),
    )
    tab.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    return problems


def test_the_pages_work_under_the_csp_without_violations(page: Any, world: World) -> None:
    tab = page
    problems = watch(tab)
    sign_in(tab)
    answer = tab.goto("/customers/15")
    assert answer is not None
    policy = answer.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy

    # an htmx form: posted, the record swapped in, and the form emptied by keepwell.js
    form = tab.locator("#log-form")
    form.get_by_label("What happened").fill("Asked about the new grinder")
    form.get_by_role("button", name="Log it").click()
    tab.get_by_text("Logged the call.").wait_for()
    assert "Asked about the new grinder" in tab.locator("#timeline li.touch").first.inner_text()
    assert form.get_by_label("What happened").input_value() == ""

    # Today: an action opens in its slot, and Cancel (no inline handler now) closes it
    tab.goto("/")
    item = tab.locator("#group-quiet li.item").first
    item.get_by_role("link", name="Log a call").click()
    cancel = item.get_by_role("button", name="Cancel")
    cancel.wait_for()
    cancel.click()
    item.get_by_label("Summary").wait_for(state="detached")
    assert item.locator(".slot").inner_html().strip() == ""

    # the styles that moved from the pages into keepwell.css still apply
    tab.goto("/customers")
    display = tab.locator("label[for=f-quiet]").evaluate("e => getComputedStyle(e).display")
    assert display == "inline"
    tab.goto("/dashboards")
    chart = tab.locator(".chart-figure svg").first
    chart.wait_for()
    assert chart.evaluate("e => getComputedStyle(e).display") == "block"

    for path in ("/promises", "/cases", "/tasks", "/admin", "/admin/settings", "/admin/playbooks"):
        assert tab.goto(path).status == 200, path  # type: ignore[union-attr]

    # the API's docs: Swagger UI starts from its own file and draws the operations
    tab.goto("/api/docs")
    tab.locator(".swagger-ui .opblock").first.wait_for()
    assert tab.locator(".swagger-ui .opblock").count() > 20
    tab.locator(".swagger-ui .opblock-summary").first.click()  # an operation, opened
    tab.locator(".swagger-ui .opblock-body").first.wait_for()
    tab.locator(".swagger-ui .models").first.scroll_into_view_if_needed()

    assert problems == []
