"""Today in a real browser: sign in, work the agenda in place, on a desktop and a phone,
with the keyboard."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from keepwell import db
from keepwell.accounts.models import WebSession
from keepwell.promises import service as promises
from keepwell.promises.models import Promise, PromiseUpdate
from keepwell.tasks.models import Task
from keepwell.touches.models import Touch
from tests.web.conftest import ADMIN, PASSWORD, PHONE, World, shoot, sign_in


def _mark(tab: Any) -> None:
    """Remember this page load: a full reload forgets the mark."""
    tab.evaluate("window.keepwellMark = 1")


def _same_page(tab: Any) -> bool:
    return bool(tab.evaluate("window.keepwellMark === 1"))


def _id_of(item: Any) -> int:
    return int(item.get_attribute("id").rsplit("-", 1)[1])


def test_signing_in_leads_to_today_and_back_where_one_was_going(page: Any) -> None:
    page.goto("/customers/7")
    assert "/sign-in?next=/customers/7" in page.url
    page.get_by_label("Password").fill("not the password")
    page.get_by_label("E-mail address").fill(ADMIN)
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("alert").inner_text() == "Wrong e-mail address or password."
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/customers/7")
    page.goto("/")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Today")
    assert page.locator("li.item").count() > 10
    # every item says why it is there
    assert all(text.strip() for text in page.locator("li.item .reason").all_inner_texts())
    shoot(page, "today")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/sign-in")
    page.goto("/")
    assert "/sign-in" in page.url


def test_log_a_call_updates_the_item_in_place_and_the_database(
    signed_in_page: Any, world: World
) -> None:
    tab = signed_in_page
    item = tab.locator("#group-quiet li.item").first
    key = item.get_attribute("id")
    customer_id = _id_of(item)
    _mark(tab)
    item.get_by_role("link", name="Log a call").click()
    item.get_by_label("Summary").fill("Talked about the new espresso blend; will order Friday")
    item.get_by_role("button", name="Log it").click()
    done = tab.locator(f"#{key}.done")
    done.wait_for()
    assert "Logged: call" in done.inner_text()
    assert _same_page(tab)
    touch = world.scalar(
        sa.select(Touch).where(
            Touch.customer_id == customer_id, Touch.summary.like("Talked about the new espresso%")
        )
    )
    assert touch is not None and touch.channel == "call"


def test_keep_a_promise_in_one_click(signed_in_page: Any, world: World) -> None:
    tab = signed_in_page
    item = tab.locator("#group-promise_overdue li.item").first
    key = item.get_attribute("id")
    promise_id = _id_of(item)
    _mark(tab)
    item.get_by_role("button", name="Mark kept").click()
    tab.locator(f"#{key}.done").wait_for()
    assert "Promise kept (late)" in tab.locator(f"#{key}").inner_text()
    assert _same_page(tab)
    assert world.scalar(sa.select(Promise.status).where(Promise.id == promise_id)) == "kept_late"


def test_post_a_progress_update_with_a_new_due_date(signed_in_page: Any, world: World) -> None:
    tab = signed_in_page
    item = tab.locator("li.item.promise_overdue, li.item.promise_due").first
    key = item.get_attribute("id")
    promise_id = _id_of(item)
    _mark(tab)
    item.get_by_role("link", name="Progress update").click()
    item.get_by_label("What you told them").fill("Still waiting for the supplier; next week")
    item.get_by_label("New due date (optional)").fill("2099-03-01")
    item.get_by_role("button", name="Log the update").click()
    tab.locator(f"#{key}.done").wait_for()
    assert "Progress update logged" in tab.locator(f"#{key}").inner_text()
    assert _same_page(tab)
    update = world.scalar(sa.select(PromiseUpdate).where(PromiseUpdate.promise_id == promise_id))
    assert update is not None and update.note == "Still waiting for the supplier; next week"
    promise = world.scalar(sa.select(Promise).where(Promise.id == promise_id))
    assert promise.due_at.date().isoformat() == "2099-03-01" and promise.slips == 1


def test_snooze_and_complete_tasks(signed_in_page: Any, world: World) -> None:
    tab = signed_in_page
    items = tab.locator("#group-task li.item")
    assert items.count() >= 2
    first, second = items.nth(0), items.nth(1)
    first_key, second_key = first.get_attribute("id"), second.get_attribute("id")
    first_id, second_id = _id_of(first), _id_of(second)
    first.get_by_label("Snooze for").select_option("3")
    first.get_by_role("button", name="Snooze").click()
    tab.locator(f"#{first_key}.done").wait_for()
    second.get_by_role("link", name="Done").click()
    second.get_by_label("Outcome").fill("Sent the card with a handwritten note")
    second.get_by_label("How").select_option("letter")
    second.get_by_role("button", name="Complete the task").click()
    tab.locator(f"#{second_key}.done").wait_for()
    snoozed = world.scalar(sa.select(Task).where(Task.id == first_id))
    assert snoozed.status == "open" and snoozed.snoozed_until is not None
    finished = world.scalar(sa.select(Task).where(Task.id == second_id))
    assert finished.status == "done" and finished.outcome.startswith("Sent the card")


def test_today_fits_a_phone(browser: Any, served: Any) -> None:
    context = browser.new_context(viewport=PHONE, base_url=served.url, is_mobile=True)
    context.set_default_timeout(30_000)
    context.set_default_navigation_timeout(60_000)
    tab = context.new_page()
    try:
        sign_in(tab)
        assert tab.get_by_role("heading", level=1).inner_text().startswith("Today")
        assert tab.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        assert tab.get_by_role("navigation", name="Main").is_visible()
        first = tab.locator("li.item").first
        box = first.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
        shoot(tab, "today-phone")
        tab.goto(first.locator("a.who").get_attribute("href"))
        assert tab.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    finally:
        context.close()


def test_the_keyboard_reaches_the_sign_in_button_and_signs_in(page: Any) -> None:
    page.goto("/sign-in")
    assert page.evaluate("document.activeElement.id") == "email"  # autofocus
    page.keyboard.type(ADMIN)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Tab")
    focused = page.evaluate("[document.activeElement.tagName, document.activeElement.textContent]")
    assert focused == ["BUTTON", "Sign in"]
    page.keyboard.press("Enter")
    page.wait_for_url("**/")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Today")
    page.keyboard.press("Tab")  # the first stop on every page: skip to the content
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    # every form control on Today has a label
    unlabelled = page.evaluate(
        """[...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
           .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label'))
           .map(el => el.name)"""
    )
    assert unlabelled == []


def test_a_promise_kept_meanwhile_elsewhere_says_so_beside_the_button(
    signed_in_page: Any, world: World
) -> None:
    tab = signed_in_page
    item = tab.locator("#group-promise_overdue li.item").first
    key = item.get_attribute("id")
    promise_id = _id_of(item)
    with db.transaction(world.engine) as session:  # a colleague keeps it in the meantime
        promises.complete_promise(session, promises.get_promise(session, promise_id))
    item.get_by_role("button", name="Mark kept").click()
    refusal = tab.locator(f"#keep-{key}-error .error")
    refusal.wait_for()
    assert "it is kept" in refusal.inner_text()
    assert tab.locator(f"#{key}.done").count() == 0


def test_a_session_ended_elsewhere_leads_to_sign_in_and_back(
    signed_in_page: Any, world: World
) -> None:
    tab = signed_in_page
    item = tab.locator("#group-quiet li.item").first
    item.get_by_role("link", name="Log a call").click()
    item.get_by_label("Summary").fill("This will not be logged")
    with db.transaction(world.engine) as session:  # signed out everywhere (a new password)
        session.execute(sa.delete(WebSession))
    item.get_by_role("button", name="Log it").click()
    tab.wait_for_url("**/sign-in**")
    assert world.scalar(sa.select(sa.func.count()).select_from(Touch).where(
        Touch.summary == "This will not be logged")) == 0  # fmt: skip
    sign_in(tab, path=tab.url.removeprefix(tab.url.split("/sign-in")[0]))
    assert tab.get_by_role("heading", level=1).inner_text().startswith("Today")


def test_a_record_gone_meanwhile_is_reported_on_the_page(signed_in_page: Any, world: World) -> None:
    tab = signed_in_page
    item = tab.locator("#group-task li.item").first
    task_id = _id_of(item)
    with db.transaction(world.engine) as session:
        session.execute(sa.delete(Task).where(Task.id == task_id))
    item.get_by_role("button", name="Snooze").click()
    box = tab.locator("#page-error")
    box.wait_for()
    assert "404" in box.inner_text() and f"no task #{task_id}" in box.inner_text()
