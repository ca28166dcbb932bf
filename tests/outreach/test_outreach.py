"""The outbox against a real SMTP server, unsubscribing, the calendar feed, pass it on."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import icalendar
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from keepwell import clock, db
from keepwell.accounts.models import AuditEntry
from keepwell.accounts.service import add_member
from keepwell.customers.models import Customer
from keepwell.customers.privacy import erase_customer, export_customer
from keepwell.customers.service import create_customer
from keepwell.customers.special_dates import set_birthday
from keepwell.errors import InvalidInput
from keepwell.orders.service import NewOrder, create_orders
from keepwell.outreach import budget, delivery, mail
from keepwell.outreach.calendar import new_feed
from keepwell.outreach.models import Message
from keepwell.outreach.service import add_resource, draft_for, pass_on
from keepwell.promises.service import make_promise
from keepwell.tasks.models import Task
from keepwell.tasks.service import create_task
from tests.api.conftest import Desk, make_desk
from tests.outreach.smtp import SmtpServer, free_port

NOON = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.fixture
def world(engine: Engine) -> Iterator[dict[str, int]]:
    with clock.frozen(NOON), db.transaction(engine) as session:
        ana = add_member(session, "ana@shop.example", "Ana Owner")
        ids = {"ana": ana.id}
        for key, fields in {
            "bea": {
                "name": "Bea",
                "email": "bea@example.org",
                "marketing_consent": True,
                "tags": ["espresso"],
            },
            "carl": {
                "name": "Carl",
                "email": "carl@example.org",
                "marketing_consent": True,
                "tags": ["tea"],
                "personal_notes": "likes green tea",
            },
            "dora": {"name": "Dora", "email": "dora@example.org", "tags": ["espresso"]},
            "erin": {
                "name": "Erin",
                "email": "erin@example.org",
                "tags": ["espresso"],
                "opted_out": True,
            },
        }.items():
            ids[key] = create_customer(session, {**fields, "owner_id": ana.id}).id
    yield ids


def queue(engine: Engine, customer_id: int, key: str, category: str = "service") -> mail.Queued:
    with db.transaction(engine) as session:
        customer = session.get_one(Customer, customer_id)
        return mail.queue_message(
            session,
            customer,
            category=category,
            template="check_in",
            dedupe_key=key,
            extra={"product": "Grinder"},
        )


def factory(engine: Engine):  # type: ignore[no-untyped-def]
    return db.session_factory(engine.execution_options(**{db.SQLITE_WRITE: True}))


def test_a_failed_send_is_retried_and_listed_never_lost(
    engine: Engine, world: dict[str, int], smtp_server: SmtpServer
) -> None:
    down = SmtpServer("127.0.0.1", free_port(), smtp_server.inbox)  # nothing listens there
    with clock.frozen(NOON):
        with db.transaction(engine) as session:
            down.configure(session)
        assert queue(engine, world["bea"], "k1").message is not None
        report = delivery.deliver(factory(engine))
        assert (report.sent, report.failed) == (0, 1)
        with db.transaction(engine) as session:
            failed = mail.list_messages(session, mail.MessageFilter(status="failed"))
            assert len(failed) == 1 and failed[0].attempts == 1
            assert "Connection" in failed[0].last_error or "refused" in failed[0].last_error
            assert failed[0].next_attempt_at == NOON + delivery.FIRST_WAIT
        assert delivery.deliver(factory(engine)).failed == 0  # not due again yet: backoff
    with clock.frozen(NOON + timedelta(minutes=6)):
        with db.transaction(engine) as session:
            smtp_server.configure(session)  # the server is back
        report = delivery.deliver(factory(engine))
        assert report.sent == 1
    assert [m["To"] for m in smtp_server.inbox.messages] == ["bea@example.org"]
    with db.transaction(engine) as session:
        message = session.scalars(sa.select(Message)).one()
        assert (message.status, message.attempts, message.last_error) == ("sent", 2, "")
        assert message.touch_id is not None


def test_a_message_that_used_up_its_attempts_waits_for_a_person(
    engine: Engine, world: dict[str, int]
) -> None:
    with clock.frozen(NOON):
        with db.transaction(engine) as session:
            SmtpServer("127.0.0.1", free_port(), None).configure(session)  # type: ignore[arg-type]
        message = queue(engine, world["bea"], "k1").message
        assert message is not None
        with db.transaction(engine) as session:
            session.get_one(Message, message.id).attempts = delivery.MAX_ATTEMPTS - 1
        delivery.deliver(factory(engine))
        with db.transaction(engine) as session:
            stored = session.get_one(Message, message.id)
            assert stored.status == "failed" and stored.next_attempt_at is None
            state = mail.outbox_state(session)
            assert (state.failed, state.gave_up) == (1, 1)
            mail.retry(session, message.id)
            assert stored.status == "queued"
            with pytest.raises(InvalidInput, match="status"):
                mail.retry(session, message.id)


def test_budget_consent_and_quiet_hours(engine: Engine, world: dict[str, int]) -> None:
    with clock.frozen(NOON):
        assert queue(engine, world["bea"], "a").message is not None
        assert queue(engine, world["bea"], "a").existing  # the same message is not queued twice
        assert queue(engine, world["bea"], "b").message is not None
        assert queue(engine, world["bea"], "c").refused == "over budget"
        assert queue(engine, world["dora"], "m", "marketing").refused == "no marketing consent"
    with clock.frozen(NOON + timedelta(days=15)):  # the window moved on
        assert queue(engine, world["bea"], "c").message is not None
    with (
        clock.frozen(datetime(2026, 11, 25, 21, 30, tzinfo=UTC)),
        db.transaction(engine) as session,
    ):
        quiet = budget.quiet_hours(session)
        assert quiet.contains(clock.now())
        assert quiet.next_open(clock.now()) == datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
        with pytest.raises(InvalidInput, match="timezone"):
            budget.set_quiet_hours(session, "20:00", "08:00", "Mars/Olympus")
        with pytest.raises(InvalidInput, match="messages"):
            budget.set_budget(session, -1, 14)


def test_messages_in_flight_or_unconfirmed_count_against_the_budget(
    engine: Engine, world: dict[str, int]
) -> None:
    with clock.frozen(NOON):
        first, second = (queue(engine, world["bea"], key).message for key in ("a", "b"))
        assert first is not None and second is not None
        with db.transaction(engine) as session:
            session.get_one(Message, first.id).status = "sending"
            session.get_one(Message, second.id).status = "unconfirmed"
        assert queue(engine, world["bea"], "c").refused == "over budget"


def test_unsubscribe_link_records_the_opt_out_and_a_forged_one_writes_nothing(
    engine: Engine, world: dict[str, int]
) -> None:
    desk: Desk = make_desk(engine)
    with clock.frozen(NOON), desk.client:
        queued = queue(engine, world["bea"], "m1", "marketing")
        assert queued.message is not None
        with db.transaction(engine) as session:
            url = mail.unsubscribe_url(session, world["bea"])
            assert url in session.get_one(Message, queued.message.id).body
            entries = session.scalar(sa.select(sa.func.count()).select_from(AuditEntry))
        path = url.split("8000", 1)[1]
        forged = path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB")
        for attempt in (forged, f"/u/{world['carl']}.{path.rsplit('.', 1)[1]}", "/u/nonsense"):
            answer = desk.client.post(attempt)
            assert answer.status_code == 400 and "not valid" in answer.text
        with db.transaction(engine) as session:
            assert session.get_one(Customer, world["bea"]).opted_out_at is None
            assert session.get_one(Customer, world["carl"]).opted_out_at is None
            assert session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == entries
        assert desk.client.get(path).status_code == 200  # asks to confirm, changes nothing
        assert desk.client.post(path).status_code == 200
        with db.transaction(engine) as session:
            bea = session.get_one(Customer, world["bea"])
            assert bea.opted_out_at is not None and not bea.marketing_consent
            assert session.get_one(Message, queued.message.id).status == "cancelled"
        assert queue(engine, world["bea"], "m2").refused == "opted out"


def test_the_calendar_feed_parses_and_a_rotated_url_stops(
    engine: Engine, world: dict[str, int]
) -> None:
    desk: Desk = make_desk(engine)
    with clock.frozen(NOON), desk.client:
        with db.transaction(engine) as session:
            bea = session.get_one(Customer, world["bea"])
            ana = bea.owner_id
            assert ana is not None
            create_task(
                session,
                bea,
                kind="call",
                due_on=date(2026, 11, 27),
                reason="Ask, about the grinder; and the; commas",
            )
            make_promise(session, bea, what="Send the manual", due_at=NOON + timedelta(days=2))
            set_birthday(session, bea, date(1990, 12, 10))
        answer = desk.client.post("/api/outreach/calendar", headers=desk.auth("member"))
        assert answer.status_code == 201
        with db.transaction(engine) as session:
            from keepwell.accounts.models import TeamMember

            token = new_feed(session, session.get_one(TeamMember, ana))
        feed = desk.client.get(f"/ics/{token}.ics")
        assert feed.status_code == 200 and feed.headers["content-type"].startswith("text/calendar")
        calendar = icalendar.Calendar.from_ical(feed.content)
        events = {str(e["UID"]): e for e in calendar.walk("VEVENT")}
        task = next(e for uid, e in events.items() if uid.startswith("task-"))
        assert str(task["SUMMARY"]) == "call: Bea"
        assert "Ask, about the grinder; and the; commas" in str(task["DESCRIPTION"])
        assert task.decoded("DTSTART") == date(2026, 11, 27)
        promise = next(e for uid, e in events.items() if uid.startswith("promise-"))
        assert promise.decoded("DTSTART") == NOON + timedelta(days=2)
        assert any(
            str(e["SUMMARY"]).endswith(": Bea") and e.decoded("DTSTART") == date(2026, 12, 10)
            for uid, e in events.items()
            if uid.startswith("date-")
        )
        with db.transaction(engine) as session:
            new_feed(session, session.get_one(TeamMember, ana))  # rotate
        assert desk.client.get(f"/ics/{token}.ics").status_code == 404
        assert desk.client.get("/ics/forged.ics").status_code == 404


def test_pass_it_on_reaches_only_the_customers_it_concerns(
    engine: Engine, world: dict[str, int]
) -> None:
    with clock.frozen(NOON), db.transaction(engine) as session:
        create_orders(
            session, [NewOrder(world["carl"], NOON, 900, "EUR", product="Espresso beans")]
        )
        guide = add_resource(
            session, title="Better espresso", url="https://shop.example/e", topics=["Espresso"]
        )
        done = pass_on(session, guide)
        # Bea (tag) and Carl (bought beans) by e-mail; Dora (tag, no consent) by her owner;
        # Erin opted out: nothing at all
        assert (done.matched, done.emailed, done.tasks) == (3, 2, 1)
        assert pass_on(session, guide) == type(done)(3, 0, 0)  # twice adds nothing
        tea = add_resource(
            session, title="Tea time", url="https://shop.example/t", topics=["oolong"]
        )
        assert pass_on(session, tea).matched == 0  # concerns nobody: nobody gets anything
        assert session.scalars(
            sa.select(Task.customer_id).where(Task.kind == "pass_it_on")
        ).all() == [world["dora"]]
        for bad in ({"url": "javascript:alert(1)"}, {"topics": []}, {"title": " "}):
            fields = {"title": "T", "url": "https://x.example", "topics": ["a"], **bad}
            with pytest.raises(InvalidInput) as caught:
                add_resource(session, **fields)  # type: ignore[arg-type]
            assert caught.value.field == next(iter(bad))


def test_what_we_did_for_you_and_privacy(engine: Engine, world: dict[str, int]) -> None:
    from keepwell.cases.service import open_case, resolve

    with clock.frozen(NOON), db.transaction(engine) as session:
        bea = session.get_one(Customer, world["bea"])
        case = open_case(session, bea, title="Late delivery")
        resolve(
            session,
            case,
            resolution="sent by courier",
            root_cause_category="delivery",
            prevention="a second carrier",
        )
        draft = draft_for(session, bea, date(2026, 11, 1), date(2026, 11, 30))
        assert "Late delivery" in draft.body and "a second carrier" in draft.body
        assert draft.body.rstrip().splitlines()[-3].startswith("How did we do?")
        with pytest.raises(InvalidInput, match="end"):
            draft_for(session, bea, date(2026, 11, 30), date(2026, 11, 1))
        mail.queue_message(
            session, bea, category="service", subject="Hi", body="Dear Bea", dedupe_key="note"
        )
        assert export_customer(session, bea)["messages"][0]["body"] == "Dear Bea"
        erase_customer(session, bea)
        assert session.scalars(sa.select(Message)).all() == []


def test_status_endpoint(engine: Engine) -> None:
    desk: Desk = make_desk(engine)
    with clock.frozen(NOON), desk.client:
        answer = desk.client.get("/api/status", headers=desk.auth("viewer"))
        assert answer.status_code == 200
        checks = {c["name"]: c for c in answer.json()["checks"]}
        assert checks["playbooks"]["level"] == "warning"
        assert (
            desk.client.post("/api/playbooks/run", headers=desk.auth("member")).status_code == 403
        )
        ran = desk.client.post(
            "/api/playbooks/run", json={"dry_run": False}, headers=desk.auth("admin")
        )
        assert ran.status_code == 200, ran.text
        answer = desk.client.get("/api/status", headers=desk.auth("viewer"))
        assert {c["name"]: c["level"] for c in answer.json()["checks"]}["playbooks"] == "ok"
        assert desk.client.get("/api/status").status_code == 401


def test_the_api_lists_unconfirmed_messages_with_their_message_id(
    engine: Engine, world: dict[str, int]
) -> None:
    desk: Desk = make_desk(engine)
    with clock.frozen(NOON):
        message = queue(engine, world["bea"], "unsure").message
        assert message is not None
        with db.transaction(engine) as session:
            stored = session.get_one(Message, message.id)
            stored.status, stored.next_attempt_at = "unconfirmed", None
            stored.message_id_header, stored.claimed_at = "<unsure@shop.example>", NOON
        with desk.client:
            member = desk.auth("member")
            listed = desk.client.get(
                "/api/outreach/messages", params={"status": "unconfirmed"}, headers=member
            )
            assert listed.status_code == 200, listed.text
            assert [(m["id"], m["message_id_header"]) for m in listed.json()] == [
                (message.id, "<unsure@shop.example>")
            ]
            path = f"/api/outreach/messages/{message.id}/confirm"
            assert desk.client.post(path, headers=desk.auth("viewer")).status_code == 403
            confirmed = desk.client.post(path, headers=member)
            assert confirmed.status_code == 200, confirmed.text
            assert confirmed.json()["status"] == "sent"
            assert confirmed.json()["sent_at"].startswith("2026-11-25T12:00:00")
            again = desk.client.post(path, headers=member)
            assert again.status_code == 422 and "not unconfirmed" in again.text
    with db.transaction(engine) as session:
        assert session.get_one(Message, message.id).touch_id is not None
