"""Desk settings: stored as JSON, validated, audited; secrets stable and never audited."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from keepwell import db
from keepwell.accounts.models import AuditEntry
from keepwell.cli import app
from keepwell.errors import InvalidInput
from keepwell.settings import service
from keepwell.settings.models import DeskSecret, Setting


def test_a_setting_round_trips_and_its_change_is_audited(engine: Engine) -> None:
    with Session(engine) as session, session.begin():
        assert service.get(session, "outreach.budget", {"messages": 2}) == {"messages": 2}
        service.put(session, "outreach.budget", {"messages": 3, "days": 14})
    with Session(engine) as session, session.begin():
        assert service.get(session, "outreach.budget") == {"messages": 3, "days": 14}
        service.put(session, "outreach.budget", {"messages": 1, "days": 14})
        assert service.get_many(session, "outreach.") == {
            "outreach.budget": {"messages": 1, "days": 14}
        }
        entries = [
            (e.action, e.before, e.after)
            for e in session.scalars(
                sa.select(AuditEntry)
                .where(AuditEntry.table_name == "settings")
                .order_by(AuditEntry.id)
            )
        ]
    assert [action for action, _, _ in entries] == ["insert", "update"]
    assert (entries[1][1] or {})["value"] == {"messages": 3, "days": 14}
    assert (entries[1][2] or {})["value"] == {"messages": 1, "days": 14}
    with Session(engine) as session, session.begin():
        assert service.remove(session, "outreach.budget") is True
        assert service.remove(session, "outreach.budget") is False
        assert service.get(session, "outreach.budget", 2) == 2


@pytest.mark.parametrize(
    ("key", "value", "field"),
    [
        ("Outreach.Budget", 1, "key"),
        ("", 1, "key"),
        ("a" * 101, 1, "key"),
        ("x.y", float("nan"), "value"),
        ("x.y", {1, 2}, "value"),
        ("x.y", "z" * 70_000, "value"),
    ],
)
def test_bad_settings_are_refused_and_write_nothing(
    engine: Engine, key: str, value: object, field: str
) -> None:
    with Session(engine) as session, session.begin():
        with pytest.raises(InvalidInput) as caught:
            service.put(session, key, value)
        assert caught.value.field == field
    with Session(engine) as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Setting)) == 0


def test_a_secret_is_made_once_and_stays_out_of_the_audit_trail(engine: Engine) -> None:
    with Session(engine) as session, session.begin():
        first = service.secret(session, "survey")
        assert len(first) == 32
    with Session(engine) as session, session.begin():
        assert service.secret(session, "survey") == first
        assert service.secret(session, "calendar") != first
    with Session(engine) as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(DeskSecret)) == 2
        trail = session.scalar(
            sa.select(sa.func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.table_name == "desk_secrets")
        )
        assert trail == 0


def test_processes_asking_for_a_new_secret_at_once_agree(engine: Engine) -> None:
    writer = engine.execution_options(**{db.SQLITE_WRITE: True})  # as requests that write
    barrier = threading.Barrier(4)
    got: list[bytes] = []

    def ask() -> None:
        barrier.wait()
        with Session(writer) as session, session.begin():
            got.append(service.secret(session, "feed"))

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(got) == 4 and len(set(got)) == 1


def test_the_setting_commands(tmp_path: Path) -> None:
    runner = CliRunner()
    url = f"sqlite:///{tmp_path / 'kw.db'}"
    assert runner.invoke(app, ["init", "-d", url]).exit_code == 0
    result = runner.invoke(app, ["setting", "set", "model.pinned", '"pareto"', "-d", url])
    assert result.exit_code == 0, result.stderr
    result = runner.invoke(app, ["setting", "get", "model.pinned", "-d", url])
    assert result.stdout.strip() == '"pareto"'
    assert "model.pinned" in runner.invoke(app, ["setting", "list", "-d", url]).stdout
    bad = runner.invoke(app, ["setting", "set", "model.pinned", "pareto", "-d", url])
    assert bad.exit_code != 0 and "not JSON" in bad.stderr
    assert runner.invoke(app, ["setting", "unset", "model.pinned", "-d", url]).exit_code == 0
    assert (
        runner.invoke(app, ["setting", "get", "model.pinned", "-d", url]).stdout.strip() == "null"
    )
