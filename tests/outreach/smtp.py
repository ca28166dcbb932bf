"""A real SMTP server for the tests (aiosmtpd), on a free port, that keeps what it got.

It accepts every message unless told otherwise: `answers` holds the answers to give to
the next messages' DATA instead of "250 OK" (say "451 4.3.0 Try again later"), or
"drop" to close the connection without answering (the server keeps the message, as a
server does whose answer is lost on the way); `before_answer` runs when a message's text
has arrived, before the server answers."""

from __future__ import annotations

import socket
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy.orm import Session

from keepwell.settings import service as settings


@dataclass
class Inbox:
    messages: list[EmailMessage] = field(default_factory=list)  # the server has these
    offered: list[EmailMessage] = field(default_factory=list)  # every text that arrived
    answers: list[str] = field(default_factory=list)
    before_answer: Callable[[EmailMessage], None] | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        found = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(found, EmailMessage)
        self.offered.append(found)
        if self.before_answer is not None:
            self.before_answer(found)
        answer = self.answers.pop(0) if self.answers else "250 OK"
        if answer == "drop":
            self.messages.append(found)
            server.transport.abort()
        elif answer.startswith("250"):
            self.messages.append(found)
        return answer

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]

    def count(self, header: str) -> Counter[str]:
        """How many times the server took a message with each value of `header`
        ("Message-ID", "X-Keepwell-Message": the outbox row it came from)."""
        return Counter(str(m[header]) for m in self.messages)


@dataclass
class SmtpServer:
    host: str
    port: int
    inbox: Inbox

    def configure(self, session: Session) -> None:
        """Point the desk at this server (the admin setting; no TLS on a local test server)."""
        settings.put(
            session,
            "outreach.smtp",
            {"host": self.host, "port": self.port, "tls": "off", "from": "desk@shop.example"},
        )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield SmtpServer("127.0.0.1", port, inbox)
    finally:
        controller.stop()
