"""One Outbox queueing for many customers at once (a playbook's day): the budget and the
dedupe keys count what this batch queued too, and a person's own text is checked; what a
queued message holds (its address, who it is from, no attempt yet, the link once)."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine

from keepwell import clock, db
from keepwell.accounts.models import TeamMember
from keepwell.accounts.service import add_member
from keepwell.customers.models import Customer
from keepwell.errors import InvalidInput
from keepwell.outreach import budget, mail
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


def test_a_queued_message_is_to_the_customer_from_the_owner_or_the_member_named(
    engine: Engine, world: dict[str, int]  # noqa: F811
) -> None:
    with clock.frozen(NOON), db.transaction(engine) as session:
        budget.set_budget(session, 1, 14)  # one message each: the first fits
        cy = add_member(session, "cy@shop.example", "Cy Cover")
        bea, carl = session.get_one(Customer, world["bea"]), session.get_one(Customer, world["carl"])

        def check_in(customer: Customer, member: TeamMember | None = None) -> mail.Queued:
            return mail.queue_message(session, customer, category="service", template="check_in",
                                      dedupe_key="c", extra={"product": "Grinder"}, member=member)  # fmt: skip

        owners, covered = check_in(carl).message, check_in(bea, cy).message
        assert owners is not None and covered is not None
        assert (owners.to_address, owners.member_id, owners.attempts) == ("carl@example.org", world["ana"], 0)
        assert "Ana Owner" in owners.body and "Cy Cover" not in owners.body
        assert (covered.to_address, covered.member_id, covered.attempts) == ("bea@example.org", cy.id, 0)
        assert "Cy Cover" in covered.body and "Ana Owner" not in covered.body
        assert check_in(bea, cy).existing  # the same key: the one queued before


def test_a_subject_and_a_text_of_the_longest_length_are_queued(engine: Engine, world: dict[str, int]) -> None:  # noqa: F811
    with clock.frozen(NOON), db.transaction(engine) as session:
        dora = session.get_one(Customer, world["dora"])
        longest = mail.queue_message(session, dora, category="service", dedupe_key="long",
                                     subject="s" * mail.MAX_SUBJECT, body="b" * mail.MAX_BODY)  # fmt: skip
        assert longest.message is not None
        for subject, body, field in [
            ("s" * (mail.MAX_SUBJECT + 1), "text", "subject"), ("Hello", "b" * (mail.MAX_BODY + 1), "body"),
        ]:  # fmt: skip
            with pytest.raises(InvalidInput) as refused:
                mail.queue_message(session, dora, category="service", dedupe_key=field,
                                   subject=subject, body=body)  # fmt: skip
            assert refused.value.field == field


def test_a_template_that_shows_the_link_gets_it_once(engine: Engine, world: dict[str, int]) -> None:  # noqa: F811
    with clock.frozen(NOON), db.transaction(engine) as session:
        bea = session.get_one(Customer, world["bea"])
        url = mail.unsubscribe_url(session, bea.id)
        queued = mail.queue_message(session, bea, category="marketing", template="pass_it_on",
                                    dedupe_key="p", extra={"title": "Descaling", "url": "https://example.org/d"})  # fmt: skip
        assert queued.message is not None
        assert queued.message.body.count(url) == 1
        assert queued.message.body.rstrip().endswith(f"No more e-mails like this: {url}")
