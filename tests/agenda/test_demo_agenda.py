"""The demo opens on a full desk: `keepwell agenda --json` lists items of every kind."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from keepwell.agenda.service import GROUPS
from keepwell.cli import app


def test_demo_agenda_has_every_kind_with_reasons_and_context(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("KEEPWELL_NOW", "2026-11-25T09:30:00")
    database = str(tmp_path / "demo.db")
    runner = CliRunner()
    built = runner.invoke(
        app, ["demo", "--customers", "300", "--database", database, "--no-serve", "--json"]
    )
    assert built.exit_code == 0, built.output
    result = runner.invoke(app, ["agenda", "--database", database, "--json"])
    assert result.exit_code == 0, result.output
    members = json.loads(result.stdout)["members"]
    assert len(members) == 4
    items = [item for member in members for item in member["items"]]
    assert {item["group"] for item in items} == set(GROUPS)
    assert all(item["reason"].strip() and item["context"].strip() for item in items)
    for member in members:  # everyone has a day's work, not one person all of it
        assert len(member["items"]) >= 10, member["member"]
