"""`keepwell case …`: the commands translate, and bad input is a usage error."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from keepwell import clock
from keepwell.cli import app

runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def database(tmp_path: Path) -> Iterator[str]:
    """A SQLite file with João, who owns Ana (C1); the clock at 25 November."""
    url = f"sqlite:///{tmp_path / 'kw.db'}"
    with clock.frozen("2026-11-25"):
        assert run("init", "--database", url)[0] == 0
        assert run("member", "add", "joao@keepwell.example", "--name", "João", "-d", url)[0] == 0
        csv = tmp_path / "customers.csv"
        csv.write_text("id,name,email,owner\nC1,Ana,ana@example.com,joao@keepwell.example\n")
        code, _, err = run("import", "customers", str(csv), "-d", url)
        assert code == 0, err
        yield url


def show(database: str, case_id: int) -> dict[str, Any]:
    code, out, err = run("case", "show", str(case_id), "--json", "-d", database)
    assert code == 0, err
    shown: dict[str, Any] = json.loads(out)
    return shown


def test_the_life_of_a_case(database: str) -> None:
    with clock.frozen("2026-11-25"):
        code, out, err = run(
            "case", "open", "ana@example.com", "Grinder arrived broken", "--severity", "high",
            "--description", "The box was crushed", "-d", database,
        )  # fmt: skip
        assert code == 0, err
        assert "Opened case #1 for Ana (high)." in out
        code, out, _ = run("case", "list", "--waiting", "--json", "-d", database)
        assert [c["id"] for c in json.loads(out)] == [1]
    with clock.frozen("2026-11-25T15:00:00+00:00"):
        code, out, _ = run("case", "respond", "1", "A new one ships today", "-d", database)
        assert code == 0 and "first response after 3.0 hours" in out
    with clock.frozen("2026-11-26"):
        code, out, err = run(
            "case", "resolve", "1", "--resolution", "replaced the unit",
            "--root-cause-category", "delivery", "--prevention", "sturdier boxes", "-d", database,
        )  # fmt: skip
        assert code == 0, err
        assert "due 2026-12-03" in out
        assert "Check that Ana is really satisfied: case 'Grinder arrived broken'" in out
    with clock.frozen("2026-11-28"):
        code, out, _ = run("case", "reopen", "1", "--reason", "It leaks", "-d", database)
        assert code == 0 and "Case #1 reopened (reopened once in all)." in out
        code, out, _ = run(
            "case", "resolve", "1", "--resolution", "new seal", "--root-cause-category",
            "product", "--confirm-after", "3", "-d", database,
        )  # fmt: skip
        assert code == 0 and "due 2026-12-01" in out
    with clock.frozen("2026-12-01"):
        code, out, _ = run(
            "case", "confirm", "1", "--note", "All good now", "--by", "joao@keepwell.example",
            "-d", database,
        )  # fmt: skip
        assert code == 0 and "Case #1 confirmed." in out
    shown = show(database, 1)  # as GET /api/cases/1 answers
    case = shown["case"]
    assert (case["status"], case["reopened_count"], case["root_cause_category"]) == (
        "confirmed",
        1,
        "product",
    )
    assert [t["status"] for t in shown["tasks"]] == ["cancelled", "done"]
    assert [t["summary"] for t in shown["interactions"]] == [
        "A new one ships today",
        "Case reopened: It leaks",
        "All good now",
    ]
    code, out, _ = run("case", "show", "1", "-d", database)
    assert code == 0 and "Case #1: Grinder arrived broken" in out and "Tasks:" in out
    code, out, _ = run("case", "list", "--status", "confirmed", "-d", database)
    assert code == 0 and "Grinder" in out and "joao@" in out


BAD_INPUT = [
    (("case", "open", "C1", "x", "--severity", "critical"), "use one of"),
    (("case", "resolve", "1", "--resolution", "x", "--root-cause-category", "gremlins"),
     "use one of"),
    (("case", "resolve", "1", "--resolution", "x", "--root-cause-category", "other",
      "--confirm-after", "400"), "Invalid value for '--confirm-after'"),
    (("case", "resolve", "1", "--root-cause-category", "other"), "--resolution"),
    (("case", "reopen", "1"), "--reason"),
    (("case", "list", "--status", "closed"), "use one of"),
]  # fmt: skip


@pytest.mark.parametrize(("args", "message"), BAD_INPUT)
def test_bad_input_is_a_usage_error(database: str, args: tuple[str, ...], message: str) -> None:
    code, _, err = run(*args, "-d", database)
    assert code == 2 and message in err


def test_domain_errors_exit_1_and_write_nothing(database: str) -> None:
    with clock.frozen("2026-11-25"):
        code, _, err = run("case", "show", "5", "-d", database)
        assert code == 1 and "no case #5" in err
        assert run("case", "open", "C1", "Late delivery", "-d", database)[0] == 0
        code, _, err = run("case", "confirm", "1", "-d", database)
        assert code == 1 and "cannot confirm case #1: it is open" in err
        code, _, err = run("case", "respond", "1", "hi", "--channel", "pigeon", "-d", database)
        assert code == 1 and "unknown channel" in err
        code, _, err = run("case", "open", "C1", "   ", "-d", database)
        assert code == 1 and "title:" in err
    shown = show(database, 1)
    assert (shown["case"]["status"], shown["case"]["first_response_at"]) == ("open", None)
    assert shown["interactions"] == []
    code, out, _ = run("case", "list", "--json", "-d", database)
    assert len(json.loads(out)) == 1
