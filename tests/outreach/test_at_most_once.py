"""Each outbox message reaches the SMTP server at most once — `keepwell outreach send` run
as real processes against a real SMTP server (aiosmtpd), on SQLite and PostgreSQL:

- a desk's due messages are delivered once each; a second run delivers nothing;
- a sender that dies once the server has the message (right after the server accepted,
  or while the server's answer is on its way) leaves it unconfirmed, never sent again;
- two senders at once deliver every message exactly once;
- what the server refused, or could not take, is sent again later, once.

The server counts what it took by Message-ID and by the outbox row it came from
(X-Keepwell-Message): a message sent twice would show twice in either count.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from keepwell import clock, db
from keepwell.accounts.service import add_member
from keepwell.customers.service import create_customer
from keepwell.outreach import delivery, mail
from keepwell.outreach.models import Message
from keepwell.outreach.transport import smtp_send
from keepwell.touches.models import Touch
from tests.outreach.smtp import Inbox, SmtpServer, free_port

NOON = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def url_of(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def command(engine: Engine, *args: str) -> list[str]:
    return [sys.executable, "-m", "keepwell", *args, "--database", url_of(engine)]


def environment(now: datetime, extra: dict[str, str] | None = None) -> dict[str, str]:
    """This process's environment without SMTP settings (the desk's apply) or the fault
    hook, with the clock fixed at `now`."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("KEEPWELL_SMTP_") and k != delivery.CRASH_AFTER_HANDOFF
    }
    return {**env, "KEEPWELL_NOW": now.isoformat(), **(extra or {})}


def keepwell(
    engine: Engine, *args: str, now: datetime = NOON, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command(engine, *args),
        env=environment(now, env),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def sent_count(output: str) -> int:
    found = re.search(r"Sent (\d+),", output)
    assert found is not None, output
    return int(found.group(1))


def desk(engine: Engine, server: SmtpServer, messages: int) -> list[int]:
    """A desk pointed at `server`, with one due check-in to each of `messages` customers."""
    ids: list[int] = []
    with clock.frozen(NOON), db.transaction(engine) as session:
        server.configure(session)
        ana = add_member(session, "ana@shop.example", "Ana Owner")
        for n in range(messages):
            customer = create_customer(
                session, {"name": f"Customer {n}", "email": f"c{n}@example.org", "owner_id": ana.id}
            )
            queued = mail.queue_message(
                session,
                customer,
                category="service",
                template="check_in",
                dedupe_key="check-in",
                extra={"product": "Grinder"},
            )
            assert queued.message is not None
            ids.append(queued.message.id)
    return ids


def stored(engine: Engine) -> dict[int, Message]:
    with db.session_factory(engine)() as session:
        return {m.id: m for m in session.scalars(sa.select(Message))}


def email_touches(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                sa.select(sa.func.count())
                .select_from(Touch)
                .where(Touch.channel == "email", Touch.direction == "outbound")
            ).scalar_one()
        )


def once_each(inbox: Inbox, ids: list[int]) -> None:
    """The server took each of these outbox messages exactly once, and nothing else."""
    by_row = inbox.count("X-Keepwell-Message")
    assert sorted(int(k) for k in by_row) == sorted(ids)
    assert set(by_row.values()) == {1}, by_row
    assert set(inbox.count("Message-ID").values()) == {1}


# --- 1. the command delivers each due message once --------------------------------------


