"""Cases: first response, resolution with a confirmation task, confirm, reopen, metrics."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from keepwell import clock, db
from keepwell.accounts.models import TeamMember
from keepwell.cases.models import Case
from keepwell.cases.service import (
    CaseFilter,
    case_metrics,
    case_tasks,
    case_touches,
    confirm,
    get_case,
    list_cases,
    open_case,
    reopen,
    resolve,
    respond,
)
from keepwell.customers.models import Customer
from keepwell.errors import InvalidInput, NotFound
from keepwell.tasks.models import Task
from keepwell.touches.models import Touch

NOW = "2026-11-25"  # 12:00 UTC


def at(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def member(
    session: Session, email: str = "joao@keepwell.example", name: str = "João"
) -> TeamMember:
    found = TeamMember(email=email, name=name, role="member")
    session.add(found)
    session.flush()
    return found


def customer(session: Session, owner: TeamMember | None, name: str = "Ana") -> Customer:
    found = Customer(
        name=name,
        email=f"{name.lower()}@example.com",
        owner_id=owner.id if owner is not None else None,
        created_at=at("2026-01-01"),
    )
    session.add(found)
    session.flush()
    return found


def world(engine: Engine) -> tuple[int, int, int]:
    """A member, Ana (whom she owns) and Ana's open case: their ids."""
    with clock.frozen(NOW), db.transaction(engine) as session:
        joao = member(session)
        ana = customer(session, joao)
        case = open_case(session, ana, title="Grinder arrived broken", severity="high")
        return joao.id, ana.id, case.id


def resolved(engine: Engine, case_id: int, when: str = "2026-11-26") -> int:
    with clock.frozen(when), db.transaction(engine) as session:
        task = resolve(
            session,
            get_case(session, case_id),
            resolution="replaced the unit",
            root_cause_category="delivery",
        )
        return task.id


def count(engine: Engine, model: type[db.Base]) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(model)).scalar_one()


def test_open_case_defaults_its_handler_to_the_owner(engine: Engine) -> None:
    joao_id, ana_id, case_id = world(engine)
    with db.transaction(engine) as session:
        case = get_case(session, case_id)
        assert (case.customer_id, case.member_id, case.status) == (ana_id, joao_id, "open")
        assert (case.severity, case.opened_at) == ("high", at("2026-11-25 12:00"))
        assert case.first_response_at is None and case.reopened_count == 0
        with pytest.raises(NotFound, match="no case #999"):
            get_case(session, 999)


@pytest.mark.parametrize(
    ("title", "severity", "field"),
    [("", "normal", "title"), ("x" * 301, "normal", "title"), ("Broken", "critical", "severity")],
)
def test_open_case_refuses_bad_input(engine: Engine, title: str, severity: str, field: str) -> None:
    with clock.frozen(NOW), db.transaction(engine) as session:
        ana = customer(session, None)
        with pytest.raises(InvalidInput) as caught:
            open_case(session, ana, title=title, severity=severity)
        assert caught.value.field == field
    assert count(engine, Case) == 0


def test_first_response_time_is_set_once(engine: Engine) -> None:
    joao_id, ana_id, case_id = world(engine)
    with clock.frozen("2026-11-25T15:30:00+00:00"), db.transaction(engine) as session:
        case = get_case(session, case_id)
        touch = respond(session, case, summary="Sorry! A new one ships today.")
        assert case.first_response_at == at("2026-11-25 15:30")
        assert (touch.case_id, touch.direction, touch.channel) == (case_id, "outbound", "email")
        assert (touch.member_id, touch.customer_id) == (joao_id, ana_id)
    with clock.frozen("2026-11-26"), db.transaction(engine) as session:
        case = get_case(session, case_id)
        respond(session, case, summary="Tracking number: 123", channel="chat")
        assert case.first_response_at == at("2026-11-25 15:30")
        assert [t.summary for t in case_touches(session, case)] == [
            "Sorry! A new one ships today.",
            "Tracking number: 123",
        ]


