"""/api/playbooks and /api/outreach over real HTTP (TestClient on create_app)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from keepwell import clock, db
from keepwell.accounts.models import AuditEntry
from keepwell.customers.service import create_customer
from keepwell.playbooks.service import install_builtins
from tests.api.conftest import Desk, make_desk

NOON = datetime(2026, 11, 25, 12, tzinfo=UTC)


@pytest.fixture
def desk(engine: Engine) -> Iterator[Desk]:
    with clock.frozen(NOON), db.transaction(engine) as session:
        install_builtins(session)
    made = make_desk(engine)
    with clock.frozen(NOON), made.client:
        yield made


def test_admins_edit_playbooks_members_read(desk: Desk) -> None:
    listed = desk.client.get("/api/playbooks", headers=desk.auth("viewer"))
    assert listed.status_code == 200 and len(listed.json()) >= 11
    off = {"enabled": False}
    assert (
        desk.client.patch(
            "/api/playbooks/birthday-card", json=off, headers=desk.auth("member")
        ).status_code
        == 403
    )
    changed = desk.client.patch(
        "/api/playbooks/birthday-card", json=off, headers=desk.auth("admin")
    )
    assert changed.status_code == 200 and changed.json()["enabled"] is False
    assert changed.json()["edited"] is False  # a switch is not an edit
    edited = desk.client.patch(
        "/api/playbooks/check-in-30-days",
        json={"trigger_params": {"days": 28}},
        headers=desk.auth("admin"),
    )
    assert edited.status_code == 200 and edited.json()["edited"] is True
    with db.transaction(desk.engine) as session:  # who changed it is in the audit trail
        entry = session.scalars(
            sa.select(AuditEntry)
            .where(AuditEntry.table_name == "playbooks")
            .order_by(AuditEntry.id.desc())
        ).first()
        assert entry is not None and entry.member_id == desk.members["admin"]
        assert entry.after == {
            "trigger_params": {"days": 28},
            "edited_at": entry.after["edited_at"],
        }
    bad = desk.client.patch(
        "/api/playbooks/check-in-30-days",
        json={"trigger_params": {"days": -3}},
        headers=desk.auth("admin"),
    )
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["field"] == "trigger_params.days"
    assert desk.client.get("/api/playbooks/check-in-30-days", headers=desk.auth()).json()[
        "trigger_params"
    ] == {"days": 28}
    assert desk.client.get("/api/playbooks/nope", headers=desk.auth()).status_code == 404
    assert (
        desk.client.patch(
            "/api/playbooks/check-in-30-days", json={"colour": 1}, headers=desk.auth("admin")
        ).status_code
        == 422
    )


def test_outreach_routes(desk: Desk) -> None:
    with db.transaction(desk.engine) as session:
        bea = create_customer(session, {"name": "Bea Lee", "email": "bea@ex.org", "tags": ["tea"]})
    note = desk.client.post(
        "/api/outreach/notes",
        json={"customer_id": bea.id, "subject": "Hello", "body": "What we did for you"},
        headers=desk.auth("member"),
    )
    assert note.status_code == 201 and note.json()["queued"] is True
    listed = desk.client.get("/api/outreach/messages?status=queued", headers=desk.auth("viewer"))
    assert [m["subject"] for m in listed.json()] == ["Hello"]
    assert (
        desk.client.get("/api/outreach/messages?status=lost", headers=desk.auth()).status_code
        == 422
    )
    drafts = desk.client.post(
        "/api/outreach/drafts",
        json={"customer_id": bea.id, "start": "2026-11-01", "end": "2026-11-30"},
        headers=desk.auth("member"),
    )
    assert drafts.status_code == 200 and "How did we do?" in drafts.json()[0]["body"]
    both = desk.client.post(
        "/api/outreach/drafts",
        json={"customer_id": bea.id, "segment": "x", "start": "2026-11-01", "end": "2026-11-30"},
        headers=desk.auth("member"),
    )
    assert both.status_code == 422 and both.json()["detail"][0]["field"] == "customer_id"
    resource = {"title": "Tea guide", "url": "https://ex.org/tea", "topics": ["tea"]}
    assert (
        desk.client.post(
            "/api/outreach/resources", json=resource, headers=desk.auth("member")
        ).status_code
        == 403
    )
    made = desk.client.post("/api/outreach/resources", json=resource, headers=desk.auth("admin"))
    assert made.status_code == 201
    passed = desk.client.post(
        f"/api/outreach/resources/{made.json()['id']}/pass-on", headers=desk.auth("member")
    )
    assert passed.json() == {"matched": 1, "emailed": 0, "tasks": 1}  # no marketing consent: a task
    feed = desk.client.post("/api/outreach/calendar", headers=desk.auth("member"))
    assert feed.status_code == 201 and feed.json()["url"].endswith(".ics")
    token_path = "/ics/" + feed.json()["url"].rsplit("/ics/", 1)[1]
    assert desk.client.get(token_path).status_code == 200
    assert (
        desk.client.delete("/api/outreach/calendar", headers=desk.auth("member")).status_code == 204
    )
    assert desk.client.get(token_path).status_code == 404
