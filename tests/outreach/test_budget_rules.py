"""The contact budget, quiet hours and consent, rule by rule at their edges."""

from __future__ import annotations

from dataclasses import FrozenInstanceError
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine

from keepwell import clock, db
from keepwell.customers.models import Customer
from keepwell.errors import InvalidInput
from keepwell.outreach import budget
from keepwell.outreach.models import Message
from tests.outreach.test_outreach import NOON, queue, world  # noqa: F401 - the fixture

UTC_ZONE = ZoneInfo("UTC")


def at(hour: int, minute: int = 0, day: int = 25) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def test_quiet_hours_over_midnight() -> None:
    quiet = budget.check_quiet("20:00", "08:00", "UTC")
    assert [quiet.contains(at(h, m)) for h, m in [(19, 59), (20, 0), (23, 0), (0, 0), (7, 59), (8, 0)]] == [
        False, True, True, True, True, False,
    ]  # fmt: skip
    assert quiet.next_open(at(21, 30)) == at(8, 0, day=26)  # the next morning
    assert quiet.next_open(at(6, 0)) == at(8, 0)  # the same morning
    assert quiet.next_open(at(12, 0)) == at(12, 0)  # open: now


def test_quiet_hours_within_a_day_and_none() -> None:
    lunch = budget.check_quiet("12:00", "13:00", "UTC")
    assert [lunch.contains(at(h, m)) for h, m in [(11, 59), (12, 0), (12, 59), (13, 0)]] == [
        False, True, True, False,
    ]  # fmt: skip
    assert lunch.next_open(at(12, 30)) == at(13, 0)
    never = budget.check_quiet("09:00", "09:00", "UTC")
    assert not never.contains(at(9, 0)) and never.next_open(at(9, 0)) == at(9, 0)


def test_quiet_hours_are_the_desks_local_hours() -> None:
    quiet = budget.check_quiet("20:00", "08:00", "Europe/Lisbon")  # UTC+0 in November
    berlin = budget.check_quiet("20:00", "08:00", "Europe/Berlin")  # UTC+1
    assert not quiet.contains(at(19, 30)) and berlin.contains(at(19, 30))
    # Berlin's 08:00 is 07:00 UTC; the answer keeps the moment's own zone
    assert berlin.next_open(at(19, 30)) == at(7, 0, day=26)
    assert berlin.next_open(at(19, 30)).tzinfo == UTC


def test_budget_limits() -> None:
    assert budget.check_budget(0, 1) == budget.Budget(0, 1)
    assert budget.check_budget(100, 366) == budget.Budget(100, 366)
    for messages, days, field in [
        (-1, 14, "messages"), (101, 14, "messages"), (True, 14, "messages"), (2.0, 14, "messages"),
        (2, 0, "days"), (2, 367, "days"), (2, False, "days"), (2, "14", "days"),
    ]:  # fmt: skip
        with pytest.raises(InvalidInput) as refused:
            budget.check_budget(messages, days)
        assert refused.value.field == field


def test_quiet_hours_refuse_what_is_not_a_time_or_a_zone() -> None:
    for start, end in [("8pm", "08:00"), ("20:00", ""), (None, "08:00")]:
        with pytest.raises(InvalidInput) as refused:
            budget.check_quiet(start, end, "UTC")  # type: ignore[arg-type]
        assert refused.value.field == "quiet_hours"
    for zone in ["Mars/Olympus", "", None]:
        with pytest.raises(InvalidInput) as refused:
            budget.check_quiet("20:00", "08:00", zone)  # type: ignore[arg-type]
        assert refused.value.field == "timezone"
    assert budget.check_quiet("20:00", "08:00", "UTC") == budget.QuietHours(
        time(20), time(8), UTC_ZONE
    )


def customer(email: str | None = "ann@example.org", *, opted_out: bool = False, consent: bool = False) -> Customer:
    return Customer(
        name="Ann", email=email, marketing_consent=consent,
        opted_out_at=NOON if opted_out else None,
    )  # fmt: skip


def test_who_may_be_emailed() -> None:
    assert budget.may_email(customer(), "service") is None
    assert budget.may_email(customer(consent=True), "marketing") is None
    assert budget.may_email(customer(), "marketing") == "no marketing consent"
    assert budget.may_email(customer(None), "service") == "no e-mail address"
    assert budget.may_email(customer(""), "service") == "no e-mail address"
    assert budget.may_email(customer("ann.example.org"), "service") == "no e-mail address"
    assert budget.may_email(customer(opted_out=True, consent=True), "service") == "opted out"
    assert budget.may_email(customer(opted_out=True, consent=True), "marketing") == "opted out"


def test_the_defaults_and_what_is_stored(engine: Engine) -> None:
    with db.transaction(engine) as session:
        assert budget.budget(session) == budget.Budget(2, 14)
        quiet = budget.quiet_hours(session)
        assert quiet == budget.QuietHours(time(20), time(8), UTC_ZONE)
        budget.set_budget(session, 3, 7)
        budget.set_quiet_hours(session, "22:00", "06:30", "Europe/Berlin")
    with db.transaction(engine) as session:
        assert budget.budget(session) == budget.Budget(3, 7)
        assert budget.quiet_hours(session) == budget.QuietHours(
            time(22), time(6, 30), ZoneInfo("Europe/Berlin")
        )


def test_the_window_is_the_last_days_of_the_budget(
    engine: Engine,
    world: dict[str, int],  # noqa: F811
) -> None:
    with clock.frozen(NOON):
        first = queue(engine, world["bea"], "a").message
        assert first is not None
    with db.transaction(engine) as session:
        rule = budget.Budget(2, 14)
        ids = [world["bea"], world["carl"]]
        assert budget.used(session, ids, NOON, rule) == {world["bea"]: 1}
        # queued exactly 14 days before: out of the window; a moment later: in it
        assert budget.used(session, ids, NOON + timedelta(days=14), rule) == {}
        later = NOON + timedelta(days=14) - timedelta(seconds=1)
        assert budget.used(session, ids, later, rule) == {world["bea"]: 1}
        assert budget.used(session, [], NOON, rule) == {}
        session.get_one(Message, first.id).status = "cancelled"
    with db.transaction(engine) as session:
        assert budget.used(session, [world["bea"]], NOON, budget.Budget(2, 14)) == {}


def test_the_rules_read_are_values() -> None:
    """An Outbox reads the budget and the quiet hours once for a whole batch: no queueing
    may change them on the way."""
    rule, quiet = budget.check_budget(2, 14), budget.check_quiet("20:00", "08:00", "UTC")
    with pytest.raises(FrozenInstanceError):
        rule.messages = 3  # type: ignore[misc]
    with pytest.raises(FrozenInstanceError):
        quiet.end = time(9)  # type: ignore[misc]