def test_a_resolved_case_gets_exactly_one_confirmation_task_due_7_days_later(
    engine: Engine,
) -> None:
    joao_id, ana_id, case_id = world(engine)
    task_id = resolved(engine, case_id)
    with db.transaction(engine) as session:
        case = get_case(session, case_id)
        assert (case.status, case.resolved_at) == ("resolved", at("2026-11-26 12:00"))
        assert (case.resolution, case.root_cause_category) == ("replaced the unit", "delivery")
        task = session.scalars(sa.select(Task)).one()
        assert task.id == task_id
        assert (task.kind, task.status, task.source) == ("confirm_case", "open", "case")
        assert (task.customer_id, task.member_id, task.case_id) == (ana_id, joao_id, case_id)
        assert task.due_on == date(2026, 12, 3)
        assert task.dedupe_key == f"confirm-case:{case_id}:0"
        assert task.reason == (
            "Check that Ana is really satisfied: case 'Grinder arrived broken' was resolved "
            "7 days ago (replaced the unit)."
        )


def test_confirm_after_days_sets_the_due_date(engine: Engine) -> None:
    _, _, case_id = world(engine)
    with clock.frozen(NOW), db.transaction(engine) as session:
        task = resolve(
            session,
            get_case(session, case_id),
            resolution="refunded",
            root_cause_category="billing",
            root_cause="double charge",
            prevention="payment retries are idempotent now",
            confirm_after_days=3,
        )
        assert task.due_on == date(2026, 11, 28)
        assert "resolved 3 days ago (refunded)" in task.reason


def test_a_silent_customer_does_not_close_the_case(engine: Engine) -> None:
    _, _, case_id = world(engine)
    task_id = resolved(engine, case_id)
    with clock.frozen("2027-02-01"), db.transaction(engine) as session:
        case = get_case(session, case_id)
        assert case.status == "resolved" and case.confirmed_at is None
        assert session.get(Task, task_id).status == "open"  # type: ignore[union-attr]
        assert [c.id for c in list_cases(session, CaseFilter(status="resolved"))] == [case_id]


def test_confirming_completes_the_confirmation_task(engine: Engine) -> None:
    _, ana_id, case_id = world(engine)
    task_id = resolved(engine, case_id)
    with clock.frozen("2026-12-03"), db.transaction(engine) as session:
        case = confirm(session, get_case(session, case_id), note="Works perfectly, she says")
        assert (case.status, case.confirmed_at) == ("confirmed", at("2026-12-03 12:00"))
    with db.transaction(engine) as session:
        task = session.get(Task, task_id)
        assert task is not None
        assert (task.status, task.outcome) == ("done", "Works perfectly, she says")
        touch = session.scalars(sa.select(Touch)).one()
        assert (touch.channel, touch.case_id, touch.customer_id) == ("call", case_id, ana_id)
        ana = session.get(Customer, ana_id)
        assert ana is not None and ana.last_contact_at == at("2026-12-03 12:00")


def test_reopen_cancels_the_task_and_resolving_again_makes_a_new_one(engine: Engine) -> None:
    _, _, case_id = world(engine)
    first_id = resolved(engine, case_id)
    with clock.frozen("2026-11-28"), db.transaction(engine) as session:
        case = reopen(session, get_case(session, case_id), reason="The new one leaks too")
        assert (case.status, case.reopened_count) == ("open", 1)
        assert case.last_reopened_at == at("2026-11-28 12:00")
        assert case.resolved_at is None
        note = session.scalars(sa.select(Touch)).one()
        assert (note.channel, note.direction, note.case_id) == ("note", "inbound", case_id)
        assert note.member_id == case.member_id
        assert note.summary == "Case reopened: The new one leaks too"
    second_id = resolved(engine, case_id, when="2026-11-30")
    with db.transaction(engine) as session:
        case = get_case(session, case_id)
        tasks = case_tasks(session, case)
        assert [(t.id, t.status) for t in tasks] == [(first_id, "cancelled"), (second_id, "open")]
        assert tasks[0].outcome == "case reopened: The new one leaks too"
        assert tasks[1].dedupe_key == f"confirm-case:{case_id}:1"
        assert tasks[1].due_on == date(2026, 12, 7)
    with clock.frozen("2026-12-07"), db.transaction(engine) as session:
        confirm(session, get_case(session, case_id))
        assert session.get(Task, second_id).status == "done"  # type: ignore[union-attr]
        reopen(session, get_case(session, case_id), reason="Broke again in January")
        assert get_case(session, case_id).status == "open"
    assert count(engine, Task) == 2


