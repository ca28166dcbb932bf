"""The customer page in a real browser: open a customer from Today, read the record and
the scores, make a promise and log an interaction in place."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from keepwell.promises.models import Promise
from keepwell.touches.models import Touch
from tests.web.conftest import World, shoot


def test_open_a_customer_from_today(signed_in_page: Any, world: World) -> None:
    tab = signed_in_page
    link = tab.locator("#group-quiet li.item a.who").first
    name = link.inner_text()
    link.click()
    tab.wait_for_url("**/customers/*")
    assert tab.get_by_role("heading", level=1).inner_text().startswith(name)
    scores = tab.locator("section[aria-labelledby=h-scores]")
    assert "P(active)" in scores.inner_text() and "Health" in scores.inner_text()
    assert "likely still active" in scores.inner_text() or "Bought once" in scores.inner_text()
    assert tab.locator("#timeline li.order").count() >= 1
    assert tab.get_by_text("Owner").is_visible()
    shoot(tab, "customer", full_page=True)


def test_make_a_promise_from_the_customer_page(signed_in_page: Any, world: World) -> None:
    tab = signed_in_page
    tab.goto("/customers/12")
    tab.evaluate("window.keepwellMark = 1")
    tab.get_by_text("Make a promise").click()
    tab.get_by_label("What you promised").fill("Send the autumn tasting notes")
    tab.get_by_label("Due by (end of the day)").fill("2099-10-01")
    tab.get_by_role("button", name="Record the promise").click()
    tab.get_by_text("Promise recorded.").wait_for()
    assert "Send the autumn tasting notes" in tab.locator("#timeline").inner_text()
    assert tab.evaluate("window.keepwellMark === 1")  # updated in place, no reload
    assert tab.get_by_label("What you promised").input_value() == ""  # the form is reset
    promise = world.scalar(
        sa.select(Promise).where(
            Promise.customer_id == 12, Promise.what == "Send the autumn tasting notes"
        )
    )
    assert promise is not None and promise.status == "open"
    assert promise.due_at.date().isoformat() == "2099-10-01"


def test_log_an_interaction_and_see_a_refusal_beside_the_form(
    signed_in_page: Any, world: World
) -> None:
    tab = signed_in_page
    tab.goto("/customers/15")
    form = tab.locator("#log-form")
    # whitespace passes the browser's `required` but not the service: the reason shows
    form.get_by_label("What happened").fill("   ")
    form.get_by_role("button", name="Log it").click()
    refusal = tab.locator("#log-error .error")
    refusal.wait_for()
    assert refusal.inner_text().startswith("summary:")
    assert form.get_by_label("What happened").input_value() == "   "  # kept to correct
    form.get_by_label("What happened").fill("Met at the fair; loves the new grinder")
    form.get_by_label("Channel").select_option("meeting")
    form.get_by_label("Mood").select_option("positive")
    form.get_by_role("button", name="Log it").click()
    tab.get_by_text("Logged the meeting.").wait_for()
    assert tab.locator("#log-error").inner_text() == ""  # the old refusal is gone
    assert "Met at the fair" in tab.locator("#timeline li.touch").first.inner_text()
    touch = world.scalar(
        sa.select(Touch).where(Touch.customer_id == 15, Touch.channel == "meeting")
        .order_by(Touch.id.desc())
    )  # fmt: skip
    assert touch.summary == "Met at the fair; loves the new grinder"
    assert touch.sentiment == "positive"
