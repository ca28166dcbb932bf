"""Account reviews: scheduled for key accounts, on the owner's agenda while due, gone once
done; the checklist with its hints and an admin's questions; the summary for health."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from keepwell import clock, db
from keepwell.accounts.models import TeamMember
from keepwell.agenda.service import agenda_for
from keepwell.customers.models import Customer
from keepwell.errors import InvalidInput
from keepwell.promises.models import Promise
from keepwell.reviews.goals import add_goal, update_goal
from keepwell.reviews.models import AccountReview, ReviewAnswer
from keepwell.reviews.service import (
    AnswerIn,
    ReviewFilter,
    answer_review,
    checklist,
    complete_review,
    get_review,
    latest_review,
    list_reviews,
    schedule_reviews,
    start_review,
)
from keepwell.reviews.setup import add_question, set_review_config, update_question
from tests.reviews.conftest import NOW, World, make_world

TODAY = NOW.date()
ALL_YES = [
    AnswerIn("last_check_in", "yes"),
    AnswerIn("on_time", "partly", "one parcel late"),
    AnswerIn("goals", "yes"),
    AnswerIn("worked", "yes", "the new grinder fixed their mornings"),
]


def schedule(engine: Engine, day: date = TODAY) -> tuple[int, int, int]:
    with clock.frozen(NOW), engine.begin() as conn:
        run = schedule_reviews(conn, day)
    return run.scheduled, run.reassigned, run.cancelled


def review_items(engine: Engine, member_id: int, day: date = TODAY) -> list[str]:
    with db.transaction(engine) as session:
        member = session.get(TeamMember, member_id)
        assert member is not None
        agenda = agenda_for(session, member, day)
        assert agenda.counts()["review"] == sum(i.group == "review" for i in agenda.items)
        return [i.ref for i in agenda.items if i.group == "review"]


def test_a_due_review_is_on_the_owners_agenda_until_it_is_done(engine: Engine) -> None:
    w = make_world(engine)
    assert schedule(engine) == (1, 0, 0)  # Vera is a key account (vip); Rui is not
    assert schedule(engine) == (0, 0, 0)  # one open review per customer: nothing new
    refs = review_items(engine, w.ana)
    assert len(refs) == 1
    review_id = int(refs[0].split(":")[1])
    assert review_items(engine, w.ben) == []  # not on anyone else's
    with clock.frozen(NOW), db.transaction(engine) as session:
        ana = session.get(TeamMember, w.ana)
        done, following = complete_review(
            session, get_review(session, review_id), member=ana, answers=ALL_YES, note="Good call"
        )
        assert (done.status, done.answered, done.yes, done.partly) == ("done", 4, 3, 1)
        assert following is not None and following.due_on == TODAY + timedelta(days=90)
    assert review_items(engine, w.ana) == []  # done: off the agenda
    assert review_items(engine, w.ana, TODAY + timedelta(days=90)) == [f"review:{following.id}"]
    with db.transaction(engine) as session:
        summary = latest_review(session, [w.vera, w.rui])
    assert list(summary) == [w.vera]
    assert summary[w.vera].reviewed_on == TODAY
    assert summary[w.vera].yes_share == pytest.approx(0.75)
    assert (summary[w.vera].goals_met, summary[w.vera].goals_total) == (0, 0)


def test_the_interval_and_who_is_key_come_from_the_settings(engine: Engine) -> None:
    w = make_world(engine)
    with clock.frozen(NOW), db.transaction(engine) as session:
        set_review_config(session, interval_days=30, key_segments=["retail"])
    assert schedule(engine) == (1, 0, 0)  # Rui now, not Vera
    with db.transaction(engine) as session:
        (review,) = list_reviews(session, ReviewFilter(status="due"))
        assert review.customer_id == w.rui
        set_review_config(session, key_segments=[], min_revenue_minor=0)
    assert schedule(engine) == (1, 0, 0)  # everyone with revenue ≥ 0: Vera too
    with clock.frozen(NOW), db.transaction(engine) as session:
        set_review_config(session, min_revenue_minor=None)
        with pytest.raises(InvalidInput, match="interval_days"):
            set_review_config(session, interval_days=0)
    assert schedule(engine) == (0, 0, 2)  # neither is key now: periodic reviews cancelled


def test_an_owner_change_moves_the_due_review(engine: Engine) -> None:
    w = make_world(engine)
    schedule(engine)
    with db.transaction(engine) as session:
        vera = session.get(Customer, w.vera)
        assert vera is not None
        vera.owner_id = w.ben
    assert schedule(engine) == (0, 1, 0)
    assert review_items(engine, w.ana) == []
    assert len(review_items(engine, w.ben)) == 1


def test_the_checklist_has_hints_and_the_admins_active_questions_in_order(
    engine: Engine,
) -> None:
    w = make_world(engine)
    with clock.frozen(NOW), db.transaction(engine) as session:
        second = add_question(session, "Would they recommend us?")
        first = add_question(session, "Any new people on their side?", position=0)
        retired = add_question(session, "Old question")
        update_question(session, second.id, position=5)
        update_question(session, retired.id, active=False)
        vera = session.get(Customer, w.vera)
        assert vera is not None
        add_goal(session, vera, what="Open a second shop", target_on=date(2027, 6, 1))
        met = add_goal(session, vera, what="Switch to monthly invoices")
        update_goal(session, met, status="met")
        session.add(
            Promise(
                customer_id=w.vera, member_id=w.ana, what="send the quote",
                made_at=NOW - timedelta(days=20), due_at=NOW - timedelta(days=10),
                original_due_at=NOW - timedelta(days=10), status="kept",
                completed_at=NOW - timedelta(days=11),
            )
        )  # fmt: skip
        review = start_review(session, vera)
        found = checklist(session, review)
        keys = [item.question for item in found.items]
        assert keys == [
            "last_check_in", "on_time", "goals", "worked", f"q:{first.id}", f"q:{second.id}",
        ]  # fmt: skip
        hints = {item.question: (item.hint, item.suggested) for item in found.items}
        assert hints["last_check_in"][0].startswith("Last contact 2026-11-15, 10 days ago")
        assert hints["last_check_in"][1] == "yes"  # within the 90-day default cadence
        assert "1 of 1 promises kept on time" in hints["on_time"][0]
        assert hints["on_time"][1] == "yes"
        assert hints["goals"] == ("2 goals: 1 met, 0 missed, 1 open.", "yes")
        assert [g.what for g in found.goals] == ["Open a second shop", "Switch to monthly invoices"]
        with pytest.raises(InvalidInput, match=f"q:{retired.id}"):
            answer_review(session, review, [AnswerIn(f"q:{retired.id}", "yes")], member=None)
        with pytest.raises(InvalidInput, match=f"not answered yet: q:{first.id}, q:{second.id}"):
            complete_review(session, review, member=None, answers=ALL_YES)


@pytest.mark.parametrize(
    ("answers", "field"),
    [
        ([], "answers"),
        ([AnswerIn("nonsense", "yes")], "answers[0].question"),
        ([AnswerIn("on_time", "maybe")], "answers[0].answer"),
        ([AnswerIn("on_time", "yes"), AnswerIn("on_time", "no")], "answers[1].question"),
        ([AnswerIn("goals", "yes"), AnswerIn("worked", "yes", "x" * 20_001)], "answers[1].note"),
    ],
)
def test_bad_answers_are_refused_and_none_is_written(
    engine: Engine, answers: list[AnswerIn], field: str
) -> None:
    w = make_world(engine)
    with clock.frozen(NOW), db.transaction(engine) as session:
        vera = session.get(Customer, w.vera)
        assert vera is not None
        review = start_review(session, vera)
        with pytest.raises(InvalidInput) as refused:
            answer_review(session, review, answers, member=None)
        assert refused.value.field == field
        assert session.scalar(sa.select(sa.func.count()).select_from(ReviewAnswer)) == 0


def test_answers_keep_who_and_when_and_a_done_review_is_closed(engine: Engine) -> None:
    w = make_world(engine)
    with clock.frozen(NOW), db.transaction(engine) as session:
        rui = session.get(Customer, w.rui)
        ben = session.get(TeamMember, w.ben)
        assert rui is not None and ben is not None
        review = start_review(session, rui, member=ben)  # on demand, not a key account
        with pytest.raises(InvalidInput, match="open already"):
            start_review(session, rui)
        answer_review(session, review, [AnswerIn("on_time", "no", "late twice")], member=ben)
        answer_review(session, review, [AnswerIn("on_time", "partly")], member=ben)  # again
        (item,) = [i for i in checklist(session, review).items if i.question == "on_time"]
        assert (item.answer, item.note, item.answered_by_id) == ("partly", "", w.ben)
        assert item.answered_at == NOW
        done, following = complete_review(session, review, member=ben, answers=ALL_YES)
        assert following is None  # Rui is no key account: no next review
        with pytest.raises(InvalidInput, match="it is done"):
            answer_review(session, done, ALL_YES, member=ben)
        assert [i.answer for i in checklist(session, done).items] == [
            "partly", "yes", "yes", "yes",
        ]  # fmt: skip
        assert session.scalar(sa.select(AccountReview.open_customer_id)) is None


def test_latest_review_takes_the_newest_and_counts_goals(engine: Engine) -> None:
    w: World = make_world(engine)
    for day, answers in (
        ("2026-06-01", ALL_YES),
        ("2026-11-25", [AnswerIn(a.question, "no") for a in ALL_YES]),
    ):
        moment = datetime.fromisoformat(day).replace(hour=12, tzinfo=UTC)
        with clock.frozen(moment), db.transaction(engine) as session:
            vera = session.get(Customer, w.vera)
            assert vera is not None
            if day == "2026-11-25":
                add_goal(session, vera, what="One")
                update_goal(session, add_goal(session, vera, what="Two"), status="met")
                update_goal(session, add_goal(session, vera, what="Three"), status="dropped")
            review = session.scalar(
                sa.select(AccountReview).where(AccountReview.status == "due")
            ) or start_review(session, vera)
            complete_review(session, review, member=None, answers=answers)
    with db.transaction(engine) as session:
        summary = latest_review(session, [w.vera])[w.vera]
    assert summary.reviewed_on == date(2026, 11, 25)
    assert (summary.yes, summary.answered, summary.yes_share) == (0, 4, 0.0)
    assert (summary.goals_met, summary.goals_total) == (1, 2)  # the dropped one left out