@pytest.mark.parametrize("action", ["confirm", "reopen"])
def test_invalid_transitions_on_an_open_case_write_nothing(engine: Engine, action: str) -> None:
    _, _, case_id = world(engine)
    with clock.frozen("2026-11-26"), db.transaction(engine) as session:
        case = get_case(session, case_id)
        with pytest.raises(InvalidInput) as caught:
            if action == "confirm":
                confirm(session, case, note="fine")
            else:
                reopen(session, case, reason="again")
        assert caught.value.field == "status"
        session.flush()
    with db.transaction(engine) as session:
        case = get_case(session, case_id)
        assert (case.status, case.confirmed_at, case.reopened_count, case.version) == (
            "open",
            None,
            0,
            1,
        )
    assert count(engine, Touch) == count(engine, Task) == 0


def test_resolving_twice_or_with_bad_input_writes_nothing(engine: Engine) -> None:
    _, _, case_id = world(engine)
    with clock.frozen(NOW), db.transaction(engine) as session:
        case = get_case(session, case_id)
        attempts: list[tuple[dict[str, Any], str]] = [
            ({"resolution": "x", "root_cause_category": "gremlins"}, "root_cause_category"),
            ({"resolution": " ", "root_cause_category": "product"}, "resolution"),
            (
                {"resolution": "x", "root_cause_category": "product", "confirm_after_days": -1},
                "confirm_after_days",
            ),
        ]
        for kwargs, field in attempts:
            with pytest.raises(InvalidInput) as caught:
                resolve(session, case, **kwargs)
            assert caught.value.field == field
        session.flush()
        assert case.status == "open" and case.version == 1
    assert count(engine, Task) == 0
    resolved(engine, case_id)
    with (
        clock.frozen("2026-11-27"),
        db.transaction(engine) as session,
        pytest.raises(InvalidInput) as caught,
    ):
        resolve(
            session, get_case(session, case_id), resolution="again", root_cause_category="product"
        )
    assert caught.value.field == "status"
    assert count(engine, Task) == 1


def test_a_confirmed_case_takes_no_more_answers(engine: Engine) -> None:
    _, _, case_id = world(engine)
    resolved(engine, case_id)
    with clock.frozen("2026-12-01"), db.transaction(engine) as session:
        case = confirm(session, get_case(session, case_id), channel=None)
        with pytest.raises(InvalidInput, match="confirmed closed") as caught:
            respond(session, case, summary="hello")
        assert caught.value.field == "status"
        with pytest.raises(InvalidInput, match="cannot confirm") as caught:
            confirm(session, case)
        assert caught.value.field == "status"
    assert count(engine, Touch) == 0  # confirmed without logging a conversation


