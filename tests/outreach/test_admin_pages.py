"""/admin/smtp without a browser, on SQLite and PostgreSQL: admins only; the settings in
effect and where each comes from; overrides checked, stored and audited (a refusal
stores nothing); the password never on the page; a test message received by a real SMTP
server (aiosmtpd), and a clear error when the server is down; the outbox's failures and
their retry."""

from __future__ import annotations

import asyncio
import re
import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient

from keepwell import clock, db
from keepwell.accounts.models import AuditEntry
from keepwell.customers.models import Customer
from keepwell.outreach.mail import queue_message
from keepwell.outreach.models import Message
from keepwell.settings import service as settings
from keepwell.settings.models import Setting
from keepwell.touches.models import Touch
from keepwell.web.app import create_app
from tests.outreach.smtp import SmtpServer, free_port
from tests.web.conftest import ADMIN, World
from tests.web.test_admin import count, csrf, signed_in

SECRET = "s3cret-Pa55word-never-shown"
ENV = ("HOST", "PORT", "USER", "PASSWORD", "TLS", "FROM")


@pytest.fixture(autouse=True)
def no_smtp_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV:
        monkeypatch.delenv(f"KEEPWELL_SMTP_{name}", raising=False)






def stored(world: World) -> object:
    return world.scalar(sa.select(Setting.value).where(Setting.key == "outreach.smtp"))


def row(html: str, label: str) -> str:
    found = re.search(rf'<tr><th scope="row">{label}</th>(.*?)</tr>', html, re.S)
    assert found is not None, label
    return found.group(1)


def test_the_smtp_page_answers_admins_only(shop: World) -> None:
    stranger = TestClient(create_app(shop.engine), base_url="https://testserver")
    away = stranger.get("/admin/smtp", follow_redirects=False)
    assert away.status_code == 303 and away.headers["location"] == "/sign-in?next=/admin/smtp"
    assert "Sign in" in stranger.get("/admin/smtp").text
    for role in ("member", "viewer"):
        client = signed_in(shop, role)
        assert client.get("/admin/smtp").status_code == 403
        for path in ("/admin/smtp", "/admin/smtp/test", "/admin/smtp/messages/1/retry"):
            answer = client.post(path, data={"host": "evil.example", "csrf_token": csrf(client)})
            assert answer.status_code == 403, (role, path)
    assert stored(shop) is None


