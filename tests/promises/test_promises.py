"""Promises: making, updating (slips), keeping on time or late, breaking, the kept rate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from keepwell import clock, db
from keepwell.accounts.models import TeamMember
from keepwell.customers.models import Customer
from keepwell.errors import InvalidInput, NotFound
from keepwell.promises.models import Promise, PromiseUpdate
from keepwell.promises.service import (
    PromiseFilter,
    break_promise,
    cancel_promise,
    complete_promise,
    get_promise,
    kept_rate,
    kept_rate_by_member,
    list_promises,
    make_promise,
    progress_update,
    updates_of,
)
from keepwell.touches.models import Touch

NOW = "2026-11-25"  # 12:00 UTC


def at(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def member(session: Session, email: str = "ana@keepwell.example", name: str = "Ana") -> TeamMember:
    found = TeamMember(email=email, name=name, role="member")
    session.add(found)
    session.flush()
    return found


def customer(
    session: Session, owner: TeamMember | None = None, name: str = "Rui Costa", **extra: object
) -> Customer:
    found = Customer(
        name=name,
        email=f"{name.split()[0].lower()}@example.com",
        owner_id=owner.id if owner is not None else None,
        created_at=at("2026-01-01"),
        **extra,
    )
    session.add(found)
    session.flush()
    return found


def world(engine: Engine) -> tuple[int, int, int]:
    """A member, a customer she owns, and a promise due 27 November 17:00: their ids."""
    with clock.frozen(NOW), db.transaction(engine) as session:
        ana = member(session)
        rui = customer(session, ana)
        promise = make_promise(
            session, rui, what="Send the invoice copy", due_at=at("2026-11-27 17:00")
        )
        return ana.id, rui.id, promise.id


def count(engine: Engine, model: type[db.Base]) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(model)).scalar_one()


# --- making -----------------------------------------------------------------------


def test_a_promise_is_open_belongs_to_the_owner_and_keeps_its_original_due(engine: Engine) -> None:
    ana_id, rui_id, promise_id = world(engine)
    with db.transaction(engine) as session:
        promise = get_promise(session, promise_id)
        assert (promise.status, promise.member_id, promise.customer_id) == ("open", ana_id, rui_id)
        assert promise.due_at == promise.original_due_at == at("2026-11-27 17:00")
        assert promise.made_at == at("2026-11-25 12:00")
        assert promise.slips == 0


@pytest.mark.parametrize(
    ("what", "due", "field"),
    [
        ("", "2026-11-27 17:00+00:00", "what"),
        ("   ", "2026-11-27 17:00+00:00", "what"),
        ("x" * 2001, "2026-11-27 17:00+00:00", "what"),
        ("Call back", "2026-11-27 17:00", "due_at"),  # naive: no time zone
        ("Call back", "2026-11-24 17:00+00:00", "due_at"),  # before it was made
    ],
)
def test_make_promise_refuses_bad_input(engine: Engine, what: str, due: str, field: str) -> None:
    with clock.frozen(NOW), db.transaction(engine) as session:
        rui = customer(session)
        with pytest.raises(InvalidInput) as caught:
            make_promise(session, rui, what=what, due_at=datetime.fromisoformat(due))
        assert caught.value.field == field
    assert count(engine, Promise) == 0


def test_what_of_2000_characters_is_accepted(engine: Engine) -> None:
    with clock.frozen(NOW), db.transaction(engine) as session:
        promise = make_promise(
            session, customer(session), what="x" * 2000, due_at=at("2026-12-01 17:00")
        )
        assert promise.member_id is None  # no owner, nobody named


def test_get_promise_of_an_unknown_id_is_not_found(engine: Engine) -> None:
    with db.transaction(engine) as session, pytest.raises(NotFound, match="no promise #999"):
        get_promise(session, 999)


# --- keeping, late or not ---------------------------------------------------------


def test_kept_by_the_due_time_is_kept_and_after_it_kept_late(engine: Engine) -> None:
    _, _, promise_id = world(engine)
    with clock.frozen("2026-11-27T17:00:00+00:00"), db.transaction(engine) as session:
        promise = complete_promise(session, get_promise(session, promise_id), outcome="sent")
        assert (promise.status, promise.completed_at) == ("kept", at("2026-11-27 17:00"))
        assert promise.outcome == "sent"
    with clock.frozen(NOW), db.transaction(engine) as session:
        late = make_promise(
            session,
            session.get_one(Customer, get_promise(session, promise_id).customer_id),
            what="Call back about the warranty",
            due_at=at("2026-11-26 09:00"),
        )
        late_id = late.id
    with clock.frozen("2026-11-26T09:00:01+00:00"), db.transaction(engine) as session:
        promise = complete_promise(session, get_promise(session, late_id))
        assert promise.status == "kept_late"
        assert promise.completed_at == at("2026-11-26 09:00:01")


def test_kept_at_a_given_moment_is_judged_by_that_moment(engine: Engine) -> None:
    _, _, promise_id = world(engine)
    with clock.frozen("2026-12-10"), db.transaction(engine) as session:
        promise = complete_promise(
            session, get_promise(session, promise_id), at=at("2026-11-27 16:00")
        )
        assert (promise.status, promise.completed_at) == ("kept", at("2026-11-27 16:00"))


def test_completing_a_kept_promise_is_refused_and_writes_nothing(engine: Engine) -> None:
    _, _, promise_id = world(engine)
    with clock.frozen("2026-11-26"), db.transaction(engine) as session:
        complete_promise(session, get_promise(session, promise_id), outcome="first")
    with clock.frozen("2026-12-20"), db.transaction(engine) as session:
        promise = get_promise(session, promise_id)
        for attempt in (
            lambda: complete_promise(session, promise, outcome="again"),
            lambda: break_promise(session, promise, outcome="oops"),
            lambda: cancel_promise(session, promise, reason="oops"),
            lambda: progress_update(session, promise, note="still on it"),
        ):
            with pytest.raises(InvalidInput) as caught:
                attempt()
            assert caught.value.field == "status"
        session.flush()  # whatever the attempts changed would be written now
    with db.transaction(engine) as session:
        promise = get_promise(session, promise_id)
        assert (promise.status, promise.outcome) == ("kept", "first")
        assert promise.completed_at == at("2026-11-26 12:00")
        assert promise.version == 2  # made, kept: nothing since
    assert count(engine, Touch) == 0
    assert count(engine, PromiseUpdate) == 0


def test_keeping_in_the_future_or_before_it_was_made_is_refused(engine: Engine) -> None:
    _, _, promise_id = world(engine)
    with clock.frozen(NOW), db.transaction(engine) as session:
        promise = get_promise(session, promise_id)
        with pytest.raises(InvalidInput, match="cannot be kept in the future") as caught:
            complete_promise(session, promise, at=at("2026-11-28 12:00"))
        assert caught.value.field == "at"
        with pytest.raises(InvalidInput, match="before the promise was made") as caught:
            complete_promise(session, promise, at=at("2026-11-20 12:00"))
        assert caught.value.field == "at"
        assert promise.status == "open"


def test_break_needs_an_outcome_and_cancel_does_not(engine: Engine) -> None:
    _, rui_id, promise_id = world(engine)
    with clock.frozen("2026-11-26"), db.transaction(engine) as session:
        promise = get_promise(session, promise_id)
        with pytest.raises(InvalidInput) as caught:
            break_promise(session, promise, outcome="  ")
        assert caught.value.field == "outcome"
        break_promise(session, promise, outcome="supplier went bust; told Rui")
        assert (promise.status, promise.completed_at) == ("broken", at("2026-11-26 12:00"))
        other = make_promise(
            session,
            session.get_one(Customer, rui_id),
            what="Visit",
            due_at=at("2026-12-01 10:00"),
        )
        cancel_promise(session, other)
        assert other.status == "cancelled"
        with pytest.raises(InvalidInput, match="it is cancelled") as caught:
            break_promise(session, other, outcome="too late")
        assert caught.value.field == "status"


# --- progress updates and slips ---------------------------------------------------


def test_a_progress_update_logs_a_touch_and_moves_the_next_check_in(engine: Engine) -> None:
    ana_id, rui_id, promise_id = world(engine)
    with db.transaction(engine) as session:
        rui = session.get(Customer, rui_id)
        assert rui is not None
        rui.last_contact_at = at("2026-06-01 10:00")
        rui.next_check_in_at = at("2026-08-30 10:00")
    with clock.frozen("2026-11-26"), db.transaction(engine) as session:
        promise = get_promise(session, promise_id)
        update = progress_update(
            session, promise, note="Still no answer from the bank; I will check back by Friday"
        )
        assert update.new_due_at is None and update.old_due_at == at("2026-11-27 17:00")
        assert promise.slips == 0 and promise.due_at == at("2026-11-27 17:00")
    with db.transaction(engine) as session:
        touch = session.scalars(sa.select(Touch)).one()
        assert (touch.customer_id, touch.member_id, touch.promise_id) == (
            rui_id,
            ana_id,
            promise_id,
        )
        assert (touch.channel, touch.direction) == ("email", "outbound")
        assert touch.summary.startswith("Still no answer from the bank")
        assert session.scalars(sa.select(PromiseUpdate)).one().touch_id == touch.id
        rui = session.get(Customer, rui_id)
        assert rui is not None
        assert rui.last_contact_at == rui.last_outbound_at == at("2026-11-26 12:00")
        assert rui.next_check_in_at == at("2026-11-26 12:00") + timedelta(days=90)


def test_each_slip_is_recorded_and_the_original_due_date_is_kept(engine: Engine) -> None:
    _, _, promise_id = world(engine)
    with clock.frozen("2026-11-26"), db.transaction(engine) as session:
        promise = get_promise(session, promise_id)
        progress_update(
            session, promise, note="Waiting on the bank", new_due_at=at("2026-12-04 17:00")
        )
    with clock.frozen("2026-12-03"), db.transaction(engine) as session:
        promise = get_promise(session, promise_id)
        progress_update(
            session,
            promise,
            note="The bank wants a form",
            new_due_at=at("2026-12-11 17:00"),
            channel="call",
        )
        progress_update(session, promise, note="Form sent")  # no move: not a slip
    with db.transaction(engine) as session:
        promise = get_promise(session, promise_id)
        assert promise.slips == 2
        assert promise.due_at == at("2026-12-11 17:00")
        assert promise.original_due_at == at("2026-11-27 17:00")
        moves = [(u.old_due_at, u.new_due_at) for u in updates_of(session, promise)]
        assert moves == [
            (at("2026-11-27 17:00"), at("2026-12-04 17:00")),
            (at("2026-12-04 17:00"), at("2026-12-11 17:00")),
            (at("2026-12-11 17:00"), None),
        ]
        channels = session.scalars(sa.select(Touch.channel).order_by(Touch.id)).all()
        assert channels == ["email", "call", "email"]


def test_moving_the_due_date_earlier_is_recorded_but_is_not_a_slip(engine: Engine) -> None:
    _, _, promise_id = world(engine)
    with clock.frozen(NOW), db.transaction(engine) as session:
        promise = get_promise(session, promise_id)
        update = progress_update(
            session, promise, note="Good news: tomorrow", new_due_at=at("2026-11-26 12:00")
        )
        assert (update.old_due_at, update.new_due_at) == (
            at("2026-11-27 17:00"),
            at("2026-11-26 12:00"),
        )
        assert (promise.slips, promise.due_at) == (0, at("2026-11-26 12:00"))


def test_the_same_due_date_again_is_not_a_move(engine: Engine) -> None:
    _, _, promise_id = world(engine)
    with clock.frozen(NOW), db.transaction(engine) as session:
        promise = get_promise(session, promise_id)
        update = progress_update(
            session, promise, note="On track", new_due_at=at("2026-11-27 17:00")
        )
        assert update.new_due_at is None and promise.slips == 0


def test_kept_after_the_original_but_by_the_moved_due_date_is_kept_on_time(
    engine: Engine,
) -> None:
    """The chosen rule: on time means by the due date in force; the slip is counted apart."""
    _, _, promise_id = world(engine)
    with clock.frozen("2026-11-26"), db.transaction(engine) as session:
        progress_update(
            session,
            get_promise(session, promise_id),
            note="Needs a week more",
            new_due_at=at("2026-12-04 17:00"),
        )
    with clock.frozen("2026-12-02"), db.transaction(engine) as session:
        promise = complete_promise(session, get_promise(session, promise_id))
        assert promise.status == "kept"
        rate = kept_rate(session, start=at("2026-12-01"), end=at("2027-01-01"))
        assert (rate.due, rate.kept_on_time, rate.slipped, rate.slips) == (1, 1, 1, 1)
        assert rate.kept_by_original_due == 0
        assert rate.rate == 1.0


@pytest.mark.parametrize(
    ("note", "new_due", "channel", "field"),
    [
        ("", None, "email", "note"),
        ("Waiting", "2026-11-20 17:00+00:00", "email", "new_due_at"),  # passed already
        ("Waiting", "2026-12-04 17:00", "email", "new_due_at"),  # naive
        ("Waiting", "2026-12-04 17:00+00:00", "pigeon", "channel"),
    ],
)
def test_a_bad_progress_update_writes_nothing(
    engine: Engine, note: str, new_due: str | None, channel: str, field: str
) -> None:
    _, rui_id, promise_id = world(engine)
    with clock.frozen(NOW), db.transaction(engine) as session:
        promise = get_promise(session, promise_id)
        with pytest.raises(InvalidInput) as caught:
            progress_update(
                session,
                promise,
                note=note,
                new_due_at=datetime.fromisoformat(new_due) if new_due else None,
                channel=channel,
            )
        assert caught.value.field == field
        session.flush()
    with db.transaction(engine) as session:
        promise = get_promise(session, promise_id)
        assert (promise.slips, promise.due_at, promise.version) == (0, at("2026-11-27 17:00"), 1)
        rui = session.get(Customer, rui_id)
        assert rui is not None and rui.last_contact_at is None
    assert count(engine, Touch) == count(engine, PromiseUpdate) == 0


# --- the list ---------------------------------------------------------------------


def test_promise_filter(engine: Engine) -> None:
    with clock.frozen(NOW), db.transaction(engine) as session:
        ana = member(session)
        ben = member(session, "ben@keepwell.example", "Ben")
        rui = customer(session, ana)
        eva = customer(session, ben, name="Eva Lind")
        p1 = make_promise(
            session, rui, what="a", due_at=at("2026-11-10 17:00"), made_at=at("2026-11-01")
        )
        p2 = make_promise(session, rui, what="b", due_at=at("2026-11-30 17:00"))
        p3 = make_promise(session, eva, what="c", due_at=at("2026-12-05 17:00"), member=ana)
        p4 = make_promise(
            session, eva, what="d", due_at=at("2026-11-20 17:00"), made_at=at("2026-11-01")
        )
        complete_promise(session, p4)

        def ids(**kw: object) -> list[int]:
            return [p.id for p in list_promises(session, PromiseFilter(**kw))]  # type: ignore[arg-type]

        assert ids() == [p1.id, p4.id, p2.id, p3.id]
        assert ids(status="open") == [p1.id, p2.id, p3.id]
        assert ids(member_id=ana.id) == [p1.id, p2.id, p3.id]
        assert ids(member_id=ben.id) == [p4.id]
        assert ids(customer_id=eva.id) == [p4.id, p3.id]
        assert ids(due_after=at("2026-11-20 17:00"), due_before=at("2026-12-01")) == [
            p4.id,
            p2.id,
        ]
        assert ids(overdue=True) == [p1.id]  # p4 is past due but kept
        assert ids(limit=2) == [p1.id, p4.id]
    bads: list[dict[str, Any]] = [{"limit": 0}, {"limit": 501}, {"status": "done"}]
    for bad in bads:
        with pytest.raises(InvalidInput) as caught:
            PromiseFilter(**bad)
        assert caught.value.field == next(iter(bad))


# --- the kept rate ----------------------------------------------------------------


def test_kept_rate_arithmetic_leaves_cancelled_out(engine: Engine) -> None:
    start, end = at("2026-11-01"), at("2026-12-01")
    with clock.frozen("2026-10-01"), db.transaction(engine) as session:
        ana = member(session)
        ben = member(session, "ben@keepwell.example", "Ben")
        rui = customer(session, ana)

        def promise(due: str, who: TeamMember | None = None) -> Promise:
            return make_promise(session, rui, what=due, due_at=at(due), member=who)

        on_time = promise("2026-11-05 17:00")
        late = promise("2026-11-06 17:00")
        broken = promise("2026-11-07 17:00")
        still_open = promise("2026-11-28 17:00")
        cancelled = promise("2026-11-08 17:00")
        outside = promise("2026-12-01 00:00")  # the window is half-open
        bens = promise("2026-11-10 17:00", ben)
        bens_open = promise("2026-11-30 23:59", ben)
    with clock.frozen("2026-11-20"), db.transaction(engine) as session:
        complete_promise(session, session.merge(on_time), at=at("2026-11-05 16:00"))
        complete_promise(session, session.merge(late), at=at("2026-11-09 10:00"))
        break_promise(session, session.merge(broken), outcome="could not")
        cancel_promise(session, session.merge(cancelled), reason="not needed")
        complete_promise(session, session.merge(outside), at=at("2026-11-19 10:00"))
        complete_promise(session, session.merge(bens), at=at("2026-11-10 17:00"))
        del still_open, bens_open

        team = kept_rate(session, start=start, end=end)
        assert (team.due, team.kept_on_time, team.kept_late, team.broken, team.still_open) == (
            6,
            2,
            1,
            1,
            2,
        )
        assert team.rate == pytest.approx(2 / 6)
        assert team.kept_by_original_due == 2
        assert (team.slipped, team.slips) == (0, 0)

        anas = kept_rate(session, start=start, end=end, member_id=ana.id)
        assert (anas.due, anas.kept_on_time, anas.rate) == (4, 1, 0.25)

        rows = kept_rate_by_member(session, start, end)
        assert [(r.name, r.kept.due, r.kept.kept_on_time, r.kept.rate) for r in rows] == [
            ("Ana", 4, 1, 0.25),
            ("Ben", 2, 1, 0.5),
        ]

        empty = kept_rate(session, start=at("2025-01-01"), end=at("2025-02-01"))
        assert (empty.due, empty.rate) == (0, None)
        with pytest.raises(InvalidInput, match="must come after its start") as caught:
            kept_rate(session, start=end, end=start)
        assert caught.value.field == "end"


def test_kept_rate_counts_slips_and_promises_nobody_owns(engine: Engine) -> None:
    with clock.frozen("2026-11-02"), db.transaction(engine) as session:
        rui = customer(session)  # no owner
        a = make_promise(session, rui, what="a", due_at=at("2026-11-03 17:00"))
        make_promise(session, rui, what="b", due_at=at("2026-11-04 17:00"))
        progress_update(session, a, note="later", new_due_at=at("2026-11-10 17:00"))
        progress_update(session, a, note="later still", new_due_at=at("2026-11-12 17:00"))
        rate = kept_rate(session, start=at("2026-11-01"), end=at("2026-12-01"))
        assert (rate.due, rate.still_open, rate.slipped, rate.slips) == (2, 2, 1, 2)
        rows = kept_rate_by_member(session, at("2026-11-01"), at("2026-12-01"))
        assert [(r.member_id, r.kept.due) for r in rows] == [(None, 2)]
