"""A task goes to someone who can complete it: reassigning one to a viewer (who reads
but changes nothing) is refused by the service, so the API and the command line refuse
it alike, saying why; the task stays with whom it was."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from keepwell import db
from keepwell.cli import app
from keepwell.tasks.models import Task
from tests.api.conftest import Desk, make_desk

REFUSAL = "viewer@shop.example is a viewer, who can read but not complete tasks"


@pytest.fixture
def desk(engine: Engine) -> Iterator[Desk]:
    """An admin, a member and a viewer (tokens), on SQLite and PostgreSQL."""
    made = make_desk(engine)
    with made.client:
        yield made


def assignee(desk: Desk, task_id: int) -> int | None:
    with db.transaction(desk.engine) as session:
        found = session.scalar(sa.select(Task.member_id).where(Task.id == task_id))
        return int(found) if found is not None else None


def test_a_task_cannot_go_to_a_viewer(desk: Desk) -> None:
    auth = desk.auth("member")
    customer = desk.client.post("/api/customers", json={"name": "Bea Lima"}, headers=auth).json()
    task = desk.client.post(
        "/api/tasks",
        json={"customer_id": customer["id"], "kind": "call", "reason": "Ask about the grinder",
              "member_id": desk.members["member"]},
        headers=auth,
    ).json()  # fmt: skip
    path = f"/api/tasks/{task['id']}/reassign"

    refused = desk.client.post(path, json={"member_id": desk.members["viewer"]}, headers=auth)
    assert refused.status_code == 422
    [item] = refused.json()["detail"]
    assert item["field"] == "member" and item["reason"].startswith(REFUSAL)
    assert assignee(desk, task["id"]) == desk.members["member"]

    url = desk.engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(
        app, ["task", "reassign", str(task["id"]), "viewer@shop.example", "-d", url]
    )
    assert result.exit_code == 1 and REFUSAL in result.stderr
    assert "Traceback" not in result.output
    assert assignee(desk, task["id"]) == desk.members["member"]

    # an admin or a member may take it
    given = desk.client.post(path, json={"member_id": desk.members["admin"]}, headers=auth)
    assert given.status_code == 200 and given.json()["member_id"] == desk.members["admin"]
