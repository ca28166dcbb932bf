"""`keepwell promise …`: the commands translate, and bad input is a usage error."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

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
    """A SQLite file with a member (Ana) who owns one customer (Rui, C1); clock at 25 Nov."""
    url = f"sqlite:///{tmp_path / 'kw.db'}"
    with clock.frozen("2026-11-25"):
        assert run("init", "--database", url)[0] == 0
        assert run("member", "add", "ana@keepwell.example", "--name", "Ana", "-d", url)[0] == 0
        assert run("member", "add", "ben@keepwell.example", "--name", "Ben", "-d", url)[0] == 0
        csv = tmp_path / "customers.csv"
        csv.write_text("id,name,email,owner\nC1,Rui Costa,rui@example.com,ana@keepwell.example\n")
        code, _, err = run("import", "customers", str(csv), "-d", url)
        assert code == 0, err
        yield url


def listed(database: str, *args: str) -> list[dict[str, object]]:
    code, out, err = run("promise", "list", "--json", "-d", database, *args)
    assert code == 0, err
    rows: list[dict[str, object]] = json.loads(out)
    return rows


def test_add_update_keep_and_list(database: str) -> None:
    with clock.frozen("2026-11-25"):
        code, out, err = run(
            "promise", "add", "C1", "Send the invoice copy", "--due", "2026-11-27", "-d", database
        )
        assert code == 0, err
        assert "Promise #1 to Rui Costa: due 2026-11-27 17:00 UTC." in out
        code, out, _ = run(
            "promise", "update", "1", "Still waiting on the bank", "--due", "2026-12-04",
            "--channel", "call", "-d", database,
        )  # fmt: skip
        assert code == 0
        assert "Updated promise #1; now due 2026-12-04 17:00 UTC (slipped 1 time)." in out
        [row] = listed(database, "--owner", "ana@keepwell.example", "--customer", "rui@example.com")
        assert (row["status"], row["slips"], row["member_id"]) == ("open", 1, 1)  # Ana
        assert row["original_due_at"] == "2026-11-27T17:00:00Z"
        assert row["due_at"] == "2026-12-04T17:00:00Z"
        assert listed(database, "--owner", "ben@keepwell.example") == []
        assert listed(database, "--due-before", "2026-12-04") == []
        assert len(listed(database, "--due-before", "2026-12-05")) == 1
    with clock.frozen("2026-12-05"):
        assert [r["id"] for r in listed(database, "--overdue")] == [1]
        code, out, _ = run("promise", "list", "-d", database)
        assert "OVERDUE" in out and "Rui Costa" in out
        code, out, _ = run("promise", "keep", "1", "--outcome", "sent it", "-d", database)
        assert code == 0 and "Promise #1 kept late." in out
        code, _, err = run("promise", "keep", "1", "-d", database)
        assert code == 1 and "cannot keep promise #1: it is kept_late" in err


def test_break_cancel_and_the_rate(database: str) -> None:
    with clock.frozen("2026-11-02"):
        for what, due, by in (
            ("a", "2026-11-03", "ana@keepwell.example"),
            ("b", "2026-11-04", "ana@keepwell.example"),
            ("c", "2026-11-05", "ben@keepwell.example"),
            ("d", "2026-11-06", "ben@keepwell.example"),
        ):
            assert (
                run("promise", "add", "#1", what, "--due", due, "--by", by, "-d", database)[0] == 0
            )
    with clock.frozen("2026-11-10"):
        code, out, _ = run("promise", "keep", "1", "--at", "2026-11-03", "-d", database)
        assert code == 0 and "Promise #1 kept." in out
        code, _, err = run("promise", "break", "2", "-d", database)
        assert code == 2 and "--outcome" in err
        assert run("promise", "break", "2", "--outcome", "could not", "-d", database)[0] == 0
        assert run("promise", "keep", "3", "--at", "2026-11-05T09:00", "-d", database)[0] == 0
        code, out, _ = run("promise", "cancel", "4", "--reason", "not needed", "-d", database)
        assert code == 0 and "cancelled" in out
        code, out, err = run("promise", "rate", "--json", "-d", database)
        assert code == 0, err
        rate = json.loads(out)
        assert (rate["from"], rate["to"]) == ("2026-11-01", "2026-11-30")
        assert (rate["team"]["due"], rate["team"]["kept_on_time"], rate["team"]["rate"]) == (
            3,
            2,
            pytest.approx(2 / 3),
        )
        assert [(m["email"], m["due"], m["rate"]) for m in rate["members"]] == [
            ("ana@keepwell.example", 2, 0.5),
            ("ben@keepwell.example", 1, 1.0),
        ]
        code, out, _ = run(
            "promise", "rate", "--from", "2026-11-04", "--to", "2026-11-04",
            "--owner", "ana@keepwell.example", "--json", "-d", database,
        )  # fmt: skip
        rate = json.loads(out)
        assert [(m["email"], m["due"], m["broken"]) for m in rate["members"]] == [
            ("ana@keepwell.example", 1, 1)
        ]
        code, out, _ = run("promise", "rate", "-d", database)
        assert code == 0 and "team" in out and "67%" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("promise", "add", "C1", "x", "--due", "next friday"), "is not a date"),
        (("promise", "update", "1", "x", "--due", "31/12/2026"), "is not a date"),
        (("promise", "list", "--status", "done"), "use one of"),
        (("promise", "list", "--due-before", "soon"), "is not a date"),
        (("promise", "list", "--limit", "0"), "greater than or equal to 1"),
        (("promise", "rate", "--from", "2026-11-10", "--to", "2026-11-01"), "comes before"),
    ],
)
def test_bad_input_is_a_usage_error(database: str, args: tuple[str, ...], message: str) -> None:
    code, _, err = run(*args, "-d", database)
    assert code == 2 and message in err


def test_domain_errors_exit_1_with_the_reason(database: str) -> None:
    with clock.frozen("2026-11-25"):
        code, _, err = run("promise", "add", "C9", "x", "--due", "2026-11-27", "-d", database)
        assert code == 1 and "no customer 'C9'" in err
        code, _, err = run("promise", "add", "C1", "x", "--due", "2026-11-20", "-d", database)
        assert code == 1 and "due_at:" in err and "before the promise was made" in err
        code, _, err = run("promise", "update", "7", "x", "-d", database)
        assert code == 1 and "no promise #7" in err
        code, _, err = run(
            "promise", "add", "C1", "x", "--due", "2026-11-27", "--by", "zoe@x.example", "-d",
            database,
        )  # fmt: skip
        assert code == 1 and "no team member" in err
    assert listed(database) == []
