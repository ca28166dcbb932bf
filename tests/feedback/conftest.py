"""A small desk for the feedback tests: Ana owns three customers; a desk served in-process
(the public survey page and the API) on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from keepwell import clock, db
from keepwell.accounts.service import add_member
from keepwell.customers.service import create_customer
from keepwell.models import metadata
from tests.api.conftest import Desk, make_desk

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
WATCHED = ("feedback", "survey_invitations", "tasks", "touches", "audit_entries",
           "feedback_actions", "feedback_action_links")  # fmt: skip


@dataclass
class World:
    engine: Engine
    ana: int  # a member who owns every customer
    customers: dict[str, int]  # name -> id


def build_world(engine: Engine) -> World:
    with clock.frozen(NOW), db.transaction(engine) as session:
        ana = add_member(session, "ana@shop.example", "Ana", "member")
        ids = {}
        for name in ("Rui Costa", "Bea Lima", "Carl Roth"):
            ids[name.split()[0]] = create_customer(
                session,
                {"name": name, "owner_id": ana.id, "email": f"{name[:3].lower()}@x.example"},
            ).id
        return World(engine, ana.id, ids)


@pytest.fixture
def world(engine: Engine) -> World:
    return build_world(engine)


@pytest.fixture
def served(engine: Engine) -> Iterator[tuple[Desk, World]]:
    """The app on a fresh database (admin, member, viewer tokens) with Ana's customers."""
    desk = make_desk(engine)
    built = build_world(engine)
    with desk.client:
        yield desk, built


def counts(engine: Engine) -> dict[str, Any]:
    """Rows per watched table, and the invitations' used_at: what a refusal must not move."""
    with engine.connect() as conn:
        found: dict[str, Any] = {
            name: conn.execute(
                sa.select(sa.func.count()).select_from(metadata.tables[name])
            ).scalar_one()
            for name in WATCHED
        }
        inv = metadata.tables["survey_invitations"]
        found["used"] = conn.execute(sa.select(inv.c.id, inv.c.used_at).order_by(inv.c.id)).all()
    return found
