"""What counts against the contact budget: every message the customer got or may still
get (queued, sent, failing), whatever happened to it; only a cancelled one is free."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine

from keepwell import clock, db
from keepwell.outreach.models import Message
from tests.outreach.test_outreach import NOON, queue, world  # noqa: F401 - the fixture


def set_status(engine: Engine, message_id: int, status: str) -> None:
    with db.transaction(engine) as session:
        session.get_one(Message, message_id).status = status


@pytest.mark.parametrize(
    ("first", "second", "refused"),
    [
        ("sent", "failed", "over budget"),  # a failing message still reaches them later
        ("failed", "failed", "over budget"),
        ("sent", "queued", "over budget"),
        ("sent", "cancelled", ""),  # cancelled: never sent, does not count
    ],
)
def test_the_budget_counts_every_message_but_the_cancelled(
    engine: Engine,
    world: dict[str, int],  # noqa: F811
    first: str,
    second: str,
    refused: str,
) -> None:
    with clock.frozen(NOON):  # default budget: 2 messages in 14 days
        one, two = queue(engine, world["bea"], "a").message, queue(engine, world["bea"], "b").message
        assert one is not None and two is not None
        set_status(engine, one.id, first)
        set_status(engine, two.id, second)
        third = queue(engine, world["bea"], "c")
        assert third.refused == refused
        assert (third.message is None) is bool(refused)