def test_settings_show_where_they_come_from_never_the_password(
    web: TestClient, shop: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = web.get("/admin/smtp")
    assert page.status_code == 200
    assert "not configured" in page.text
    assert "not set" in row(page.text, "Host") and "default" in row(page.text, "Port")
    assert "<code>587</code>" in row(page.text, "Port")
    assert "not set" in row(page.text, "Password")
    monkeypatch.setenv("KEEPWELL_SMTP_HOST", "mail.env.example")
    monkeypatch.setenv("KEEPWELL_SMTP_FROM", "env@shop.example")
    monkeypatch.setenv("KEEPWELL_SMTP_USER", "desk-user")
    monkeypatch.setenv("KEEPWELL_SMTP_PASSWORD", SECRET)
    page = web.get("/admin/smtp")
    assert "mail.env.example" in row(page.text, "Host")
    assert "environment (KEEPWELL_SMTP_HOST)" in row(page.text, "Host")
    assert "environment (KEEPWELL_SMTP_USER)" in row(page.text, "User name")
    assert "<td>set</td>" in row(page.text, "Password")
    assert "ready" in page.text
    # the desk overrides some; the others still come from the environment
    saved = web.post("/admin/smtp", data={
        "host": "Smtp.Shop.Example", "port": "2525", "tls": "ssl", "from": "Desk@Shop.Example",
        "user": "", "csrf_token": csrf(web),
    })  # fmt: skip
    assert saved.status_code == 200 and "Saved" in saved.text
    assert stored(shop) == {
        "host": "smtp.shop.example", "port": 2525, "tls": "ssl", "from": "desk@shop.example",
    }  # fmt: skip
    page = web.get("/admin/smtp")
    assert "smtp.shop.example" in row(page.text, "Host")
    assert "desk setting" in row(page.text, "Host") and "desk setting" in row(page.text, "Port")
    assert "<code>2525</code>" in row(page.text, "Port")
    assert "desk setting" in row(page.text, "Sender address")
    assert "environment (KEEPWELL_SMTP_USER)" in row(page.text, "User name")
    assert 'value="smtp.shop.example"' in page.text  # the form shows the overrides
    for html in (page.text, saved.text, web.get("/admin/settings").text):
        assert SECRET not in html
    # audited as the admin who saved it
    entry = shop.scalar(
        sa.select(AuditEntry)
        .where(AuditEntry.table_name == "settings")
        .order_by(AuditEntry.id.desc())
    )
    assert entry is not None and entry.member_id == shop.member_id(ADMIN)
    assert entry.action == "insert" and entry.after is not None
    assert entry.after["key"] == "outreach.smtp" and entry.after["value"]["port"] == 2525
    # saving it all empty removes the overrides: the environment applies again
    cleared = web.post("/admin/smtp", data={"csrf_token": csrf(web)})
    assert cleared.status_code == 200 and stored(shop) is None
    assert "environment (KEEPWELL_SMTP_HOST)" in row(cleared.text, "Host")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"port": "0"}, "port: give a port from 1 to 65535"),
        ({"port": "65536"}, "port: give a port from 1 to 65535"),
        ({"port": "twenty-five"}, "port: give a port from 1 to 65535"),
        ({"port": "-25"}, "port: give a port from 1 to 65535"),
        ({"from": "not-an-address"}, "from: 'not-an-address' is not an e-mail address"),
        ({"from": "desk@"}, "from: 'desk@' is not an e-mail address"),
        ({"host": "bad host!"}, "host: 'bad host!' is not a host name or IP address"),
        ({"host": "a..b"}, "host: 'a..b' is not a host name or IP address"),
        ({"tls": "tls1.3"}, "tls: use one of starttls, ssl, off"),
        ({"user": "a\x01b"}, "user: give a user name"),
    ],
)
def test_bad_settings_are_refused_and_nothing_stored(
    web: TestClient, shop: World, data: dict[str, str], message: str
) -> None:
    good = {"host": "smtp.shop.example", "port": "587", "tls": "starttls", "from": "d@shop.example"}
    assert web.post("/admin/smtp", data={**good, "csrf_token": csrf(web)}).status_code == 200
    before = count(shop, AuditEntry)
    answer = web.post("/admin/smtp", data={**good, **data, "csrf_token": csrf(web)})
    assert answer.status_code == 422
    assert message in answer.text.replace("&#39;", "'"), answer.text[:3000]
    assert stored(shop) == {**good, "port": 587}
    assert count(shop, AuditEntry) == before
    # without the CSRF token: refused, nothing stored
    assert web.post("/admin/smtp", data={**good, "port": "25"}).status_code == 403
    assert stored(shop) == {**good, "port": 587}


def point_at(web: TestClient, host: str, port: int) -> None:
    answer = web.post("/admin/smtp", data={
        "host": host, "port": str(port), "tls": "off", "from": "desk@shop.example",
        "csrf_token": csrf(web),
    })  # fmt: skip
    assert answer.status_code == 200


def test_a_test_message_reaches_a_real_smtp_server(
    web: TestClient, shop: World, smtp_server: SmtpServer
) -> None:
    not_yet = web.post("/admin/smtp/test", data={"csrf_token": csrf(web)})
    assert not_yet.status_code == 422 and "smtp: not configured" in not_yet.text
    point_at(web, smtp_server.host, smtp_server.port)
    assert web.post("/admin/smtp/test").status_code == 403  # no CSRF token
    assert smtp_server.inbox.messages == []
    sent = web.post("/admin/smtp/test", data={"csrf_token": csrf(web)})
    assert sent.status_code == 200
    assert f"Sent a test message to {ADMIN} through 127.0.0.1:{smtp_server.port}" in sent.text
    [message] = smtp_server.inbox.to(ADMIN)
    assert message["Subject"].startswith("Keepwell test message")
    assert "desk@shop.example" in message["From"]
    assert "If you can read it" in message.get_content()


def test_an_ip_address_in_brackets_is_stored_as_smtp_takes_it(
    web: TestClient, shop: World, smtp_server: SmtpServer
) -> None:
    point_at(web, "[::1]", 25)
    assert stored(shop) == {"host": "::1", "port": 25, "tls": "off", "from": "desk@shop.example"}
    point_at(web, f"[{smtp_server.host}]", smtp_server.port)
    assert stored(shop) == {
        "host": smtp_server.host, "port": smtp_server.port, "tls": "off",
        "from": "desk@shop.example",
    }  # fmt: skip
    sent = web.post("/admin/smtp/test", data={"csrf_token": csrf(web)})
    assert sent.status_code == 200, sent.text[:2000]
    assert len(smtp_server.inbox.to(ADMIN)) == 1


class Refusing:
    """An SMTP server that takes no mail for anyone."""

    async def handle_RCPT(
        self, server: object, session: object, envelope: object, address: str, options: object
    ) -> str:
        return "550 5.1.1 no mailbox here for the test"


