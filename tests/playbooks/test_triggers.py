"""Each trigger on a small world, conditions, bad definitions, and a failing playbook."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from keepwell import clock, db
from keepwell.accounts.service import add_member
from keepwell.customers.models import Customer
from keepwell.customers.service import create_customer
from keepwell.errors import InvalidInput
from keepwell.playbooks.engine import run
from keepwell.playbooks.models import JobRun, Playbook, PlaybookRun
from keepwell.playbooks.service import (
    create_playbook,
    edit_playbook,
    get_playbook,
    install_builtins,
)
from keepwell.promises.service import make_promise, progress_update
from keepwell.scoring.models import Score
from keepwell.tasks.models import Task
from keepwell.touches.service import log_touch

TODAY = date(2026, 11, 25)
NOON = datetime.combine(TODAY, time(12), UTC)


@dataclass
class World:
    engine: Engine

    def session(self) -> Any:
        return db.transaction(self.engine)


@pytest.fixture
def world(engine: Engine) -> Iterator[World]:
    with clock.frozen(NOON), db.transaction(engine) as session:
        install_builtins(session)
        add_member(session, "ana@shop.example", "Ana")
    yield World(engine)


def customer(session: Session, name: str, **fields: Any) -> Customer:
    from keepwell.accounts.service import find_member

    owner = find_member(session, "ana@shop.example")
    return create_customer(
        session, {"name": name, "email": f"{name.lower()}@ex.org", "owner_id": owner.id, **fields}
    )


def tasks_of(session: Session, kind: str) -> list[Task]:
    return list(session.scalars(sa.select(Task).where(Task.kind == kind).order_by(Task.id)))


def only(session: Session, name: str) -> None:
    """Switch every playbook off but `name`."""
    for playbook in session.scalars(sa.select(Playbook)):
        playbook.enabled = playbook.name == name
    session.flush()


def test_detractor_call_never_doubles_the_feedback_engines_task(world: World) -> None:
    from keepwell.feedback.answers import record_answer

    with clock.frozen(NOON), world.session() as session:
        only(session, "detractor-call")
        bea = customer(session, "Bea")
        carl = customer(session, "Carl")
        answer = record_answer(session, bea, "nps", score=3, verbatim="slow delivery")
        record_answer(session, carl, "nps", score=9)
        run(session, through=TODAY)
        calls = session.scalars(
            sa.select(Task).where(Task.dedupe_key == f"feedback:{answer.id}")
        ).all()
        assert len(calls) == 1 and calls[0].customer_id == bea.id
        assert not session.scalars(sa.select(Task).where(Task.customer_id == carl.id)).all()


def test_save_call_for_a_valuable_customer_slipping_away(world: World) -> None:
    with clock.frozen(NOON), world.session() as session:
        only(session, "save-call")
        big, small, fine = (
            customer(session, "Big"),
            customer(session, "Small"),
            customer(session, "Fine"),
        )
        big.revenue_minor, small.revenue_minor, fine.revenue_minor = 90_000, 9_000, 90_000
        for who, p in ((big, 0.1), (small, 0.1), (fine, 0.8)):
            session.add(
                Score(
                    scored_on=TODAY - timedelta(days=1),
                    customer_id=who.id,
                    model="bgnbd",
                    p_alive=p,
                    risk_minor=0,
                    health=50,
                    stage="at_risk",
                    explanation="",
                )
            )
        session.flush()
        run(session, through=TODAY)
        calls = tasks_of(session, "save_call")
        assert [t.customer_id for t in calls] == [big.id]
        assert "10%" in calls[0].reason
    with clock.frozen(NOON + timedelta(days=1)), world.session() as session:
        assert run(session, through=TODAY + timedelta(days=1)).tasks == 0  # once per 90 days


def test_still_working_on_it_before_a_promise_is_late(world: World) -> None:
    with clock.frozen(NOON - timedelta(days=5)), world.session() as session:
        only(session, "promise-still-working")
        bea, carl = customer(session, "Bea"), customer(session, "Carl")
        make_promise(session, bea, what="Send the manual", due_at=NOON + timedelta(days=1))
        heard = make_promise(session, carl, what="Call back", due_at=NOON + timedelta(days=1))
    with clock.frozen(NOON - timedelta(days=1)), world.session() as session:
        progress_update(session, session.merge(heard), note="Still on it")
    with clock.frozen(NOON), world.session() as session:
        run(session, through=TODAY)
        found = tasks_of(session, "promise_update")
        assert [t.customer_id for t in found] == [bea.id]  # Carl heard from us yesterday
        assert "Send the manual" in found[0].reason and found[0].member_id is not None


def test_anniversary_note_carries_past_conversations(world: World) -> None:
    with clock.frozen(NOON), world.session() as session:
        only(session, "anniversary-note")
        three_years = datetime(2023, 12, 2, 9, tzinfo=UTC)  # 7 days ahead, three years on
        bea = customer(session, "Bea", first_seen=three_years, personal_notes="two dogs")
        customer(
            session,
            "Newbie",
            first_seen=datetime(2026, 12, 2, tzinfo=UTC) - timedelta(days=365 * 4 + 1),
        )
        log_touch(
            session,
            bea,
            channel="call",
            summary="Asked about the new espresso cups",
            happened_at=NOON - timedelta(days=40),
        )
        log_touch(
            session,
            bea,
            channel="email",
            summary="Thanked us for the quick fix",
            happened_at=NOON - timedelta(days=3),
        )
        run(session, through=TODAY)
        notes = tasks_of(session, "handwritten_note")
        assert [t.customer_id for t in notes] == [bea.id]
        assert "3 years" in notes[0].reason
        assert "espresso cups" in notes[0].context and "two dogs" in notes[0].context


def test_tier_change_through_the_loyalty_concept(world: World) -> None:
    from keepwell.loyalty.models import TierChange

    with clock.frozen(NOON), world.session() as session:
        only(session, "none")
        create_playbook(
            session,
            name="gold-welcome",
            trigger="tier_change",
            trigger_params={"to_tier": "Gold"},
            action="task",
            action_params={"kind": "gold_welcome", "reason": "Welcome {name} to {to_tier}"},
        )
        bea, carl = customer(session, "Bea"), customer(session, "Carl")
        session.add_all(
            [
                TierChange(
                    customer_id=bea.id,
                    from_tier="Silver",
                    to_tier="Gold",
                    points=900,
                    reached_on=TODAY,
                    recorded_at=NOON - timedelta(hours=1),
                ),
                TierChange(
                    customer_id=carl.id,
                    from_tier=None,
                    to_tier="Silver",
                    points=300,
                    reached_on=TODAY,
                    recorded_at=NOON - timedelta(hours=1),
                ),
            ]
        )
        session.flush()
        run(session, through=TODAY)
        assert [(t.customer_id, t.reason) for t in tasks_of(session, "gold_welcome")] == [
            (bea.id, "Welcome Bea to Gold")
        ]


def test_condition_segment_and_consent_leave_others_alone(world: World) -> None:
    with clock.frozen(NOON), world.session() as session:
        only(session, "none")
        create_playbook(
            session,
            name="vip-birthday",
            trigger="special_date",
            trigger_params={"kind": "birthday", "days_ahead": 0},
            condition={"segment": "vip", "consent": "contactable"},
            action="task",
            action_params={"kind": "vip_card", "reason": "Card for {name}"},
        )
        bday = date(1990, 11, 25)
        vip = customer(session, "Vip", segment="vip", birthday=bday)
        customer(session, "Plain", segment="retail", birthday=bday)
        customer(session, "Quiet", segment="vip", birthday=bday, opted_out=True)
        run(session, through=TODAY)
        assert [t.customer_id for t in tasks_of(session, "vip_card")] == [vip.id]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"trigger": "moon_phase"}, "trigger"),
        ({"trigger_params": {"days": -1}}, "trigger_params.days"),
        ({"trigger_params": {"days": 10**9}}, "trigger_params.days"),
        ({"trigger_params": {"days": "14"}}, "trigger_params.days"),
        ({"trigger_params": {"weeks": 2}}, "trigger_params"),
        ({"condition": {"segment": ""}}, "condition.segment"),
        ({"condition": {"consent": "maybe"}}, "condition.consent"),
        ({"action": "fax"}, "action"),
        (
            {"action": "email", "action_params": {"template": "../../etc/passwd"}},
            "action_params.template",
        ),
        ({"action_params": {"kind": "x", "reason": " "}}, "action_params.reason"),
        (
            {"action_params": {"kind": "x", "reason": "r", "due_in_days": 400}},
            "action_params.due_in_days",
        ),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_definitions_are_refused_and_write_nothing(
    world: World, changes: dict[str, Any], field: str
) -> None:
    with clock.frozen(NOON), world.session() as session:
        playbook = get_playbook(session, "check-in-30-days")
        before = (playbook.trigger_params, playbook.action_params, playbook.edited_at)
        with pytest.raises(InvalidInput) as caught:
            edit_playbook(session, playbook, changes)
        assert caught.value.field == field
        assert (playbook.trigger_params, playbook.action_params, playbook.edited_at) == before
        with pytest.raises(InvalidInput, match="name"):
            create_playbook(
                session,
                name="check-in-30-days",
                trigger="quiet",
                action="task",
                action_params={"kind": "k", "reason": "r"},
            )
        with pytest.raises(InvalidInput, match="name"):
            create_playbook(
                session,
                name="no spaces please",
                trigger="quiet",
                action="task",
                action_params={"kind": "k", "reason": "r"},
            )


def test_a_failing_playbook_is_recorded_retried_and_the_others_go_on(world: World) -> None:
    with clock.frozen(NOON + timedelta(days=1)), world.session() as session:  # TODAY is over
        bea = customer(session, "Bea", birthday=date(1990, 12, 2))
        broken = get_playbook(session, "check-in-30-days")
        broken.trigger_params = {"days": "thirty"}  # edited behind the desk's back
        session.flush()
        report = run(session, through=TODAY)
        assert len(report.errors) == 1 and "check-in-30-days" in report.errors[0]
        assert [t.customer_id for t in tasks_of(session, "birthday_card")] == [bea.id]
        assert (
            session.scalar(sa.select(PlaybookRun.id).where(PlaybookRun.playbook_id == broken.id))
            is None
        )
        job = session.scalars(sa.select(JobRun)).one()
        assert job.errors == 1 and "thirty" in job.error
        broken.trigger_params = {"days": 30}
        session.flush()
        again = run(session, through=TODAY)  # the failed day is retried, the others not
        assert again.errors == [] and again.days == 1
        assert [p.name for p in again.playbooks if p.days] == ["check-in-30-days"]


def test_init_brings_unedited_builtins_up_to_date_and_keeps_the_rest(world: World) -> None:
    with clock.frozen(NOON), world.session() as session:
        old = get_playbook(session, "birthday-card")
        old.trigger_params = {
            "kind": "birthday",
            "days_ahead": 3,
        }  # as an older Keepwell shipped it
        old.enabled = False  # and an admin switched it off
        edit_playbook(session, get_playbook(session, "save-call"), {"condition": {}})
        session.flush()
        done = install_builtins(session)
        assert (done.added, done.updated) == (0, 1)
        assert get_playbook(session, "birthday-card").trigger_params["days_ahead"] == 7
        assert get_playbook(session, "birthday-card").enabled is False
        assert get_playbook(session, "save-call").condition == {}
        assert install_builtins(session).updated == 0  # nothing left to bring up to date
