"""One Outbox queueing for many customers at once (a playbook's day): the budget and the
dedupe keys count what this batch queued too, and a person's own text is checked."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine

from keepwell import clock, db
from keepwell.customers.models import Customer
from keepwell.errors import InvalidInput
from keepwell.outreach import mail
from tests.outreach.test_outreach import NOON, world  # noqa: F401 - the fixture


def test_a_batch_counts_its_own_messages(engine: Engine, world: dict[str, int]) -> None:  # noqa: F811
    with clock.frozen(NOON), db.transaction(engine) as session:
        bea = session.get_one(Customer, world["bea"])
        outbox = mail.Outbox(session, [bea.id])  # default budget: 2 in 14 days

        def send(key: str) -> mail.Queued:
            return outbox.queue(bea, category="service", template="check_in", dedupe_key=key,
                                extra={"product": "Grinder"})  # fmt: skip

        first = send("a")
        again = send("a")  # the same key, still in this batch
        assert again.existing and again.message is first.message
        assert send("b").message is not None  # the second of two
        assert send("c").refused == "over budget"
        outbox.flush()


def test_a_persons_message_needs_a_subject_and_a_text(engine: Engine, world: dict[str, int]) -> None:  # noqa: F811
    with clock.frozen(NOON), db.transaction(engine) as session:
        bea = session.get_one(Customer, world["bea"])
        queued = mail.queue_message(
            session, bea, category="service", dedupe_key="note", subject="  Your  grinder ",
            body="It is ready.\n",
        )  # fmt: skip
        assert queued.message is not None
        assert (queued.message.subject, queued.message.body) == ("Your grinder", "It is ready.")
        for subject, body, field in [(" ", "text", "subject"), ("Hello", " ", "body")]:
            with pytest.raises(InvalidInput) as refused:
                mail.queue_message(session, bea, category="service", dedupe_key=f"x{field}",
                                   subject=subject, body=body)  # fmt: skip
            assert refused.value.field == field
