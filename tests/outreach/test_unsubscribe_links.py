"""Unsubscribe links and what queueing checks (keepwell/outreach/mail.py): a link names one
customer and is signed with the desk's key; what it does; who gets which message."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine

from keepwell import clock, db
from keepwell.customers.models import Customer
from keepwell.errors import InvalidInput
from keepwell.outreach import budget, mail
from keepwell.outreach.models import Message
from tests.locks import locked_tables
from tests.outreach.test_outreach import NOON, queue, world  # noqa: F401 - the fixture


def test_a_link_names_its_customer_and_is_signed(engine: Engine, world: dict[str, int]) -> None:  # noqa: F811
    bea = world["bea"]
    with db.transaction(engine) as session:
        token = mail.unsubscribe_token(session, bea)
        head, signature = token.split(".")
        assert head == str(bea) and len(signature) == 24  # 18 bytes of the MAC
        assert len(base64.urlsafe_b64decode(signature)) == 18  # all of them, no padding
        assert mail.customer_for_token(session, token).id == bea
        key = b"another desk's key" * 2
        refused = [
            f"{world['carl']}.{signature}",  # another customer's id
            f"{bea}.{mail._sign(key, bea)}",  # another key
            f"{bea}.",
            f"{bea}",
            f"x{bea}.{signature}",
            f"-{bea}.{signature}",
            f"{'0' * 9}{bea}.{signature}",  # more than 9 digits
            f"{bea}.{signature[:-1]}",
        ]
        for text in refused:
            with pytest.raises(InvalidInput) as caught:
                mail.customer_for_token(session, text)
            assert caught.value.field == "token", text
        nobody = 987_654_321  # 9 digits, a genuine signature, no such customer
        with pytest.raises(InvalidInput):
            mail.customer_for_token(session, f"{nobody}.{mail._signature(session, nobody)}")
        padded = f"0{bea}.{mail._signature(session, bea)}"  # 0-padded: still 9 digits or fewer
        assert mail.customer_for_token(session, padded).id == bea


def test_unsubscribing_cancels_what_waits_and_keeps_the_first_opt_out(
    engine: Engine, world: dict[str, int]  # noqa: F811
) -> None:
    with clock.frozen(NOON):
        with db.transaction(engine) as session:
            budget.set_budget(session, 10, 14)
        ids = [queue(engine, world["bea"], k, "marketing").message for k in ("a", "b", "c")]
        assert all(m is not None for m in ids)
        with db.transaction(engine) as session:
            session.get_one(Message, ids[1].id).status = "failed"  # type: ignore[union-attr]
            session.get_one(Message, ids[2].id).status = "sent"  # type: ignore[union-attr]
            mail.unsubscribe(session, mail.unsubscribe_token(session, world["bea"]))
    with clock.frozen(NOON + timedelta(days=1)), db.transaction(engine) as session:
        assert [session.get_one(Message, m.id).status for m in ids] == [  # type: ignore[union-attr]
            "cancelled", "cancelled", "sent",
        ]  # fmt: skip
        mail.unsubscribe(session, mail.unsubscribe_token(session, world["bea"]))  # again
        bea = session.get_one(Customer, world["bea"])
        assert bea.opted_out_at == NOON and not bea.marketing_consent


def test_only_marketing_carries_the_link_and_the_budget_is_a_ceiling(
    engine: Engine, world: dict[str, int]  # noqa: F811
) -> None:
    with clock.frozen(NOON):
        with db.transaction(engine) as session:
            url = mail.unsubscribe_url(session, world["bea"])
            budget.set_budget(session, 3, 14)
        service = queue(engine, world["bea"], "s").message
        marketing = queue(engine, world["bea"], "m", "marketing").message
        assert service is not None and marketing is not None
        assert url not in service.body and url in marketing.body
        assert queue(engine, world["bea"], "t").message is not None  # the third of three
        assert queue(engine, world["bea"], "u").refused == "over budget"
        assert queue(engine, world["erin"], "e").refused == "opted out"
        assert queue(engine, world["dora"], "d").message is not None  # service: no consent needed
        with db.transaction(engine) as session:
            budget.set_budget(session, 0, 14)
        assert queue(engine, world["carl"], "c").refused == "over budget"


def test_a_nine_digit_customer_is_found_and_locked_while_unsubscribing(engine: Engine) -> None:
    """The customer's row is locked (FOR UPDATE on PostgreSQL) while a link is followed:
    an Outbox queueing for them locks the same row, so it waits and then sees the opt-out."""
    with db.transaction(engine) as session:
        session.add(Customer(id=123_456_789, name="Nine Digits", email="nine@example.org"))
        session.flush()
        token = mail.unsubscribe_token(session, 123_456_789)
        with locked_tables(session) as locked:
            assert mail.unsubscribe(session, token).id == 123_456_789
        assert locked == ["customers"]
