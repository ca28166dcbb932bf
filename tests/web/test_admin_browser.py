"""The playbook and SMTP admin pages in a real browser (Playwright driving Debian's
Chromium): an admin switches a playbook off from the list, by keyboard; the pages fit
a phone."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from keepwell.playbooks.models import Playbook
from tests.web.conftest import PHONE, World, sign_in


def test_an_admin_switches_a_playbook_off(signed_in_page: Any, world: World) -> None:
    page = signed_in_page
    page.get_by_role("link", name="Admin").click()
    page.get_by_role("link", name="Playbooks").click()
    page.wait_for_load_state()
    assert page.title().startswith("Playbooks")
    row = page.locator("#playbook-birthday-card")
    assert row.get_by_text("on", exact=True).is_visible()
    button = page.get_by_role("button", name="Switch off birthday-card")
    button.focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")  # keyboard only
    row = page.locator("#playbook-birthday-card")
    assert row.get_by_text("off", exact=True).is_visible()
    assert page.get_by_role("button", name="Switch on birthday-card").is_visible()
    assert page.url.endswith("/admin/playbooks#playbook-birthday-card")
    enabled = world.scalar(sa.select(Playbook.enabled).where(Playbook.name == "birthday-card"))
    assert enabled is False


def test_the_playbook_and_smtp_pages_fit_a_phone(browser: Any, served: Any, world: World) -> None:
    playbook_id = world.scalar(sa.select(Playbook.id).where(Playbook.name == "check-in-14-days"))
    context = browser.new_context(viewport=PHONE, base_url=served.url)
    try:
        tab = context.new_page()
        sign_in(tab, path="/admin/playbooks")
        for path in ("/admin/playbooks", f"/admin/playbooks/{playbook_id}", "/admin/smtp"):
            tab.goto(path)
            overflow = tab.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 1, (path, overflow)  # wide tables scroll inside their box
        tab.goto(f"/admin/playbooks/{playbook_id}")
        with tab.expect_navigation():
            tab.get_by_role("button", name="Preview a run today").click()
        assert tab.get_by_role("heading", name="Preview: a run through").is_visible()
        assert tab.get_by_text("Nothing was written.").is_visible()
        assert tab.get_by_label("Trigger parameters (JSON)").input_value().strip().startswith("{")
    finally:
        context.close()