def test_a_refusal_by_the_server_is_shown(web: TestClient, shop: World) -> None:
    port = free_port()
    controller = Controller(Refusing(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        point_at(web, "127.0.0.1", port)
        answer = web.post("/admin/smtp/test", data={"csrf_token": csrf(web)})
    finally:
        controller.stop()
    assert answer.status_code == 502
    assert "The test message was not sent" in answer.text
    assert "SMTPRecipientsRefused" in answer.text and "no mailbox here for the test" in answer.text


class Slow:
    """An SMTP server that holds a message until the test lets it go."""

    def __init__(self) -> None:
        self.talking = threading.Event()
        self.release = threading.Event()
        self.messages = 0

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        self.talking.set()
        await asyncio.get_running_loop().run_in_executor(None, self.release.wait, 60)
        self.messages += 1
        return "250 OK"


def test_others_write_while_a_test_message_waits_on_a_slow_server(
    web: TestClient, shop: World
) -> None:
    """The test message holds no write lock (on SQLite, the desk's one writer's lock)
    while the SMTP server takes its time: another writer gets through while the server
    still holds the message. (Were the lock held, the writer would wait for it, the
    server for the writer, until SQLite's busy timeout refuses the write.)"""
    slow = Slow()
    port = free_port()
    controller = Controller(slow, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        point_at(web, "127.0.0.1", port)
        answers: list[int] = []
        sender = threading.Thread(
            target=lambda: answers.append(
                web.post("/admin/smtp/test", data={"csrf_token": csrf(web)}).status_code
            )
        )
        sender.start()
        assert slow.talking.wait(60)
        with shop.engine.begin() as conn:
            conn.execute(sa.update(Customer).where(Customer.id == 1).values(segment="vip"))
        assert slow.messages == 0  # the write got through while the server was still busy
        slow.release.set()
        sender.join(60)
    finally:
        slow.release.set()
        controller.stop()
    assert answers == [200]
    assert slow.messages == 1
    assert shop.scalar(sa.select(Customer.segment).where(Customer.id == 1)) == "vip"


def test_a_setting_that_is_not_a_map_leaves_the_environment_in_charge(
    web: TestClient, shop: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KEEPWELL_SMTP_HOST", "mail.env.example")
    with db.transaction(shop.engine) as session:  # as /admin/settings allows
        settings.put(session, "outreach.smtp", "smtp.typed-by-hand.example")
    page = web.get("/admin/smtp")
    assert page.status_code == 200
    assert "environment (KEEPWELL_SMTP_HOST)" in row(page.text, "Host")
    saved = web.post("/admin/smtp", data={"host": "smtp.shop.example", "csrf_token": csrf(web)})
    assert saved.status_code == 200 and stored(shop) == {"host": "smtp.shop.example"}


def test_smtp_down_is_a_clear_error(
    web: TestClient, shop: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KEEPWELL_SMTP_PASSWORD", SECRET)
    port = free_port()  # nothing listens there
    point_at(web, "127.0.0.1", port)
    answer = web.post("/admin/smtp/test", data={"csrf_token": csrf(web)})
    assert answer.status_code == 502
    assert "The test message was not sent" in answer.text
    assert (
        f"127.0.0.1:{port} (TLS: off) did not take the message: ConnectionRefusedError"
        in answer.text
    )
    assert SECRET not in answer.text


def test_the_outbox_shows_failures_and_retries_them(web: TestClient, shop: World) -> None:
    now = clock.now()
    with db.transaction(shop.engine) as session:
        customers = list(
            session.scalars(
                sa.select(Customer)
                .where(Customer.email.is_not(None), Customer.opted_out_at.is_(None))
                .order_by(Customer.id)
                .limit(3)
            )
        )
        ids = []
        for n, customer in enumerate(customers):
            queued = queue_message(
                session, customer, category="service", dedupe_key=f"admin-test:{n}",
                subject=f"Admin test {n}", body="Hello.",
            )  # fmt: skip
            assert queued.message is not None
            ids.append(queued.message.id)
        gave_up, retrying, sent = (session.get(Message, i) for i in ids)
        assert gave_up is not None and retrying is not None and sent is not None
        gave_up.status, gave_up.attempts, gave_up.next_attempt_at = "failed", 10, None
        gave_up.last_error = "SMTPRecipientsRefused: 550 mailbox unavailable"
        retrying.status, retrying.attempts = "failed", 2
        retrying.next_attempt_at = now + timedelta(minutes=10)
        retrying.last_error = "ConnectionRefusedError: [Errno 111] Connection refused"
        sent.status, sent.sent_at, sent.next_attempt_at = "sent", now - timedelta(hours=2), None
    page = web.get("/admin/smtp")
    assert page.status_code == 200
    assert "550 mailbox unavailable" in page.text and "Connection refused" in page.text
    assert "gave up" in page.text
    assert "2 failed" in page.text and "1 sent in the last day" in page.text
    queued_before = count(shop, Message, Message.status == "queued")
    assert f">{queued_before:,} queued<" in page.text.replace(" or more", "")
    assert page.text.index("550 mailbox unavailable") < page.text.index("Connection refused")
    # retry: CSRF first, then it is queued again, audited
    assert web.post(f"/admin/smtp/messages/{gave_up.id}/retry").status_code == 403
    again = web.post(f"/admin/smtp/messages/{gave_up.id}/retry",
                     data={"csrf_token": csrf(web)}, follow_redirects=False)  # fmt: skip
    assert again.status_code == 303 and again.headers["location"] == "/admin/smtp"
    assert shop.scalar(sa.select(Message.status).where(Message.id == gave_up.id)) == "queued"
    assert count(shop, AuditEntry, AuditEntry.table_name == "outbox_messages",
                 AuditEntry.record_id == str(gave_up.id), AuditEntry.member_id == shop.member_id(ADMIN)) == 1  # fmt: skip
    # a message that did not fail is not retried
    refused = web.post(f"/admin/smtp/messages/{sent.id}/retry", data={"csrf_token": csrf(web)})
    assert refused.status_code == 422 and "is sent, not failed" in refused.text
    missing = web.post("/admin/smtp/messages/999999/retry", data={"csrf_token": csrf(web)})
    assert missing.status_code == 404


def test_the_outbox_lists_unconfirmed_messages_to_confirm_or_retry(
    web: TestClient, shop: World
) -> None:
    now = clock.now()
    with db.transaction(shop.engine) as session:
        customers = list(
            session.scalars(
                sa.select(Customer)
                .where(Customer.email.is_not(None), Customer.opted_out_at.is_(None))
                .order_by(Customer.id)
                .limit(2)
            )
        )
        unsure = []
        for n, customer in enumerate(customers):
            queued = queue_message(
                session, customer, category="service", dedupe_key=f"unsure:{n}",
                subject=f"Unsure {n}", body="Hello.",
            )  # fmt: skip
            assert queued.message is not None
            message = queued.message
            message.status, message.next_attempt_at = "unconfirmed", None
            message.message_id_header = f"<unsure-{n}@shop.example>"
            message.claimed_at, message.claimed_by = now - timedelta(hours=1), "host:1:ab"
            message.last_error = "the server may have accepted it (SMTPServerDisconnected)"
            unsure.append(message.id)
    touches = count(shop, Touch, Touch.channel == "email")
    page = web.get("/admin/smtp")
    assert page.status_code == 200
    assert "2 unconfirmed" in page.text and "Unconfirmed messages" in page.text
    assert "&lt;unsure-0@shop.example&gt;" in page.text  # to look up in the server's log
    assert "It left: record as sent" in page.text and "It never left: send again" in page.text
    # confirm: CSRF first; then sent, on the timeline once, audited
    assert web.post(f"/admin/smtp/messages/{unsure[0]}/confirm").status_code == 403
    left = web.post(f"/admin/smtp/messages/{unsure[0]}/confirm",
                    data={"csrf_token": csrf(web)}, follow_redirects=False)  # fmt: skip
    assert left.status_code == 303 and left.headers["location"] == "/admin/smtp"
    assert shop.scalar(sa.select(Message.status).where(Message.id == unsure[0])) == "sent"
    assert count(shop, Touch, Touch.channel == "email") == touches + 1
    assert count(shop, AuditEntry, AuditEntry.table_name == "outbox_messages",
                 AuditEntry.record_id == str(unsure[0]), AuditEntry.member_id == shop.member_id(ADMIN)) == 1  # fmt: skip
    again = web.post(f"/admin/smtp/messages/{unsure[0]}/confirm", data={"csrf_token": csrf(web)})
    assert again.status_code == 422 and "is sent, not unconfirmed" in again.text
    # never left: queued again, to be sent at the next delivery
    retried = web.post(f"/admin/smtp/messages/{unsure[1]}/retry",
                       data={"csrf_token": csrf(web)}, follow_redirects=False)  # fmt: skip
    assert retried.status_code == 303
    assert shop.scalar(sa.select(Message.status).where(Message.id == unsure[1])) == "queued"
    assert "Unconfirmed messages" not in web.get("/admin/smtp").text
