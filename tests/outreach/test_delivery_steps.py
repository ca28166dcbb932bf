"""The outbox's three steps (claim, hand over, record) in one process, with the hand-over
replaced by a function that accepts, refuses or loses the answer: what each outcome
leaves behind, and that nothing is ever handed over twice. The same rules against a real
SMTP server and real processes: tests/outreach/test_at_most_once.py."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from datetime import datetime, timedelta
from email.message import EmailMessage

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from keepwell import clock, db
from keepwell.customers.models import Customer
from keepwell.outreach import budget, delivery
from keepwell.outreach.mail import SmtpConfig
from keepwell.outreach.models import Message
from keepwell.outreach.transport import NotAccepted, OutcomeUnknown
from tests.locks import locked_tables
from tests.outreach.smtp import SmtpServer, free_port
from tests.outreach.test_outreach import NOON, factory, queue, world  # noqa: F401 - the fixture


class Server:
    """Stands for the SMTP server: answers each hand-over as told, and keeps what it took."""

    def __init__(self, *answers: Exception | None) -> None:
        self.answers = list(answers)
        self.taken: list[EmailMessage] = []

    def __call__(self, config: SmtpConfig, email: EmailMessage) -> None:
        answer = self.answers.pop(0) if self.answers else None
        if answer is not None and not isinstance(answer, OutcomeUnknown):
            raise answer
        self.taken.append(email)
        if answer is not None:
            raise answer


def setup(engine: Engine) -> None:
    """SMTP configured (the hand-over itself is the test's), and room in the budget."""
    with db.transaction(engine) as session:
        SmtpServer("127.0.0.1", free_port(), None).configure(session)  # type: ignore[arg-type]
        budget.set_budget(session, 10, 14)


def stored(engine: Engine, message_id: int) -> Message:
    with db.transaction(engine) as session:
        message = session.get_one(Message, message_id)
        session.expunge(message)
        return message


def queued(engine: Engine, customer_id: int, key: str = "a") -> int:
    message = queue(engine, customer_id, key).message
    assert message is not None
    return message.id


def test_an_accepted_message_is_sent_once(engine: Engine, world: dict[str, int]) -> None:  # noqa: F811
    server = Server()
    with clock.frozen(NOON):
        setup(engine)
        mid = queued(engine, world["bea"])
        report = delivery.deliver(factory(engine), transport=server)
        assert (report.sent, report.failed, report.unconfirmed, report.waiting) == (1, 0, 0, 0)
        assert delivery.deliver(factory(engine), transport=server).sent == 0
    message = stored(engine, mid)
    assert (message.status, message.attempts, message.next_attempt_at) == ("sent", 1, None)
    assert [m["X-Keepwell-Message"] for m in server.taken] == [str(mid)]
    assert server.taken[0]["Message-ID"] == message.message_id_header
    assert message.message_id_header.endswith("@shop.example>")  # the sender's domain
    # from the customer's owner, by name, at the desk's address; replies go to the owner
    assert (server.taken[0]["From"], server.taken[0]["Reply-To"]) == (
        "Ana Owner <desk@shop.example>", "ana@shop.example",
    )  # fmt: skip


def test_a_refusal_is_retried_later_with_a_growing_wait(engine: Engine, world: dict[str, int]) -> None:  # noqa: F811
    with clock.frozen(NOON):
        setup(engine)
        mid = queued(engine, world["bea"])
        report = delivery.deliver(factory(engine), transport=Server(NotAccepted("451 busy")))
        assert (report.sent, report.failed) == (0, 1)
    message = stored(engine, mid)
    assert (message.status, message.attempts, message.last_error) == ("failed", 1, "451 busy")
    assert message.next_attempt_at == NOON + timedelta(minutes=5)
    later = NOON + timedelta(minutes=5)
    with clock.frozen(later):  # due again at exactly that moment: refused once more
        assert delivery.deliver(factory(engine), transport=Server(NotAccepted("451"))).failed == 1
    assert stored(engine, mid).next_attempt_at == later + timedelta(minutes=10)
    # the wait doubles up to six hours
    with db.transaction(engine) as session:
        session.get_one(Message, mid).attempts = 7
        session.get_one(Message, mid).next_attempt_at = later
    with clock.frozen(later):
        delivery.deliver(factory(engine), transport=Server(NotAccepted("451")))
    assert stored(engine, mid).next_attempt_at == later + timedelta(hours=6)
    # the tenth refusal leaves it to a person
    with db.transaction(engine) as session:
        session.get_one(Message, mid).attempts = delivery.MAX_ATTEMPTS - 1
        session.get_one(Message, mid).next_attempt_at = later
    with clock.frozen(later):
        delivery.deliver(factory(engine), transport=Server(NotAccepted("451")))
    message = stored(engine, mid)
    assert (message.status, message.attempts, message.next_attempt_at) == ("failed", 10, None)


def test_the_ninth_refusal_still_waits_its_turn(engine: Engine, world: dict[str, int]) -> None:  # noqa: F811
    with clock.frozen(NOON):
        setup(engine)
        mid = queued(engine, world["bea"])
        with db.transaction(engine) as session:
            session.get_one(Message, mid).attempts = delivery.MAX_ATTEMPTS - 2
        delivery.deliver(factory(engine), transport=Server(NotAccepted("451")))
    message = stored(engine, mid)
    assert message.attempts == delivery.MAX_ATTEMPTS - 1
    assert message.next_attempt_at == NOON + timedelta(hours=6)


def test_a_lost_answer_leaves_it_unconfirmed_never_sent_again(engine: Engine, world: dict[str, int]) -> None:  # noqa: F811
    server = Server(OutcomeUnknown("connection lost after DATA"))
    with clock.frozen(NOON):
        setup(engine)
        mid = queued(engine, world["bea"])
        report = delivery.deliver(factory(engine), transport=server)
        assert (report.sent, report.unconfirmed) == (0, 1)
    with clock.frozen(NOON + timedelta(days=1)):
        assert delivery.deliver(factory(engine), transport=server).sent == 0
    message = stored(engine, mid)
    assert (message.status, message.next_attempt_at) == ("unconfirmed", None)
    assert "may have accepted" in message.last_error and "connection lost" in message.last_error
    assert len(server.taken) == 1


def test_an_unexpected_error_is_unconfirmed_and_raised(engine: Engine, world: dict[str, int]) -> None:  # noqa: F811
    with clock.frozen(NOON):
        setup(engine)
        mid = queued(engine, world["bea"])
        with pytest.raises(RuntimeError, match="bug"):
            delivery.deliver(factory(engine), transport=Server(RuntimeError("bug")))
    message = stored(engine, mid)
    assert message.status == "unconfirmed" and "RuntimeError: bug" in message.last_error


def test_consent_is_checked_again_when_claimed(engine: Engine, world: dict[str, int]) -> None:  # noqa: F811
    server = Server()
    with clock.frozen(NOON):
        setup(engine)
        mid = queued(engine, world["bea"])
        other = queued(engine, world["carl"])
        with db.transaction(engine) as session:
            session.get_one(Customer, world["bea"]).opted_out_at = NOON
        report = delivery.deliver(factory(engine), transport=server)
        assert (report.sent, report.cancelled) == (1, 1)
    message = stored(engine, mid)
    assert (message.status, message.last_error) == ("cancelled", "not sent: opted out")
    assert stored(engine, other).status == "sent"
    assert [m["To"] for m in server.taken] == ["carl@example.org"]


def test_nothing_is_claimed_in_quiet_hours_or_without_smtp(engine: Engine, world: dict[str, int]) -> None:  # noqa: F811
    server = Server()
    with clock.frozen(NOON):
        mid = queued(engine, world["bea"])
        report = delivery.deliver(factory(engine), transport=server)
        assert (report.waiting, report.sent) == (1, 0) and "SMTP" in report.note
        setup(engine)
    evening = datetime(2026, 11, 25, 21, 0, tzinfo=NOON.tzinfo)
    with db.transaction(engine) as session:
        session.get_one(Message, mid).next_attempt_at = evening
    with clock.frozen(evening):
        report = delivery.deliver(factory(engine), transport=server)
        assert (report.waiting, report.note) == (1, "quiet hours")
    assert stored(engine, mid).status == "queued" and server.taken == []
    with clock.frozen(evening - timedelta(seconds=1)):  # not due yet: nothing waits
        assert delivery.deliver(factory(engine), transport=server).waiting == 0


def test_a_claim_older_than_the_limit_is_settled_as_unconfirmed(engine: Engine, world: dict[str, int]) -> None:  # noqa: F811
    mine = f"{socket.gethostname()[:80]}:{os.getpid()}:abcd"
    with clock.frozen(NOON):
        setup(engine)
        ids = [queued(engine, world["bea"], "a"), queued(engine, world["carl"], "b")]
    with db.transaction(engine) as session:
        for mid, claimed in zip(ids, [NOON - timedelta(minutes=10), NOON - timedelta(minutes=11)], strict=True):
            message = session.get_one(Message, mid)
            message.status, message.claimed_at, message.claimed_by = "sending", claimed, mine
    with db.transaction(engine) as session:
        assert delivery.settle_abandoned(session, NOON) == 1
    assert stored(engine, ids[0]).status == "sending"  # exactly at the limit: still in time
    assert stored(engine, ids[1]).status == "unconfirmed"


def test_a_claim_whose_process_has_ended_is_settled(engine: Engine, world: dict[str, int]) -> None:  # noqa: F811
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    host = socket.gethostname()[:80]
    owners = {
        "gone": f"{host}:{ended.stdout.strip()}:abcd",
        "me": f"{host}:{os.getpid()}:abcd",
        "other host": f"elsewhere:{ended.stdout.strip()}:abcd",
        "no pid": f"{host}:x:abcd",
    }
    # a process of ours that runs until told: asking whether it runs must not signal it
    # (it dies of a hangup even when started under nohup, which would have it ignored)
    code = "import signal, sys; signal.signal(signal.SIGHUP, signal.SIG_DFL); sys.stdin.read()"
    running = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE)
    owners["running"] = f"{host}:{running.pid}:abcd"
    if os.geteuid() != 0:  # a process of another user (root may signal any process)
        owners["another user's"] = f"{host}:1:abcd"
    with clock.frozen(NOON):
        setup(engine)
        ids = {name: queued(engine, world["bea"], name) for name in owners}
    with db.transaction(engine) as session:
        for name, mid in ids.items():
            message = session.get_one(Message, mid)
            message.status, message.claimed_at, message.claimed_by = "sending", NOON, owners[name]
    try:
        with db.transaction(engine) as session:
            assert delivery.settle_abandoned(session, NOON) == 1
    finally:
        running.communicate()
    assert running.returncode == 0  # it ended as told, not by a signal
    assert {name: stored(engine, mid).status for name, mid in ids.items()} == {
        name: "unconfirmed" if name == "gone" else "sending" for name in owners
    }