def test_case_filter(engine: Engine) -> None:
    with clock.frozen("2026-11-20"), db.transaction(engine) as session:
        joao = member(session)
        eva = member(session, "eva@keepwell.example", "Eva")
        ana = customer(session, joao)
        ben = customer(session, eva, name="Ben")
        c1 = open_case(session, ana, title="one", opened_at=at("2026-11-01"))
        c2 = open_case(session, ben, title="two", severity="urgent", opened_at=at("2026-11-02"))
        c3 = open_case(session, ben, title="three", opened_at=at("2026-11-03"), member=joao)
        respond(session, c1, summary="on it")
        resolve(session, c3, resolution="done", root_cause_category="other")

        def ids(**kw: object) -> list[int]:
            return [c.id for c in list_cases(session, CaseFilter(**kw))]  # type: ignore[arg-type]

        assert ids() == [c3.id, c2.id, c1.id]
        assert ids(status="open") == [c2.id, c1.id]
        assert ids(member_id=joao.id) == [c3.id, c1.id]
        assert ids(customer_id=ben.id) == [c3.id, c2.id]
        assert ids(severity="urgent") == [c2.id]
        assert ids(waiting_for_first_response=True) == [c2.id]
        assert ids(limit=1) == [c3.id]
    bads: list[dict[str, Any]] = [{"limit": 0}, {"status": "closed"}, {"severity": "meh"}]
    for bad in bads:
        with pytest.raises(InvalidInput) as caught:
            CaseFilter(**bad)
        assert caught.value.field == next(iter(bad))


def test_case_metrics(engine: Engine) -> None:
    with clock.frozen("2026-11-01"), db.transaction(engine) as session:
        joao = member(session)
        ana = customer(session, joao)
        opened = {
            title: open_case(session, ana, title=title, opened_at=at(when)).id
            for title, when in (
                ("a", "2026-11-01 08:00"),
                ("b", "2026-11-01 09:00"),
                ("c", "2026-11-01 10:00"),
                ("old", "2026-10-01 10:00"),
            )
        }

    def case(session: Session, title: str) -> Case:
        return get_case(session, opened[title])

    with clock.frozen("2026-11-01T10:00:00+00:00"), db.transaction(engine) as session:
        respond(session, case(session, "a"), summary="hi")  # 2 h
        respond(session, case(session, "b"), summary="hi")  # 1 h
    with clock.frozen("2026-11-01T14:00:00+00:00"), db.transaction(engine) as session:
        respond(session, case(session, "c"), summary="hi")  # 4 h
        for title, category in (("a", "delivery"), ("b", "product"), ("old", "delivery")):
            resolve(session, case(session, title), resolution="x", root_cause_category=category)
    with clock.frozen("2026-11-02T14:00:00+00:00"), db.transaction(engine) as session:
        reopen(session, case(session, "b"), reason="not fixed")
        metrics = case_metrics(session, start=at("2026-11-01"), end=at("2026-12-01"))
    assert (metrics.opened, metrics.resolved, metrics.reopened) == (3, 2, 1)
    assert metrics.median_hours_to_first_response == 2.0
    assert metrics.mean_hours_to_first_response == pytest.approx(7 / 3)
    # a: 6 h; old: 31 days and 4 h (b was reopened: no longer resolved)
    assert metrics.median_hours_to_resolution == pytest.approx((6 + 31 * 24 + 4) / 2)
    assert metrics.mean_hours_to_resolution == pytest.approx((6 + 31 * 24 + 4) / 2)
    assert metrics.root_causes == [("delivery", 2)]
    with db.transaction(engine) as session:
        empty = case_metrics(session, start=at("2025-01-01"), end=at("2025-02-01"))
    assert (empty.opened, empty.median_hours_to_resolution, empty.root_causes) == (0, None, [])


def test_completing_the_confirmation_task_confirms_the_case(engine: Engine) -> None:
    """Whichever door a person uses — the case or its task — the case ends confirmed."""
    from keepwell.tasks.completion import complete_task

    _, _, case_id = world(engine)
    task_id = resolved(engine, case_id)
    with clock.frozen("2026-12-03"), db.transaction(engine) as session:
        task = session.get(Task, task_id)
        assert task is not None
        complete_task(session, task, outcome="She says it works perfectly", channel="call")
    with db.transaction(engine) as session:
        case = get_case(session, case_id)
        task = session.get(Task, task_id)
        assert task is not None
        assert (case.status, task.status) == ("confirmed", "done")
        assert session.scalars(sa.select(Touch)).one().summary == "She says it works perfectly"
