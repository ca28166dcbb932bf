"""A playbook acts once per customer and reason, however often it runs (the dedupe keys),
and evaluates each day once it is over (the ledger, playbook_runs)."""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

from keepwell import clock
from keepwell.playbooks.engine import MAX_CATCH_UP_DAYS, _days, run
from keepwell.playbooks.models import PlaybookRun
from keepwell.playbooks.service import create_playbook, get_playbook
from keepwell.tasks.models import Task
from tests.playbooks.test_triggers import NOON, TODAY, World, customer, only, world  # noqa: F401


def cards(w: World) -> list[tuple[int, str, date, str, str]]:
    with w.session() as session:
        return [
            (t.customer_id, t.dedupe_key, t.due_on, t.reason, t.source)
            for t in session.scalars(sa.select(Task).where(Task.kind == "card").order_by(Task.id))
        ]


def ledger(w: World) -> list[tuple[date, bool, int, int]]:
    with w.session() as session:
        return [
            (r.run_on, r.complete, r.matched, r.tasks)
            for r in session.scalars(sa.select(PlaybookRun).order_by(PlaybookRun.run_on))
        ]


def test_running_again_makes_no_second_task_and_the_day_completes_once_over(world: World) -> None:  # noqa: F811
    with clock.frozen(NOON), world.session() as session:
        only(session, "none")
        create_playbook(
            session, name="card", trigger="special_date",
            trigger_params={"kind": "birthday", "days_ahead": 0}, action="task",
            action_params={"kind": "card", "reason": "Card for {name}", "due_in_days": 2},
        )  # fmt: skip
        bea = customer(session, "Bea", birthday=date(1990, 11, 25)).id
        cem = customer(session, "Cem", birthday=date(1985, 11, 25)).id
        first = run(session, through=TODAY)
        assert (first.days, first.tasks) == (1, 2)
    made = cards(world)
    assert [(c, due, reason, source) for c, _, due, reason, source in made] == [
        (bea, TODAY + timedelta(days=2), "Card for Bea", "playbook:card"),
        (cem, TODAY + timedelta(days=2), "Card for Cem", "playbook:card"),
    ]
    assert all(key.startswith("playbook:card:") for _, key, _, _, _ in made)
    assert ledger(world) == [(TODAY, False, 2, 2)]  # today is not over: looked at again
    with clock.frozen(NOON + timedelta(hours=3)), world.session() as session:
        again = run(session, through=TODAY)
        assert (again.days, again.tasks) == (1, 0)
    assert cards(world) == made and ledger(world) == [(TODAY, False, 2, 2)]
    tomorrow = TODAY + timedelta(days=1)
    with clock.frozen(NOON + timedelta(days=1)), world.session() as session:
        later = run(session, through=tomorrow)  # today once more (now over), and tomorrow
        assert (later.days, later.tasks) == (2, 0)
        assert run(session, through=tomorrow).days == 1  # only tomorrow is left open
    assert cards(world) == made
    assert ledger(world) == [(TODAY, True, 2, 2), (tomorrow, False, 0, 0)]


def test_missed_days_are_caught_up_at_most_400_days_back(world: World) -> None:  # noqa: F811
    with clock.frozen(NOON), world.session() as session:
        only(session, "none")
        create_playbook(
            session, name="card", trigger="special_date",
            trigger_params={"kind": "birthday", "days_ahead": 0}, action="task",
            action_params={"kind": "card", "reason": "Card for {name}"},
        )  # fmt: skip
        customer(session, "Bea", birthday=date(1990, 11, 23))
        report = run(session, through=TODAY, since=TODAY - timedelta(days=3))
        assert report.days == 4 and report.tasks == 1
        far = run(session, through=TODAY, since=TODAY - timedelta(days=5000), only="none")
        assert far.days == 0
        # the days a playbook that never ran would evaluate, asked to start long ago
        old = get_playbook(session, "card")
        days = _days(session, old, TODAY + timedelta(days=1), TODAY)  # today is not complete
        assert days == [TODAY, TODAY + timedelta(days=1)]
        fresh = create_playbook(
            session, name="old", trigger="special_date",
            trigger_params={"kind": "birthday", "days_ahead": 0}, action="task",
            action_params={"kind": "old", "reason": "Old {name}"},
        )  # fmt: skip
        capped = _days(session, fresh, TODAY, TODAY - timedelta(days=5000))
        assert len(capped) == MAX_CATCH_UP_DAYS + 1 == 401 and capped[-1] == TODAY
        assert _days(session, fresh, TODAY, None) == [TODAY]