def test_an_outcome_is_recorded_only_for_the_latest_claim(engine: Engine, world: dict[str, int]) -> None:  # noqa: F811
    with clock.frozen(NOON):
        setup(engine)
        mid = queued(engine, world["bea"])

    def claimed_again_meanwhile(config: SmtpConfig, email: EmailMessage) -> None:
        with db.transaction(engine) as session:
            session.get_one(Message, mid).claimed_by = "a person's retry"

    with clock.frozen(NOON):
        report = delivery.deliver(factory(engine), transport=claimed_again_meanwhile)
    assert report.sent == 0
    assert stored(engine, mid).status == "sending"


def test_due_means_due_by_now(engine: Engine, world: dict[str, int]) -> None:  # noqa: F811
    with clock.frozen(NOON):
        mid = queued(engine, world["bea"])
    with db.transaction(engine) as session:
        due = lambda now: list(session.scalars(delivery.due_query(now)))  # noqa: E731
        assert due(NOON) == [mid] and due(NOON - timedelta(seconds=1)) == []
        session.get_one(Message, mid).status = "sent"
        session.flush()
        assert due(NOON) == []
    with db.transaction(engine) as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Message)) == 1


@pytest.mark.parametrize("answer", [NotAccepted("550 " + "no such mailbox " * 200), OutcomeUnknown("lost")])
def test_one_refused_or_lost_message_does_not_end_the_round(
    engine: Engine, world: dict[str, int], answer: Exception  # noqa: F811
) -> None:
    server = Server(answer, None)
    with clock.frozen(NOON):
        setup(engine)
        first, second = queued(engine, world["bea"]), queued(engine, world["carl"])
        report = delivery.deliver(factory(engine), transport=server)
    assert (report.sent, report.failed + report.unconfirmed) == (1, 1)
    assert stored(engine, second).status == "sent"
    error = stored(engine, first).last_error
    assert len(error) <= 2000 and error.startswith(("550 no such mailbox", "the server may have"))
    if isinstance(answer, NotAccepted):  # the server's long answer, kept to 2,000 characters
        assert error == str(answer)[:2000] and len(str(answer)) > 2000


