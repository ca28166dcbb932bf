"""Tasks: never twice for one reason, completing logs the interaction, snooze, reassign."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from keepwell import clock
from keepwell.accounts.models import TeamMember
from keepwell.customers.models import Customer
from keepwell.db import transaction
from keepwell.errors import Conflict, InvalidInput, NotFound
from keepwell.tasks import service
from keepwell.tasks.completion import complete_task
from keepwell.tasks.models import Task
from keepwell.tasks.service import (
    TaskFilter,
    cancel_task,
    create_task,
    describe,
    get_task,
    list_tasks,
    open_task,
    reassign_task,
    snooze_task,
)
from keepwell.touches.models import Touch

TODAY = "2026-11-25"
DAY = date(2026, 11, 25)


def member(session: Session, email: str = "ana@example.com", active: bool = True) -> TeamMember:
    row = TeamMember(email=email, name=email.split("@")[0].title(), active=active)
    session.add(row)
    session.flush()
    return row


def customer(session: Session, name: str = "Bea", owner: TeamMember | None = None) -> Customer:
    row = Customer(
        name=name,
        owner_id=owner.id if owner else None,
        first_seen=datetime(2025, 1, 10, tzinfo=UTC),
        personal_notes="two kids, loves trail running",
    )
    session.add(row)
    session.flush()
    return row


def count(session: Session, model: type[Task] | type[Touch]) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(model)) or 0


def test_create_defaults_to_the_owner_and_the_personal_context(engine: Engine) -> None:
    with clock.frozen(TODAY), transaction(engine) as session:
        ana = member(session)
        bea = customer(session, owner=ana)
        task = create_task(
            session, bea, kind="Follow_Up", due_on=DAY, reason="  Ask how the  trial went. "
        )
        assert (task.member_id, task.kind, task.status, task.source) == (
            ana.id,
            "follow_up",
            "open",
            "person",
        )
        assert task.reason == "Ask how the trial went."
        assert task.dedupe_key == "follow_up:ask how the trial went."
        assert "trail running" in task.context
        assert open_task(session, bea.id, "follow_up:Ask how the trial went.") is task


def test_the_same_reason_is_never_a_second_task_even_once_done(engine: Engine) -> None:
    with clock.frozen(TODAY), transaction(engine) as session:
        bea = customer(session, owner=member(session))
        first = create_task(session, bea, kind="follow_up", due_on=DAY, reason="Ask about X.")
        again = create_task(session, bea, kind="follow_up", due_on=DAY, reason="ask  about x.")
        assert again.id == first.id
        complete_task(session, first, outcome="All good.")
        after = create_task(
            session, bea, kind="follow_up", due_on=DAY + timedelta(days=9), reason="Ask about X."
        )
        assert after.id == first.id and after.status == "done" and after.due_on == DAY
        assert open_task(session, bea.id, first.dedupe_key) is None
        other = create_task(session, bea, kind="follow_up", due_on=DAY, reason="Ask about Y.")
        keyed = create_task(
            session, bea, kind="confirm_case", due_on=DAY, reason="Confirm.", dedupe_key="case:1"
        )
        keyed_again = create_task(
            session,
            bea,
            kind="confirm_case",
            due_on=DAY,
            reason="Other words.",
            dedupe_key="case:1",
        )
        assert other.id != first.id and keyed_again.id == keyed.id
        assert count(session, Task) == 3


def test_long_reasons_keep_distinct_keys_within_200_characters(engine: Engine) -> None:
    with clock.frozen(TODAY), transaction(engine) as session:
        bea = customer(session)
        head = "word " * 100
        one = create_task(session, bea, kind="note", due_on=DAY, reason=head + "one")
        two = create_task(session, bea, kind="note", due_on=DAY, reason=head + "two")
        assert one.id != two.id
        assert len(one.dedupe_key) <= 200 and len(two.dedupe_key) <= 200
        assert create_task(session, bea, kind="note", due_on=DAY, reason=head + "one") is one


def test_a_concurrent_creator_loses_to_the_unique_constraint(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    with clock.frozen(TODAY), transaction(engine) as session:
        bea = customer(session)
        first = create_task(session, bea, kind="follow_up", due_on=DAY, reason="Call back.")
        # As if another process inserted it between our look-up and our insert:
        real = service.find_task
        calls: list[int] = []

        def racing(session: Session, customer_id: int, key: str) -> Task | None:
            calls.append(1)
            return None if len(calls) == 1 else real(session, customer_id, key)

        monkeypatch.setattr(service, "find_task", racing)
        again = create_task(session, bea, kind="follow_up", due_on=DAY, reason="Call back.")
        assert again.id == first.id and len(calls) == 2
        # the savepoint kept the transaction usable
        create_task(session, bea, kind="follow_up", due_on=DAY, reason="Another thing.")
    with transaction(engine) as session:
        assert count(session, Task) == 2


def test_two_sessions_creating_the_same_task_at_once_make_one(engine: Engine) -> None:
    if engine.dialect.name == "sqlite":
        pytest.skip("SQLite runs one writer at a time: the race cannot happen there")
    with transaction(engine) as session:
        bea_id = customer(session).id
    barrier = threading.Barrier(2, timeout=10)
    ids: list[int] = []
    failures: list[BaseException] = []

    def create() -> None:
        try:
            with transaction(engine) as session:
                bea = session.get(Customer, bea_id)
                assert bea is not None
                assert service.find_task(session, bea_id, "follow_up:race.") is None
                barrier.wait()
                task = create_task(session, bea, kind="follow_up", due_on=DAY, reason="Race.")
                ids.append(task.id)
        except BaseException as exc:  # reported below
            failures.append(exc)

    threads = [threading.Thread(target=create) for _ in range(2)]
    with clock.frozen(TODAY):  # the clock is process-wide: fix it once, around both
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert not failures
    assert len(ids) == 2 and ids[0] == ids[1]
    with transaction(engine) as session:
        assert count(session, Task) == 1


def test_reason_and_kind_are_checked(engine: Engine) -> None:
    with clock.frozen(TODAY), transaction(engine) as session:
        bea = customer(session)
        for kwargs, field in (
            ({"reason": "   "}, "reason"),
            ({"reason": "x" * 1001}, "reason"),
            ({"reason": "Fine.", "kind": ""}, "kind"),
            ({"reason": "Fine.", "kind": "k" * 41}, "kind"),
        ):
            args = {"kind": "follow_up", **kwargs}
            with pytest.raises(InvalidInput) as caught:
                create_task(session, bea, due_on=DAY, **args)  # type: ignore[arg-type]
            assert caught.value.field == field
        assert count(session, Task) == 0


def test_completing_logs_a_touch_and_moves_the_next_check_in(engine: Engine) -> None:
    with clock.frozen(TODAY) as now, transaction(engine) as session:
        ana = member(session)
        bea = customer(session, owner=ana)
        task = create_task(session, bea, kind="follow_up", due_on=DAY, reason="Ask about X.")
        complete_task(session, task, outcome="Happy with X.", channel="email")
        assert (task.status, task.outcome, task.completed_at) == ("done", "Happy with X.", now)
        touch = session.scalars(sa.select(Touch)).one()
        assert (touch.channel, touch.direction, touch.summary, touch.member_id) == (
            "email",
            "outbound",
            "Happy with X.",
            ana.id,
        )
        assert bea.last_contact_at == now and bea.last_outbound_at == now
        assert bea.next_check_in_at == now + timedelta(days=90)


def test_completing_without_outcome_logs_the_reason_and_none_logs_nothing(engine: Engine) -> None:
    with clock.frozen(TODAY), transaction(engine) as session:
        bea = customer(session)
        one = create_task(session, bea, kind="follow_up", due_on=DAY, reason="Ask about X.")
        two = create_task(session, bea, kind="follow_up", due_on=DAY, reason="Ask about Y.")
        complete_task(session, one)
        complete_task(session, two, channel=None)
        assert [t.summary for t in session.scalars(sa.select(Touch))] == ["Ask about X."]
        assert two.status == "done"


def test_snooze_hides_a_task_from_the_default_list_until_the_day(engine: Engine) -> None:
    with clock.frozen(TODAY), transaction(engine) as session:
        bea = customer(session)
        task = create_task(session, bea, kind="follow_up", due_on=DAY, reason="Ask about X.")
        snooze_task(session, task, until=date(2026, 11, 28))
        assert task.due_on == DAY and task.snoozed_until == date(2026, 11, 28)
        assert list_tasks(session, TaskFilter()) == []
        assert list_tasks(session, TaskFilter(include_snoozed=True)) == [task]
    with clock.frozen("2026-11-28"), transaction(engine) as session:
        assert [t.id for t in list_tasks(session, TaskFilter())] == [task.id]


def test_reassign(engine: Engine) -> None:
    with clock.frozen(TODAY), transaction(engine) as session:
        ana, cy = member(session), member(session, "cy@example.com")
        gone = member(session, "gone@example.com", active=False)
        task = create_task(
            session, customer(session, owner=ana), kind="follow_up", due_on=DAY, reason="X."
        )
        reassign_task(session, task, cy)
        assert task.member_id == cy.id
        assert list_tasks(session, TaskFilter(member_id=cy.id)) == [task]
        assert list_tasks(session, TaskFilter(member_id=ana.id)) == []
        with pytest.raises(InvalidInput, match="not an active team member") as caught:
            reassign_task(session, task, gone)
        assert caught.value.field == "member"
        assert task.member_id == cy.id


@pytest.mark.parametrize(
    "close, action, field",
    [
        ("done", lambda s, t: complete_task(s, t, outcome="again"), "status"),
        ("done", lambda s, t: cancel_task(s, t, reason="no"), "status"),
        ("cancelled", lambda s, t: snooze_task(s, t, until=date(2026, 12, 1)), "status"),
        ("cancelled", lambda s, t: reassign_task(s, t, None), "status"),
        ("cancelled", lambda s, t: complete_task(s, t), "status"),
        ("open", lambda s, t: snooze_task(s, t, until=DAY), "until"),
        ("open", lambda s, t: complete_task(s, t, channel="pigeon"), "channel"),
    ],
)
def test_invalid_transitions_write_nothing(
    engine: Engine, close: str, action: object, field: str
) -> None:
    with clock.frozen(TODAY), transaction(engine) as session:
        task = create_task(session, customer(session), kind="follow_up", due_on=DAY, reason="X.")
        if close == "done":
            complete_task(session, task, outcome="Done.")
        elif close == "cancelled":
            cancel_task(session, task, reason="Not needed.")
        task_id = task.id
    with transaction(engine) as session:
        before = describe(session, [get_task(session, task_id)])
        touches = count(session, Touch)
    # the caller commits anyway: nothing may have been written
    with (
        clock.frozen(TODAY),
        transaction(engine) as session,
        pytest.raises(InvalidInput) as caught,
    ):
        action(session, get_task(session, task_id))  # type: ignore[operator]
    assert caught.value.field == field
    with transaction(engine) as session:
        assert describe(session, [get_task(session, task_id)]) == before
        assert count(session, Touch) == touches


def test_filters(engine: Engine) -> None:
    with clock.frozen(TODAY), transaction(engine) as session:
        ana, cy = member(session), member(session, "cy@example.com")
        bea, dan = customer(session, owner=ana), customer(session, "Dan", owner=cy)
        late = create_task(session, bea, kind="follow_up", due_on=DAY, reason="A.")
        soon = create_task(session, bea, kind="thank_you", due_on=DAY + timedelta(3), reason="B.")
        dans = create_task(session, dan, kind="follow_up", due_on=DAY - timedelta(1), reason="C.")
        done = create_task(session, dan, kind="follow_up", due_on=DAY, reason="D.")
        complete_task(session, done, channel=None)

        def ids(**kwargs: object) -> list[int]:
            return [t.id for t in list_tasks(session, TaskFilter(**kwargs))]  # type: ignore[arg-type]

        assert ids() == [dans.id, late.id, soon.id]
        assert ids(member_id=ana.id) == [late.id, soon.id]
        assert ids(customer_id=dan.id) == [dans.id]
        assert ids(customer_id=dan.id, status=None) == [dans.id, done.id]
        assert ids(status="done") == [done.id]
        assert ids(kind="thank_you") == [soon.id]
        assert ids(due_on_or_before=DAY) == [dans.id, late.id]
        assert ids(limit=1) == [dans.id]
        rows = describe(session, [dans])
        assert rows[0]["customer"] == "Dan" and rows[0]["member"] == "cy@example.com"
    for bad in ({"status": "later"}, {"limit": 0}, {"limit": 501}):
        with pytest.raises(InvalidInput) as caught:
            TaskFilter(**bad)  # type: ignore[arg-type]
        assert caught.value.field == next(iter(bad))


def test_get_task_of_an_unknown_id(engine: Engine) -> None:
    with transaction(engine) as session, pytest.raises(NotFound, match="no task #404"):
        get_task(session, 404)


def test_a_task_changed_meanwhile_is_not_overwritten(engine: Engine) -> None:
    with clock.frozen(TODAY), transaction(engine) as session:
        task_id = create_task(
            session, customer(session), kind="follow_up", due_on=DAY, reason="X."
        ).id
    with clock.frozen(TODAY), transaction(engine) as mine:
        stale = get_task(mine, task_id)  # read, then someone else completes it
        with transaction(engine) as theirs:
            complete_task(theirs, get_task(theirs, task_id), outcome="Theirs.")
        # PostgreSQL: the version check refuses the update. SQLite: a write from a
        # read snapshot that is out of date is refused outright (SQLITE_BUSY_SNAPSHOT).
        expected: tuple[type[Exception], str] = (
            (Conflict, "changed by someone else meanwhile")
            if engine.dialect.name == "postgresql"
            else (sa.exc.OperationalError, "database is locked")
        )
        with pytest.raises(expected[0], match=expected[1]):
            cancel_task(mine, stale, reason="Mine.")
        mine.rollback()
    with transaction(engine) as session:
        task = get_task(session, task_id)
        assert (task.status, task.outcome) == ("done", "Theirs.")
