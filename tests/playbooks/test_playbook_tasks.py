"""What a playbook's tasks hold and what its ledger counts (keepwell/playbooks/engine.py):
the kind, reason and source as given, cut to a task's limits; the due date; the member
who made the promise, else the owner; the personal context, with the last conversations
where asked; the most customers a day matched and every message it queued; a task that
another creator wrote first is not made again, nor counted."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from keepwell import clock
from keepwell.accounts.service import add_member
from keepwell.customers.models import Customer
from keepwell.orders.service import NewOrder, create_orders
from keepwell.playbooks import engine
from keepwell.playbooks.engine import run
from keepwell.playbooks.models import PlaybookRun
from keepwell.playbooks.service import create_playbook
from keepwell.promises.models import Promise
from keepwell.promises.service import complete_promise, make_promise
from keepwell.tasks.models import Task
from keepwell.tasks.service import create_task
from keepwell.touches.service import log_touch
from tests.playbooks.test_triggers import NOON, TODAY, World, customer, only, world  # noqa: F401

DUE = NOON + timedelta(hours=3)  # today, later


def overdue(session: Session, name: str, **task: Any) -> None:
    """A playbook that makes a task for each promise due on the day."""
    create_playbook(
        session, name=name, trigger="promise_overdue", trigger_params={}, action="task",
        action_params={"kind": "promise", "reason": "Keep the promise: {what}", **task},
    )  # fmt: skip


def tasks(session: Session, source: str) -> list[Task]:
    return list(session.scalars(sa.select(Task).where(Task.source == source).order_by(Task.id)))


def ledger(session: Session) -> list[tuple[date, int, int, int]]:
    rows = session.scalars(sa.select(PlaybookRun).order_by(PlaybookRun.playbook_id, PlaybookRun.run_on))
    return [(r.run_on, r.matched, r.tasks, r.messages) for r in rows]


def test_a_task_holds_what_the_playbook_gives_cut_to_a_tasks_limits(world: World) -> None:  # noqa: F811
    name = "p" * 100  # the longest name: its source is cut to a task's 100 characters
    with clock.frozen(NOON), world.session() as session:
        only(session, "none")
        overdue(session, name, kind="k" * 40, reason="x" * 994 + "{what}", due_in_days=3)
        overdue(session, "turkish", kind="İ" * 21)  # 21 characters, 42 in lower case
        cy = add_member(session, "cy@shop.example", "Cy")
        bea = customer(session, "Bea", personal_notes="likes green tea")
        make_promise(session, bea, what="a refund", due_at=DUE, member=cy)
        carl = customer(session, "Carl")
        make_promise(session, carl, what="a call", due_at=DUE)  # by the owner, Ana
        assert run(session, through=TODAY).tasks == 4
        made = tasks(session, ("playbook:" + name)[:100])
        assert [t.customer_id for t in made] == [bea.id, carl.id]
        first = made[0]
        assert (first.kind, first.due_on, first.member_id) == ("k" * 40, TODAY + timedelta(days=3), cy.id)
        assert first.reason == ("x" * 994 + "a refund")[:1000] and len(first.reason) == 1000
        assert "likes green tea" in first.context
        assert made[1].member_id == carl.owner_id
        assert [t.kind for t in tasks(session, "playbook:turkish")] == ["i̇" * 20] * 2  # "İ".lower() is "i" and a dot above


def test_past_conversations_go_into_the_context_only_where_asked(world: World) -> None:  # noqa: F811
    with clock.frozen(NOON), world.session() as session:
        only(session, "none")
        overdue(session, "talked", context="conversations")
        overdue(session, "plain")
        bea = customer(session, "Bea")
        log_touch(session, bea, channel="call", summary="asked about the grinder", happened_at=NOON - timedelta(days=2))
        make_promise(session, bea, what="a refund", due_at=DUE)
        run(session, through=TODAY)
        talked, plain = tasks(session, "playbook:talked")[0], tasks(session, "playbook:plain")[0]
        assert "Past conversations: 2026-11-23: asked about the grinder." in talked.context
        assert "Past conversations" not in plain.context


def test_the_ledger_keeps_the_most_matched_and_adds_up_the_messages(world: World) -> None:  # noqa: F811
    with clock.frozen(NOON), world.session() as session:
        only(session, "none")
        overdue(session, "overdue")
        create_playbook(
            session, name="thanks", trigger="order_placed", trigger_params={}, action="email",
            action_params={"template": "check_in", "category": "service"},
        )  # fmt: skip
        bea, carl = customer(session, "Bea"), customer(session, "Carl")
        promise = make_promise(session, bea, what="a refund", due_at=DUE)
        make_promise(session, carl, what="a call", due_at=DUE)

        def ordered(buyer: Customer) -> None:
            create_orders(session, [NewOrder(buyer.id, clock.now() - timedelta(minutes=5), 1000, "EUR", product="Grinder")])

        ordered(bea)
        run(session, through=TODAY)
        assert ledger(session) == [(TODAY, 2, 2, 0), (TODAY, 1, 0, 1)]
    with clock.frozen(NOON + timedelta(hours=1)), world.session() as session:
        complete_promise(session, session.get_one(Promise, promise.id))  # one due promise less
        ordered(session.get_one(Customer, carl.id))  # and a second e-mail today
        report = run(session, through=TODAY)
        assert [(p.name, p.matched) for p in report.playbooks] == [("overdue", 1), ("thanks", 2)]
        assert ledger(session) == [(TODAY, 2, 2, 0), (TODAY, 2, 0, 2)]  # the day matched two


def test_a_task_another_creator_wrote_first_is_neither_made_again_nor_counted(
    world: World, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    with clock.frozen(NOON), world.session() as session:
        only(session, "none")
        overdue(session, "overdue")
        cy = add_member(session, "cy@shop.example", "Cy")
        bea, carl = customer(session, "Bea"), customer(session, "Carl")
        make_promise(session, carl, what="a call", due_at=DUE)
        assert run(session, through=TODAY).tasks == 1
        make_promise(session, bea, what="a refund", due_at=DUE, member=cy)
        # As if another creator wrote Carl's task between the look-up and the insert:
        real, calls = engine._existing_tasks, []

        def racing(session: Session, task: Any, wanted: list[tuple[int, str]]) -> set[tuple[int, str]]:
            calls.append(1)
            return set() if len(calls) == 1 else real(session, task, wanted)

        monkeypatch.setattr(engine, "_existing_tasks", racing)
        assert run(session, through=TODAY).tasks == 1  # Bea's only
        made = tasks(session, "playbook:overdue")
        assert [(t.customer_id, t.member_id) for t in made] == [(carl.id, carl.owner_id), (bea.id, cy.id)]
        assert ledger(session) == [(TODAY, 2, 2, 0)]


def test_the_tasks_that_exist_are_found_however_many_are_looked_up(world: World) -> None:  # noqa: F811
    """The look-up goes in parts of 2,000 keys: none falls between two parts."""
    with clock.frozen(NOON), world.session() as session:
        bea = customer(session, "Bea")
        for key in ("k1999", "k2000"):
            create_task(session, bea, kind="call", due_on=TODAY, reason=key, dedupe_key=key)
        wanted = [(bea.id, f"k{i}") for i in range(2001)]
        assert engine._existing_tasks(session, Task, wanted) == {(bea.id, "k1999"), (bea.id, "k2000")}