def flaky(engine: Engine, failing: set[int]):  # type: ignore[no-untyped-def]
    """A session maker whose sessions fail to open on the calls numbered in `failing`
    (1: the round's start, 2: the claim, 3 on: recording the outcome)."""
    made = factory(engine)
    calls = 0

    def open_session():  # type: ignore[no-untyped-def]
        nonlocal calls
        calls += 1
        if calls in failing:
            raise sa.exc.OperationalError("BEGIN", {}, Exception("database is locked"))
        return made()

    return open_session


def test_recording_an_outcome_is_tried_three_times(engine: Engine, world: dict[str, int]) -> None:  # noqa: F811
    server = Server()
    with clock.frozen(NOON):
        setup(engine)
        mid = queued(engine, world["bea"], "a")
        assert delivery.deliver(flaky(engine, {3, 4}), transport=server).sent == 1
        assert stored(engine, mid).status == "sent"
        other = queued(engine, world["carl"], "b")
        with pytest.raises(sa.exc.OperationalError):
            delivery.deliver(flaky(engine, {3, 4, 5}), transport=server)
    # handed over once, its outcome lost: it stays claimed (settled as unconfirmed later)
    assert stored(engine, other).status == "sending" and len(server.taken) == 2


def test_the_claims_to_settle_and_the_message_recorded_are_locked(engine: Engine, world: dict[str, int]) -> None:  # noqa: F811
    """A round first locks the claims it may settle, and each outcome is recorded under the
    message's lock (FOR UPDATE on PostgreSQL): two senders never settle or record one
    message at once."""
    made = factory(engine)
    with clock.frozen(NOON):
        setup(engine)
        queued(engine, world["bea"])
        with locked_tables(made) as locked:
            assert delivery.deliver(made, transport=Server()).sent == 1
    assert locked == ["outbox_messages", "outbox_messages"]

