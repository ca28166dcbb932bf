"""The promise rules at their exact edges: the first moment of a rate's window, a due date
moved to now, the longest note, a period of no length."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine

from keepwell import clock, db
from keepwell.errors import InvalidInput
from keepwell.promises.service import kept_rate, make_promise, progress_update
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
