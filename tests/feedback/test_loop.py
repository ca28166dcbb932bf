"""Closing the loop: a detractor's answer opens a task for the owner with their words;
one action tells every customer linked to it and closes each of their loops."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from keepwell import clock, db
from keepwell.customers.models import Customer
from keepwell.customers.record import customer_record
from keepwell.errors import InvalidInput
from keepwell.feedback import answers, common, loop, service, surveys
from keepwell.feedback.models import Feedback
from keepwell.tasks.models import Task
from keepwell.touches.models import Touch
from tests.feedback.conftest import NOW, World, counts


def customer(session: Session, world: World, who: str) -> Customer:
    found = session.get(Customer, world.customers[who])
    assert found is not None
    return found


def answer_by_link(world: World, who: str, kind: str, score: int, words: str) -> int:
    """Send a survey and answer it through its link, as the public page does."""
    with clock.frozen(NOW), db.transaction(world.engine) as session:
        _, url = surveys.invite(session, customer(session, world, who), kind)
    token = url.rsplit("/", 1)[1]
    with clock.frozen(NOW + timedelta(hours=3)), db.transaction(world.engine) as session:
        return surveys.answer_link(session, token, score=score, verbatim=words).id


def test_a_detractor_answer_opens_a_task_for_the_owner_with_their_words(world: World) -> None:
    words = "The parcel came four days late and nobody told me why."
    feedback_id = answer_by_link(world, "Rui", "nps", 4, words)
    with db.transaction(world.engine) as session:
        [task] = session.scalars(sa.select(Task)).all()
        assert task.customer_id == world.customers["Rui"]
        assert task.member_id == world.ana  # the owner
        assert task.kind == "detractor call"
        assert task.status == "open" and task.source == "survey"
        assert date(2026, 11, 25) <= task.due_on <= date(2026, 11, 27)  # within two days
        assert "4 out of 10" in task.reason
        assert words in task.context  # the customer's verbatim
        assert task.dedupe_key == f"feedback:{feedback_id}"
        # on the customer's timeline: the answer, and the task it opened
        record = customer_record(session, customer(session, world, "Rui"))
        kinds = {(e.kind, e.ref) for e in record.timeline}
        assert ("feedback", f"feedback:{feedback_id}") in kinds
        [line] = [e.text for e in record.timeline if e.kind == "feedback"]
        assert line == f"NPS 4/10: “{words}” — loop open"


@pytest.mark.parametrize(
    ("kind", "score", "task_kind"),
    [
        ("csat", 2, "low csat follow-up"),
        ("csat", 1, "low csat follow-up"),
        ("nps", 6, "detractor call"),
    ],
)
def test_low_scores_open_a_follow_up(world: World, kind: str, score: int, task_kind: str) -> None:
    answer_by_link(world, "Bea", kind, score, "")
    with db.transaction(world.engine) as session:
        [task] = session.scalars(sa.select(Task)).all()
        assert (task.kind, task.member_id) == (task_kind, world.ana)
        assert task.context == "They left no comment: ask what went wrong."


@pytest.mark.parametrize(("kind", "score"), [("nps", 7), ("nps", 10), ("csat", 3), ("csat", 5)])
def test_good_and_middling_scores_open_no_task(world: World, kind: str, score: int) -> None:
    answer_by_link(world, "Bea", kind, score, "fine")
    with db.transaction(world.engine) as session:
        assert session.scalars(sa.select(Task)).all() == []


def test_one_action_closes_the_loops_of_every_linked_customer_and_tells_each(
    world: World,
) -> None:
    ids = {
        "rui_1": answer_by_link(world, "Rui", "nps", 3, "late again"),
        "rui_2": answer_by_link(world, "Rui", "csat", 2, "the box was wet"),
        "bea": answer_by_link(world, "Bea", "nps", 5, "courier was rude"),
        "carl": answer_by_link(world, "Carl", "nps", 6, "slow delivery"),
    }
    later = NOW + timedelta(days=20)
    with clock.frozen(later), db.transaction(world.engine) as session:
        items = loop.feedback_by_ids(session, ids.values())
        action = loop.add_action(session, "Changed our courier to a next-day service", items[:3])
        assert loop.link(session, action, items) == 1  # Carl's added; the rest stay
        before = {c: _outbound(session, world.customers[c]) for c in ("Rui", "Bea", "Carl")}
        done = loop.close_action(session, action, note="Tracking links from now on")
        assert (done.customers, len(done.told), done.already) == (3, 4, 0)
        assert action.done_at == later
        for name in ("Rui", "Bea", "Carl"):  # each customer told, once, on their timeline
            touches = _outbound(session, world.customers[name])
            assert len(touches) == len(before[name]) + 1
            assert "Changed our courier to a next-day service" in touches[-1].summary
            assert "Tracking links from now on" in touches[-1].summary
        for item in session.scalars(sa.select(Feedback).where(Feedback.id.in_(ids.values()))):
            assert item.told_at == later and item.loop_closed  # every loop closed
            assert item.told_touch_id is not None and item.told_channel == "email"
        rui_touch = _outbound(session, world.customers["Rui"])[-1]
        assert "NPS 3/10" in rui_touch.summary and "CSAT 2/5" in rui_touch.summary
        listed = service.list_feedback(session, service.FeedbackFilter(loop="open"))
        assert listed == []
        with pytest.raises(InvalidInput, match="everyone was told"):
            loop.close_action(session, action)


def test_closing_again_tells_only_those_linked_since(world: World) -> None:
    first = answer_by_link(world, "Rui", "nps", 2, "stale beans")
    second = answer_by_link(world, "Bea", "nps", 4, "stale too")
    with clock.frozen(NOW + timedelta(days=2)), db.transaction(world.engine) as session:
        action = loop.add_action(
            session, "Roast dates on every bag", loop.feedback_by_ids(session, [first])
        )
        loop.close_action(session, action)
        loop.link(session, action, loop.feedback_by_ids(session, [second]))
        again = loop.close_action(session, action, channel="call")
        assert ([f.id for f in again.told], again.customers, again.already) == ([second], 1, 1)


def test_telling_one_customer_closes_that_loop_once(world: World) -> None:
    feedback_id = answer_by_link(world, "Carl", "nps", 9, "great")
    with clock.frozen(NOW + timedelta(days=1)), db.transaction(world.engine) as session:
        item = common.get_feedback(session, feedback_id)
        for bad, field in (
            ({"note": "  "}, "note"),
            ({"note": "x", "channel": "pigeon"}, "channel"),
        ):
            with pytest.raises(InvalidInput) as refused:
                loop.tell(session, item, **bad)  # type: ignore[arg-type]
            assert refused.value.field == field
        assert item.told_at is None
        loop.tell(session, item, note="Thanked them", channel="call")
        assert item.loop_closed and item.told_channel == "call"
        with pytest.raises(InvalidInput, match="told already"):
            loop.tell(session, item, note="again")


def test_bad_answers_write_nothing(world: World) -> None:
    before = counts(world.engine)
    cases = [
        ("nps", {"score": 11}, "score"),
        ("nps", {"score": -1}, "score"),
        ("nps", {"score": None}, "score"),
        ("nps", {"score": True}, "score"),
        ("csat", {"score": 0}, "score"),
        ("csat", {"score": 3, "ratings": {"quality": 3}}, "ratings"),
        ("scorecard", {"ratings": {"quality": 5}}, "ratings.delivery"),
        (
            "scorecard",
            {"ratings": {"quality": 6, "delivery": 1, "responsiveness": 1, "value": 1}},
            "ratings.quality",
        ),
        ("scorecard", {"ratings": {"speed": 5}}, "ratings"),
        ("nps", {"score": 5, "verbatim": "x" * 5001}, "verbatim"),
        ("nps", {"score": 5, "answered_at": NOW + timedelta(days=3)}, "answered_at"),
        ("poll", {"score": 5}, "kind"),
    ]
    for kind, values, field in cases:
        with clock.frozen(NOW), db.transaction(world.engine) as session:
            with pytest.raises(InvalidInput) as refused:
                answers.record_feedback(session, customer(session, world, "Rui"), kind, **values)  # type: ignore[arg-type]
            assert refused.value.field == field, (kind, values, refused.value)
    with clock.frozen(NOW), db.transaction(world.engine) as session:
        with pytest.raises(InvalidInput) as refused:
            surveys.invite(session, customer(session, world, "Rui"), "nps", expires_days=0)
        assert refused.value.field == "expires_days"
        with pytest.raises(InvalidInput, match="no case #999 of this customer") as refused:
            surveys.invite(session, customer(session, world, "Rui"), "csat", case_id=999)
        assert refused.value.field == "case_id"
    assert counts(world.engine) == before


def test_a_manual_answer_uses_up_its_survey(world: World) -> None:
    with clock.frozen(NOW), db.transaction(world.engine) as session:
        rui = customer(session, world, "Rui")
        invitation, url = surveys.invite(session, rui, "csat")
        item = answers.record_feedback(
            session, rui, "csat", score=5, verbatim="said on the phone", invitation_id=invitation.id
        )
        assert item.source == "manual" and invitation.used_at == NOW
        with pytest.raises(InvalidInput, match="answered already"):
            answers.record_feedback(session, rui, "csat", score=4, invitation_id=invitation.id)
        with pytest.raises(common.LinkRefused) as refused:
            surveys.open_link(session, url.rsplit("/", 1)[1])
        assert refused.value.why == "used"
        bea_invite, _ = surveys.invite(session, customer(session, world, "Bea"), "csat")
        with pytest.raises(InvalidInput, match="for customer"):  # never someone else's survey
            answers.record_feedback(session, rui, "csat", score=4, invitation_id=bea_invite.id)


def test_the_two_sided_scorecard_and_latest_scores(world: World) -> None:
    with clock.frozen(NOW), db.transaction(world.engine) as session:
        rui = customer(session, world, "Rui")
        answers.record_feedback(
            session, rui, "scorecard",
            ratings={"quality": 5, "delivery": 2, "responsiveness": 4, "value": 3},
            verbatim="Deliveries slip",
        )  # fmt: skip
        answers.rate_relationship(
            session, rui,
            {"communication": 4, "pays_on_time": 5, "predictability": 2, "partnership": 4},
            note="Orders come in bursts",
        )  # fmt: skip
        both = service.scorecards(session, rui)
        assert both["theirs"]["ratings"]["delivery"] == 2 and both["theirs"]["mean"] == 3.5
        assert both["ours"]["ratings"]["predictability"] == 2 and both["ours"]["mean"] == 3.75
        with pytest.raises(InvalidInput, match="unknown category 'quality'") as refused:
            answers.rate_relationship(session, rui, {"quality": 5})
        assert refused.value.field == "ratings"
    with clock.frozen(NOW + timedelta(days=1)), db.transaction(world.engine) as session:
        answers.record_feedback(session, customer(session, world, "Rui"), "nps", score=10)
    with clock.frozen(NOW + timedelta(days=2)), db.transaction(world.engine) as session:
        answers.record_feedback(session, customer(session, world, "Rui"), "csat", score=2)
        answers.record_feedback(session, customer(session, world, "Bea"), "nps", score=6)
        ids = list(world.customers.values())
        latest = service.latest_scores(session, ids)
        assert latest[world.customers["Rui"]] == ("csat", 2, NOW + timedelta(days=2))
        assert latest[world.customers["Bea"]] == ("nps", 6, NOW + timedelta(days=2))
        assert world.customers["Carl"] not in latest
        nps_only = service.latest_scores(session, ids, kinds=("nps",))
        assert nps_only[world.customers["Rui"]] == ("nps", 10, NOW + timedelta(days=1))


def test_the_filter(world: World) -> None:
    answer_by_link(world, "Rui", "nps", 2, "bad")
    answer_by_link(world, "Bea", "nps", 9, "good")
    answer_by_link(world, "Carl", "csat", 4, "ok")
    with clock.frozen(NOW + timedelta(days=1)), db.transaction(world.engine) as session:

        def names(**given: object) -> list[int]:
            found = service.list_feedback(session, service.FeedbackFilter(**given))  # type: ignore[arg-type]
            return sorted(f.customer_id for f in found)

        c = world.customers
        assert names(kind="nps") == sorted([c["Rui"], c["Bea"]])
        assert names(max_score=6, kind="nps") == [c["Rui"]]
        assert names(min_score=4, max_score=9) == sorted([c["Bea"], c["Carl"]])
        assert names(owner_id=world.ana) == sorted(c.values())
        assert names(owner_id=world.ana + 99) == []
        assert names(customer_id=c["Bea"]) == [c["Bea"]]
        assert names(since=NOW + timedelta(days=1)) == []
        loop.tell(
            session,
            service.list_feedback(session, service.FeedbackFilter(customer_id=c["Rui"]))[0],
            note="sorry",
        )
        assert names(loop="closed") == [c["Rui"]]
        assert names(loop="open") == sorted([c["Bea"], c["Carl"]])
        for bad, field in (({"loop": "half"}, "loop"), ({"min_score": 11}, "min_score"),
                           ({"min_score": 5, "max_score": 4}, "max_score"),
                           ({"kind": "poll"}, "kind"), ({"limit": 0}, "limit"),
                           ({"since": NOW.replace(tzinfo=None)}, "since")):  # fmt: skip
            with pytest.raises(InvalidInput) as refused:
                service.FeedbackFilter(**bad)  # type: ignore[arg-type]
            assert refused.value.field == field


def _outbound(session: Session, customer_id: int) -> list[Touch]:
    return list(
        session.scalars(
            sa.select(Touch)
            .where(Touch.customer_id == customer_id, Touch.direction == "outbound")
            .order_by(Touch.id)
        )
    )
