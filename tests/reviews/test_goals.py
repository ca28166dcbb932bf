"""Goals agreed with a customer: made, changed, closed, listed; bad input writes nothing."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from keepwell import clock, db
from keepwell.accounts.models import AuditEntry
from keepwell.customers.models import Customer
from keepwell.errors import InvalidInput, NotFound
from keepwell.reviews.goals import (
    GoalFilter,
    add_goal,
    delete_goal,
    get_goal,
    list_goals,
    update_goal,
)
from keepwell.reviews.models import Goal
from tests.reviews.conftest import NOW, make_world


def goals(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(Goal)).scalar_one()


def test_make_change_close_reopen_and_delete_a_goal(engine: Engine) -> None:
    w = make_world(engine)
    with clock.frozen(NOW), db.transaction(engine) as session:
        vera = session.get(Customer, w.vera)
        assert vera is not None
        goal = add_goal(
            session, vera, what="  Cut their stock-outs to zero  ", target_on=date(2027, 3, 31)
        )
        assert (goal.what, goal.status, goal.agreed_on) == (
            "Cut their stock-outs to zero",
            "open",
            date(2026, 11, 25),
        )
        assert goal.member_id == w.ana  # the owner agreed it by default
        goal_id = goal.id
    with clock.frozen("2027-02-01"), db.transaction(engine) as session:
        goal = get_goal(session, goal_id)
        update_goal(session, goal, status="met", notes="Two months without one")
        assert (goal.status, goal.closed_on, goal.version) == ("met", date(2027, 2, 1), 2)
        update_goal(session, goal, status="open", target_on=None)
        assert (goal.status, goal.closed_on, goal.target_on) == ("open", None, None)
    with db.transaction(engine) as session:
        assert [g.id for g in list_goals(session, GoalFilter(customer_id=w.vera))] == [goal_id]
        assert list_goals(session, GoalFilter(status="met")) == []
        trail = session.scalars(
            sa.select(AuditEntry.action).where(AuditEntry.table_name == "goals")
        ).all()
        assert trail == ["insert", "update", "update"]  # every change is audited
        delete_goal(session, get_goal(session, goal_id))
    assert goals(engine) == 0
    with db.transaction(engine) as session, pytest.raises(NotFound, match=f"no goal #{goal_id}$"):
        get_goal(session, goal_id)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"what": "   "}, "what"),
        ({"what": "x" * 2001}, "what"),
        ({"what": "ok", "target_on": date(2026, 11, 1)}, "target_on"),  # before agreed
        ({"what": "ok", "target_on": date(2099, 1, 1)}, "target_on"),  # absurdly far
        ({"what": "ok", "agreed_on": date(2026, 12, 1)}, "agreed_on"),  # future
        ({"what": "ok", "notes": "n" * 20_001}, "notes"),
    ],
)
def test_bad_goals_are_refused_and_write_nothing(
    engine: Engine, fields: dict[str, object], field: str
) -> None:
    w = make_world(engine)
    with clock.frozen(NOW), pytest.raises(InvalidInput) as refused, db.transaction(engine) as s:
        vera = s.get(Customer, w.vera)
        assert vera is not None
        add_goal(s, vera, **fields)  # type: ignore[arg-type]
    assert refused.value.field == field
    assert goals(engine) == 0


def test_an_unknown_status_is_refused(engine: Engine) -> None:
    w = make_world(engine)
    with clock.frozen(NOW), db.transaction(engine) as session:
        vera = session.get(Customer, w.vera)
        assert vera is not None
        goal = add_goal(session, vera, what="Grow their café chain's orders")
        with pytest.raises(InvalidInput, match="status"):
            update_goal(session, goal, status="done")
        with pytest.raises(InvalidInput, match="limit"):
            GoalFilter(limit=0)
