"""A customer's first 60 days, day by day on a fixed clock: the playbooks and the outbox
against a real SMTP server."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from keepwell import clock, db
from keepwell.accounts.service import add_member
from keepwell.cases import service as cases
from keepwell.customers.service import create_customer
from keepwell.orders.service import NewOrder, create_orders
from keepwell.outreach.delivery import deliver
from keepwell.outreach.models import Message
from keepwell.outreach.service import add_resource, pass_on
from keepwell.playbooks.engine import run
from keepwell.playbooks.service import edit_playbook, get_playbook, install_builtins
from keepwell.tasks.models import Task
from keepwell.touches.models import Touch
from tests.outreach.smtp import SmtpServer

START = date(2026, 3, 2)


def at(day: int, hour: int = 10) -> datetime:
    return datetime.combine(START + timedelta(days=day), time(hour), UTC)


def test_sixty_days_with_a_customer(engine: Engine, smtp_server: SmtpServer) -> None:
    writer = engine.execution_options(**{db.SQLITE_WRITE: True})
    factory = db.session_factory(writer)
    birthday = START + timedelta(days=50)
    with clock.frozen(at(0, 9)), db.transaction(engine) as session:
        smtp_server.configure(session)
        install_builtins(session)
        # a backlog of one open case is enough here: the patience e-mail fires
        edit_playbook(
            session,
            get_playbook(session, "backlog-patience"),
            {"trigger_params": {"min_open": 1, "min_age_days": 0}},
        )
        ana = add_member(session, "ana@shop.example", "Ana Owner")
        bea = create_customer(
            session,
            {
                "name": "Bea Buyer",
                "email": "bea@example.org",
                "owner_id": ana.id,
                "marketing_consent": True,
                "tags": ["espresso"],
                "birthday": birthday.replace(year=1990),
            },
        )
        otto = create_customer(
            session,
            {
                "name": "Otto Out",
                "email": "otto@example.org",
                "owner_id": ana.id,
                "opted_out": True,
                "tags": ["espresso"],
            },
        )
        create_orders(
            session,
            [NewOrder(c.id, at(0, 8), 4900, "EUR", product="Grinder Pro") for c in (bea, otto)],
        )
        bea_id, otto_id = bea.id, otto.id

    sent_days: list[int] = []
    for day in range(61):
        with clock.frozen(at(day)):
            with db.transaction(writer) as session:
                if day == 16:
                    for cid in (bea_id, otto_id):
                        customer = session.get_one(type(bea), cid)
                        cases.open_case(session, customer, title="Grinder makes a noise")
                if day == 20:
                    for case in session.scalars(sa.select(cases.Case)):
                        cases.resolve(
                            session,
                            case,
                            resolution="replaced the burr",
                            root_cause_category="product",
                            prevention="burrs checked before shipping",
                        )
                if day == 21:  # a third message for Bea inside 14 days: over the budget
                    guide = add_resource(
                        session,
                        title="Dialling in espresso",
                        url="https://shop.example/guide",
                        topics=["espresso"],
                    )
                    pass_on(session, guide)
                run(session, through=START + timedelta(days=day))
            before = len(smtp_server.inbox.messages)
            deliver(factory)
            if len(smtp_server.inbox.messages) > before:
                sent_days.append(day)

    with db.transaction(engine) as session:
        tasks = session.scalars(sa.select(Task).order_by(Task.id)).all()
        bea_tasks = {t.kind: t for t in tasks if t.customer_id == bea_id}
        otto_tasks = [t.kind for t in tasks if t.customer_id == otto_id]
        # first order -> thank-you task, for both
        assert bea_tasks["thank_you"].due_on == START + timedelta(days=1)
        assert "Grinder Pro" in bea_tasks["thank_you"].reason
        assert "thank_you" in otto_tasks
        # the 30-day check-in: a task on day 30
        check_ins = [t for t in tasks if t.kind == "check_in" and t.customer_id == bea_id]
        assert [t.due_on for t in check_ins] == [START + timedelta(days=30)]
        # Otto opted out: his 14-day check-in became a task for Ana, not an e-mail
        otto_check_ins = sorted(
            t.due_on for t in tasks if t.kind == "check_in" and t.customer_id == otto_id
        )
        assert otto_check_ins == [START + timedelta(days=14), START + timedelta(days=30)]
        assert any("opted out" in t.reason for t in tasks if t.customer_id == otto_id)
        # the case resolved: one confirmation task each, never a second one
        confirms = [t for t in tasks if t.kind == "confirm_case"]
        assert sorted(t.customer_id for t in confirms) == sorted([bea_id, otto_id])
        # the birthday card, a week ahead
        card = bea_tasks["birthday_card"]
        assert card.due_on == birthday - timedelta(days=7) + timedelta(days=2)
        assert "birthday" in card.reason
        # the guide came third inside 14 days: Ana passes it on herself
        assert "pass_it_on" in bea_tasks
        messages = session.scalars(sa.select(Message).order_by(Message.id)).all()
        assert {m.template for m in messages if m.customer_id == bea_id} == {
            "check_in",
            "patience",
        }
        assert all(m.status == "sent" for m in messages)
        # every sent message is an outbound e-mail on Bea's timeline
        touches = session.scalars(
            sa.select(Touch).where(Touch.customer_id == bea_id, Touch.channel == "email")
        ).all()
        assert len(touches) == 2 and all(t.direction == "outbound" for t in touches)

    # what the SMTP server really received: Bea within the budget, Otto nothing
    to_bea = smtp_server.inbox.to("bea@example.org")
    assert len(to_bea) == 2
    assert smtp_server.inbox.to("otto@example.org") == []
    assert sent_days == [14, 16]  # 2 in 14 days: the budget, never more
    assert "Ana" in to_bea[0]["From"] and "Bea" in to_bea[0].get_content()