def test_send_as_a_command_delivers_each_due_message_once(
    engine: Engine, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    with clock.frozen(NOON), db.transaction(engine) as session:
        smtp_server.configure(session)
        ana = add_member(session, "ana@shop.example", "Ana Owner")
        for name, consent in (("bea", True), ("carl", True), ("dora", False)):
            create_customer(
                session,
                {
                    "name": name.title(),
                    "email": f"{name}@example.org",
                    "marketing_consent": consent,
                    "tags": ["espresso"],
                    "owner_id": ana.id,
                },
            )
    # queued by `outreach pass-on` and `outreach write`, each its own process
    added = keepwell(
        engine, "outreach", "resource-add", "Espresso guide", "https://shop.example/espresso",
        "--topic", "espresso",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    resource = re.search(r"Resource #(\d+)", added.stdout)
    assert resource is not None, added.stdout
    passed = keepwell(engine, "outreach", "pass-on", resource.group(1))
    assert passed.returncode == 0, passed.stderr
    assert "3 customers concerned: 2 e-mailed, 1 tasks" in passed.stdout
    note = tmp_path / "note.txt"
    note.write_text("Hello Dora,\n\nthank you for your patience.\n", encoding="utf-8")
    written = keepwell(
        engine, "outreach", "write", "dora@example.org", "--subject", "Thank you",
        "--body", str(note),
    )  # fmt: skip
    assert written.returncode == 0, written.stderr
    assert "queued" in written.stdout

    first = keepwell(engine, "outreach", "send")
    assert first.returncode == 0, first.stderr
    assert "Sent 3, failed 0, cancelled 0, waiting 0." in first.stdout
    assert "Traceback" not in first.stderr
    inbox = smtp_server.inbox
    assert sorted(m["To"] for m in inbox.messages) == [
        "bea@example.org", "carl@example.org", "dora@example.org",
    ]  # fmt: skip
    rows = stored(engine)
    once_each(inbox, list(rows))
    for message in inbox.messages:  # the Message-ID sent is the one stored
        row = rows[int(message["X-Keepwell-Message"])]
        assert (row.status, row.message_id_header) == ("sent", message["Message-ID"])
        assert row.touch_id is not None and row.claimed_by is not None
    assert email_touches(engine) == 3

    second = keepwell(engine, "outreach", "send")
    assert second.returncode == 0, second.stderr
    assert sent_count(second.stdout) == 0
    assert len(inbox.messages) == 3 and email_touches(engine) == 3


# --- 2. a sender dies once the server has the message ------------------------------------


def test_a_crash_right_after_the_server_accepted_never_sends_it_again(
    engine: Engine, smtp_server: SmtpServer
) -> None:
    ids = desk(engine, smtp_server, 2)
    inbox = smtp_server.inbox
    crashed = keepwell(engine, "outreach", "send", env={delivery.CRASH_AFTER_HANDOFF: "1"})
    assert crashed.returncode == 70, crashed.stderr  # os._exit after the first handoff
    assert len(inbox.messages) == 1
    handed = inbox.messages[0]
    first = int(handed["X-Keepwell-Message"])
    (other,) = set(ids) - {first}
    rows = stored(engine)
    assert rows[first].status == "sending"  # claimed, outcome unrecorded: not queued
    assert rows[first].message_id_header == handed["Message-ID"]
    assert rows[other].status == "queued"

    after = keepwell(engine, "outreach", "send")
    assert after.returncode == 1, after.stderr  # something needs a person: exit 1
    assert "Sent 1," in after.stdout and "1 unconfirmed" in after.stdout
    once_each(inbox, ids)
    rows = stored(engine)
    assert (rows[first].status, rows[first].touch_id) == ("unconfirmed", None)
    assert "may have accepted" in rows[first].last_error
    assert rows[other].status == "sent"
    assert email_touches(engine) == 1

    again = keepwell(engine, "outreach", "send", now=NOON + timedelta(days=1))
    assert again.returncode == 0, again.stderr
    assert sent_count(again.stdout) == 0
    once_each(inbox, ids)

    # listed for a person, with the Message-ID to look up in the server's log
    listed = keepwell(engine, "outreach", "list", "--status", "unconfirmed", "--json")
    assert listed.returncode == 0, listed.stderr
    assert '"message_id_header": ' + f'"{handed["Message-ID"]}"' in listed.stdout
    assert f'"id": {first},' in listed.stdout and f'"id": {other},' not in listed.stdout
    doctor = keepwell(engine, "doctor")
    assert "1 unconfirmed" in doctor.stdout
    # found in the log: recorded as sent, on the timeline, at the handoff's time
    confirmed = keepwell(engine, "outreach", "confirm", str(first))
    assert confirmed.returncode == 0, confirmed.stderr
    row = stored(engine)[first]
    assert (row.status, row.sent_at) == ("sent", NOON)
    assert row.touch_id is not None and email_touches(engine) == 2
    refused = keepwell(engine, "outreach", "confirm", str(first))
    assert refused.returncode == 1 and "is sent, not unconfirmed" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_a_sender_killed_while_the_server_answers_never_sends_it_again(
    engine: Engine, smtp_server: SmtpServer
) -> None:
    """No hook: the server itself kills the sender once the text has arrived and before
    it answers 250 (the server keeps the message). Before the claim, the message stayed
    queued and the next run sent it a second time."""
    ids = desk(engine, smtp_server, 2)
    inbox = smtp_server.inbox
    started = threading.Event()
    sender: list[subprocess.Popen[str]] = []

    def kill_the_sender(_: EmailMessage) -> None:
        inbox.before_answer = None  # the first message only
        assert started.wait(60)
        os.kill(sender[0].pid, signal.SIGKILL)

    inbox.before_answer = kill_the_sender
    sender.append(
        subprocess.Popen(
            command(engine, "outreach", "send"),
            env=environment(NOON),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    )
    started.set()
    sender[0].communicate(timeout=300)
    assert sender[0].returncode == -signal.SIGKILL
    assert len(inbox.messages) == 1
    first = int(inbox.messages[0]["X-Keepwell-Message"])

    after = keepwell(engine, "outreach", "send")
    assert "Sent 1," in after.stdout and "1 unconfirmed" in after.stdout, after.stderr
    again = keepwell(engine, "outreach", "send", now=NOON + timedelta(days=1))
    assert sent_count(again.stdout) == 0, again.stderr
    once_each(inbox, ids)
    assert stored(engine)[first].status == "unconfirmed"


def test_a_connection_lost_after_the_text_was_handed_over_is_unconfirmed(
    engine: Engine, smtp_server: SmtpServer
) -> None:
    """The server took the text and the connection broke before its answer arrived: the
    server may have the message, so it is not sent again."""
    ids = desk(engine, smtp_server, 1)
    inbox = smtp_server.inbox
    inbox.answers.append("drop")
    lost = keepwell(engine, "outreach", "send")
    assert lost.returncode == 1, lost.stderr
    assert "Sent 0, failed 0" in lost.stdout and "1 unconfirmed" in lost.stdout
    row = stored(engine)[ids[0]]
    assert row.status == "unconfirmed" and "may have accepted" in row.last_error
    assert "SMTPServerDisconnected" in row.last_error
    later = keepwell(engine, "outreach", "send", now=NOON + timedelta(days=1))
    assert later.returncode == 0 and sent_count(later.stdout) == 0, later.stderr
    assert len(inbox.offered) == 1
    once_each(inbox, ids)


# --- 3. two senders at once ----------------------------------------------------------------


def test_two_send_commands_at_once_deliver_each_message_exactly_once(
    engine: Engine, smtp_server: SmtpServer
) -> None:
    ids = desk(engine, smtp_server, 30)
    senders = [
        subprocess.Popen(
            command(engine, "outreach", "send"),
            env=environment(NOON),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [s.communicate(timeout=300) for s in senders]
    for sender, (_, err) in zip(senders, outputs, strict=True):
        assert sender.returncode == 0, err
    assert sum(sent_count(out) for out, _ in outputs) == 30
    once_each(smtp_server.inbox, ids)
    assert {m.status for m in stored(engine).values()} == {"sent"}
    assert email_touches(engine) == 30


def test_a_sender_holding_a_message_mid_send_never_shares_it(
    engine: Engine, smtp_server: SmtpServer
) -> None:
    """Two senders, each with its own engine: A claims a message and is held before the
    server gets it until B has delivered one; then both go on over the same list."""
    ids = desk(engine, smtp_server, 6)
    a_holds, b_delivered = threading.Event(), threading.Event()
    held: list[str] = []
    results: dict[str, delivery.Delivery | BaseException] = {}

    def a_transport(config: mail.SmtpConfig, email: EmailMessage) -> None:
        if not held:
            held.append(str(email["X-Keepwell-Message"]))
            a_holds.set()
            b_delivered.wait(120)
        smtp_send(config, email)

    def b_transport(config: mail.SmtpConfig, email: EmailMessage) -> None:
        smtp_send(config, email)
        b_delivered.set()

    def sender(name: str, transport: delivery.Transport) -> None:
        own = db.make_engine(url_of(engine))
        try:
            writer = own.execution_options(**{db.SQLITE_WRITE: True})
            results[name] = delivery.deliver(db.session_factory(writer), transport=transport)
        except BaseException as exc:
            results[name] = exc
        finally:
            own.dispose()

    with clock.frozen(NOON):
        a = threading.Thread(target=sender, args=("a", a_transport))
        a.start()
        assert a_holds.wait(120)
        b = threading.Thread(target=sender, args=("b", b_transport))
        b.start()
        b.join(300)
        a.join(300)
    assert b_delivered.is_set()  # B delivered while A held its claim
    a_did, b_did = results["a"], results["b"]
    assert isinstance(a_did, delivery.Delivery) and isinstance(b_did, delivery.Delivery)
    assert a_did.sent >= 1 and b_did.sent >= 1 and a_did.sent + b_did.sent == 6
    assert (a_did.failed, b_did.failed, a_did.unconfirmed, b_did.unconfirmed) == (0, 0, 0, 0)
    once_each(smtp_server.inbox, ids)
    assert held[0] in smtp_server.inbox.count("X-Keepwell-Message")


# --- 4. what the server never accepted is sent again, once --------------------------------


@pytest.mark.parametrize("refusal", ["451 at DATA", "connection refused"])
def test_what_the_server_did_not_accept_is_sent_later_once(
    engine: Engine, smtp_server: SmtpServer, refusal: str
) -> None:
    ids = desk(engine, smtp_server, 1)
    inbox = smtp_server.inbox
    if refusal == "451 at DATA":
        inbox.answers.append("451 4.3.0 Try again later")
    else:
        with db.transaction(engine) as session:  # nothing listens there
            SmtpServer("127.0.0.1", free_port(), inbox).configure(session)
    refused = keepwell(engine, "outreach", "send")
    assert refused.returncode == 1, refused.stderr
    assert "Sent 0, failed 1" in refused.stdout and "unconfirmed" not in refused.stdout
    assert inbox.messages == []
    row = stored(engine)[ids[0]]
    assert (row.status, row.attempts) == ("failed", 1)
    assert row.next_attempt_at == NOON + delivery.FIRST_WAIT
    expected = "451" if refusal == "451 at DATA" else "Connection refused"
    assert expected in row.last_error
    first_id = row.message_id_header
    assert first_id is not None
    if refusal == "451 at DATA":
        assert inbox.offered[0]["Message-ID"] == first_id
    else:
        with db.transaction(engine) as session:  # the server is back
            smtp_server.configure(session)

    early = keepwell(engine, "outreach", "send", now=NOON + timedelta(minutes=2))
    assert early.returncode == 0 and sent_count(early.stdout) == 0, early.stderr
    later = keepwell(engine, "outreach", "send", now=NOON + timedelta(minutes=6))
    assert later.returncode == 0, later.stderr
    assert sent_count(later.stdout) == 1
    once_each(inbox, ids)
    assert inbox.messages[0]["Message-ID"] == first_id  # one Message-ID for every attempt
    row = stored(engine)[ids[0]]
    assert (row.status, row.attempts, row.last_error) == ("sent", 2, "")
    again = keepwell(engine, "outreach", "send", now=NOON + timedelta(hours=1))
    assert sent_count(again.stdout) == 0
    once_each(inbox, ids)


# --- claims of other senders ----------------------------------------------------------------


def test_another_senders_claim_is_never_taken_over(engine: Engine, smtp_server: SmtpServer) -> None:
    """A claim of a process elsewhere stays `sending` while it may still be in flight, and
    becomes unconfirmed once it is older than any SMTP conversation; neither is sent."""
    ids = desk(engine, smtp_server, 2)
    with db.transaction(engine) as session:
        for message_id, minutes in zip(ids, (1, 11), strict=True):
            message = session.get_one(Message, message_id)
            message.status, message.claimed_by = "sending", "elsewhere.example:4242:0a1b2c3d"
            message.claimed_at = NOON - timedelta(minutes=minutes)
    with clock.frozen(NOON):
        report = delivery.deliver(
            db.session_factory(engine.execution_options(**{db.SQLITE_WRITE: True}))
        )
    assert (report.sent, report.unconfirmed) == (0, 1)
    rows = stored(engine)
    assert [rows[i].status for i in ids] == ["sending", "unconfirmed"]
    assert smtp_server.inbox.offered == []
