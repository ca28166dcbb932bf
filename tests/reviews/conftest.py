"""A small desk for goals and reviews: Ana owns a VIP (Vera) and a retail customer (Rui)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine

from keepwell import clock, db
from keepwell.accounts.models import TeamMember
from keepwell.customers.models import Customer
from tests.api.conftest import Desk, make_desk

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class World:
    ana: int
    ben: int
    vera: int  # vip, last contact 10 days ago
    rui: int  # retail


def make_world(engine: Engine) -> World:
    with clock.frozen(NOW), db.transaction(engine) as session:
        ana = TeamMember(email="ana@keepwell.example", name="Ana", role="member")
        ben = TeamMember(email="ben@keepwell.example", name="Ben", role="member")
        session.add_all([ana, ben])
        session.flush()
        vera = Customer(
            name="Vera Lind", external_id="V1", email="vera@example.com", segment="vip",
            owner_id=ana.id, tags=[], created_at=NOW - timedelta(days=400),
            last_contact_at=NOW - timedelta(days=10),
        )  # fmt: skip
        rui = Customer(
            name="Rui Costa", external_id="R1", email="rui@example.com", segment="retail",
            owner_id=ana.id, tags=[], created_at=NOW - timedelta(days=400),
        )  # fmt: skip
        session.add_all([vera, rui])
        session.flush()
        return World(ana.id, ben.id, vera.id, rui.id)


@pytest.fixture
def desk(engine: Engine) -> Iterator[Desk]:
    """The API desk (tests/api/conftest.py), on SQLite and on PostgreSQL."""
    made = make_desk(engine)
    with made.client:
        yield made
