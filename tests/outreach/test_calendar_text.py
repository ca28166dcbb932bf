"""The calendar feed writes text as RFC 5545 allows: no control character but the tab in
any value — a vertical tab pasted from a word processor becomes a line break, other
controls are dropped — and a calendar program reads every value back."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import icalendar
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from keepwell import clock, db
from keepwell.accounts.service import add_member
from keepwell.customers.service import create_customer
from keepwell.customers.special_dates import add_special_date
from keepwell.outreach.calendar import new_feed
from keepwell.promises.service import make_promise
from keepwell.tasks.service import create_task
from keepwell.web.app import create_app

NOON = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
# every control character but the tab (and CR LF, which end the lines of the file)
FORBIDDEN = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")


def test_the_feed_holds_no_control_character_and_reads_back(engine: Engine) -> None:
    with clock.frozen(NOON), db.transaction(engine) as session:
        ana = add_member(session, "ana@shop.example", "Ana\x1b[31m", "member")
        bea = create_customer(session, {"name": "Bea Lima", "owner_id": ana.id})
        create_task(
            session, bea, kind="call", due_on=date(2026, 11, 27), reason="Ask about the grinder",
            context="Loves espresso\vHas a new puppy\x07\fTalks\tfast",
        )  # fmt: skip
        make_promise(
            session, bea, what="Send the manual\x0bthen call, back", due_at=NOON + timedelta(days=2)
        )
        add_special_date(
            session, bea, kind="anniversary", on_date=date(2020, 12, 1), label="Shop\x01 opening"
        )
        token = new_feed(session, ana)
    with clock.frozen(NOON), TestClient(create_app(engine), base_url="https://testserver") as web:
        feed = web.get(f"/ics/{token}.ics")
    assert feed.status_code == 200
    lines = feed.content.split(b"\r\n")
    assert lines[-1] == b""  # every line ends in CR LF
    assert [line for line in lines if FORBIDDEN.search(line)] == []

    calendar = icalendar.Calendar.from_ical(feed.content)
    assert str(calendar["X-WR-CALNAME"]) == "Keepwell: Ana[31m"
    events = {str(e["UID"]).split("-")[0]: e for e in calendar.walk("VEVENT")}
    assert str(events["task"]["DESCRIPTION"]) == (
        "Ask about the grinder\nLoves espresso\nHas a new puppy\nTalks\tfast"
    )
    assert str(events["promise"]["DESCRIPTION"]) == "Send the manual\nthen call, back"
    assert str(events["date"]["SUMMARY"]) == "Shop opening: Bea Lima"
