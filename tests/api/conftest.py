"""A desk served in-process: the app on a fresh database, and a token for each role."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from keepwell import db
from keepwell.accounts.service import add_member
from keepwell.accounts.tokens import create_token
from keepwell.web.app import create_app

# The cookie is Secure: the test client speaks "https" so that it sends it back.
BASE_URL = "https://testserver"


@dataclass
class Desk:
    engine: Engine
    app: FastAPI
    client: TestClient
    tokens: dict[str, str]  # role -> secret
    members: dict[str, int]  # role -> member id

    def auth(self, role: str = "member") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}


def make_desk(engine: Engine) -> Desk:
    tokens: dict[str, str] = {}
    members: dict[str, int] = {}
    with db.transaction(engine) as session:
        for role in ("admin", "member", "viewer"):
            member = add_member(session, f"{role}@shop.example", role.capitalize(), role)
            _, tokens[role] = create_token(session, member, f"{role} tests")
            members[role] = member.id
    app = create_app(engine)
    return Desk(engine, app, TestClient(app, base_url=BASE_URL), tokens, members)


@pytest.fixture
def desk(engine: Engine) -> Iterator[Desk]:
    """On SQLite and on PostgreSQL."""
    made = make_desk(engine)
    with made.client:
        yield made


@pytest.fixture
def sqlite_desk(sqlite_engine: Engine) -> Iterator[Desk]:
    made = make_desk(sqlite_engine)
    with made.client:
        yield made
