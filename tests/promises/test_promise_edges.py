"""The promise rules at their exact edges: the first moment of a rate's window, a due date
moved to now, the longest note (also when it moves the due date), a period of no length,
a promise kept the moment it was made or as far ahead of the clock as may be."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine

from keepwell import clock, db
from keepwell.errors import InvalidInput
from keepwell.promises.service import (
    FUTURE_SLACK,
    complete_promise,
    kept_rate,
    make_promise,
    moved_summary,
    progress_update,
)
from keepwell.touches.models import Touch
from keepwell.touches.service import MAX_SUMMARY
from tests.promises.test_promises import NOW, at, customer, member


def test_a_promise_due_at_the_first_moment_of_the_window_is_in_it(engine: Engine) -> None:
    start, end = at("2026-11-01"), at("2026-12-01")
    with clock.frozen("2026-10-01"), db.transaction(engine) as session:
        rui = customer(session, member(session))
        make_promise(session, rui, what="first", due_at=start)
        make_promise(session, rui, what="before", due_at=at("2026-10-31 23:59"))
    with db.transaction(engine) as session:
        assert kept_rate(session, start=start, end=end).due == 1
        with pytest.raises(InvalidInput) as refused:
            kept_rate(session, start=start, end=start)
        assert refused.value.field == "end"


def test_a_due_date_moved_to_now_and_the_longest_note_are_accepted(engine: Engine) -> None:
    with clock.frozen(NOW), db.transaction(engine) as session:
        rui = customer(session, member(session))
        promise = make_promise(session, rui, what="call back", due_at=at("2026-11-27 17:00"))
        update = progress_update(session, promise, note="moved", new_due_at=clock.now())
        assert update.new_due_at == clock.now() and promise.slips == 0
        assert progress_update(session, promise, note="n" * MAX_SUMMARY).note == "n" * MAX_SUMMARY
        with pytest.raises(InvalidInput) as refused:
            progress_update(session, promise, note="n" * (MAX_SUMMARY + 1))
        assert refused.value.field == "note"


MOVE = " (promise now due 2026-12-04 17:00 UTC, was 2026-11-27 17:00 UTC)"


def test_the_move_is_appended_to_a_note_that_leaves_room_for_it() -> None:
    new, old = at("2026-12-04 17:00"), at("2026-11-27 17:00")
    assert moved_summary("checking with the bank", new, old) == "checking with the bank" + MOVE
    fits = "n" * (MAX_SUMMARY - len(MOVE))  # exactly the touch's limit with the move
    assert moved_summary(fits, new, old) == fits + MOVE


def test_a_note_too_long_for_the_move_is_cut_short_in_the_touch_only() -> None:
    new, old = at("2026-12-04 17:00"), at("2026-11-27 17:00")
    one_over = "n" * (MAX_SUMMARY - len(MOVE) + 1)
    cut = moved_summary(one_over, new, old)
    assert cut == "n" * (MAX_SUMMARY - len(MOVE) - 1) + "…" + MOVE
    assert len(cut) == MAX_SUMMARY


def test_the_longest_note_can_move_the_due_date(engine: Engine) -> None:
    """A note of exactly MAX_SUMMARY characters that also moves the due date was refused:
    the move appended to it made the logged touch longer than a touch may be."""
    longest = "n" * MAX_SUMMARY
    with clock.frozen(NOW), db.transaction(engine) as session:
        rui = customer(session, member(session))
        promise = make_promise(session, rui, what="call back", due_at=at("2026-11-27 17:00"))
        update = progress_update(session, promise, note=longest, new_due_at=at("2026-12-04 17:00"))
        assert update.note == longest and promise.slips == 1
        touch = session.get(Touch, update.touch_id)
        assert touch is not None and len(touch.summary) == MAX_SUMMARY
        assert touch.summary.endswith("…" + MOVE)


def test_a_promise_may_be_kept_from_the_moment_it_was_made_to_a_day_ahead(engine: Engine) -> None:
    with clock.frozen(NOW), db.transaction(engine) as session:
        rui = customer(session, member(session))
        due = at("2026-11-27 17:00")
        first, second, third = (make_promise(session, rui, what=w, due_at=due) for w in "abc")
        assert complete_promise(session, first, at=first.made_at).completed_at == clock.now()
        slack = clock.now() + FUTURE_SLACK  # the clocks of two machines may disagree by so much
        assert complete_promise(session, second, at=slack).status == "kept"
        for when in (first.made_at - timedelta(seconds=1), slack + timedelta(seconds=1)):
            with pytest.raises(InvalidInput) as refused:
                complete_promise(session, third, at=when)
            assert refused.value.field == "at"
