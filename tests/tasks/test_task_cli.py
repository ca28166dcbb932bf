"""`keepwell task …`: translate, report, and fail clearly."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from keepwell import clock, db
from keepwell.accounts.models import TeamMember
from keepwell.cli import app
from keepwell.customers.models import Customer

runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def database(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'kw.db'}"
    assert run("init", "--database", url)[0] == 0
    engine = db.make_engine(url)
    with db.transaction(engine) as session:
        ana = TeamMember(email="ana@example.com", name="Ana")
        cy = TeamMember(email="cy@example.com", name="Cy")
        session.add_all([ana, cy])
        session.flush()
        session.add(
            Customer(
                name="Bea Stone",
                email="bea@example.com",
                external_id="shop-7",
                owner_id=ana.id,
                first_seen=datetime(2025, 1, 10, tzinfo=UTC),
            )
        )
    engine.dispose()
    return url


def tasks(database: str, *args: str) -> list[dict[str, object]]:
    code, out, err = run("task", "list", "--json", "--database", database, *args)
    assert code == 0, err
    return json.loads(out)  # type: ignore[no-any-return]


def test_add_list_and_the_same_reason_twice(database: str) -> None:
    with clock.frozen("2026-11-25"):
        code, out, _ = run(
            "task",
            "add",
            "bea@example.com",
            "Ask how the trial went.",
            "--due",
            "+2",
            "--database",
            database,
        )
        assert code == 0 and "Added task #1, due 2026-11-27." in out
        code, out, _ = run("task", "add", "shop-7", "Ask how the trial went.", "-d", database)
        assert code == 0 and "Task #1 is there already" in out
        rows = tasks(database)
        assert [(r["id"], r["customer"], r["member"], r["due_on"]) for r in rows] == [
            (1, "Bea Stone", "ana@example.com", "2026-11-27")
        ]
        code, out, _ = run(
            "task",
            "add",
            "#1",
            "Send the guide.",
            "--kind",
            "thank_you",
            "--owner",
            "cy@example.com",
            "--context",
            "Met at the fair.",
            "-d",
            database,
        )
        assert code == 0
        assert [r["id"] for r in tasks(database, "--owner", "cy@example.com")] == [2]
        assert [r["id"] for r in tasks(database, "--kind", "thank_you")] == [2]
        assert [r["id"] for r in tasks(database, "--due-before", "today")] == [2]
        assert [r["id"] for r in tasks(database, "--customer", "#1")] == [2, 1]
        code, out, _ = run("task", "list", "-d", database)
        assert code == 0 and "Bea" in out and "Send the" in out


def test_snooze_reassign_done_and_cancel(database: str) -> None:
    with clock.frozen("2026-11-25"):
        run("task", "add", "#1", "Ask about X.", "-d", database)
        run("task", "add", "#1", "Ask about Y.", "-d", database)
        code, out, _ = run("task", "snooze", "1", "--until", "2026-11-30", "-d", database)
        assert code == 0 and "snoozed until 2026-11-30" in out
        assert [r["id"] for r in tasks(database)] == [2]
        assert [r["id"] for r in tasks(database, "--snoozed")] == [1, 2]
        code, out, _ = run("task", "reassign", "2", "cy@example.com", "-d", database)
        assert code == 0 and "cy@example.com" in out
        code, out, _ = run(
            "task", "done", "2", "--outcome", "Fine.", "--channel", "email", "-d", database
        )
        assert code == 0 and "done, email logged" in out
        code, out, _ = run("task", "cancel", "1", "--reason", "Not needed.", "-d", database)
        assert code == 0
        assert {r["id"]: r["status"] for r in tasks(database, "--status", "all")} == {
            1: "cancelled",
            2: "done",
        }
        code, _, err = run("task", "done", "1", "-d", database)
        assert code == 1 and "cannot complete task #1: it is cancelled" in err


def test_done_without_logging(database: str) -> None:
    with clock.frozen("2026-11-25"):
        run("task", "add", "#1", "Ask about X.", "-d", database)
        code, out, _ = run("task", "done", "1", "--channel", "none", "-d", database)
        assert code == 0 and out.strip() == "Task #1 done."


@pytest.mark.parametrize(
    "args, message",
    [
        (("task", "add", "#1", "X.", "--due", "next week"), "is not a date"),
        (("task", "snooze", "1", "--until", "2026-13-01"), "is not a date"),
        (("task", "list", "--due-before", "soon"), "is not a date"),
        (("task", "list", "--status", "later"), "use one of open, done, cancelled, all"),
    ],
)
def test_bad_dates_and_choices_are_bad_parameters(database: str, args: tuple[str, ...], message: str) -> None:
    code, _, err = run(*args, "-d", database)
    assert code == 2 and message in err


@pytest.mark.parametrize(
    "args, message",
    [
        (("task", "add", "#99", "X."), "no customer '#99'"),
        (("task", "add", "#1", "X.", "--owner", "who@example.com"), "no team member"),
        (("task", "done", "7"), "no task #7"),
        (("task", "done", "1", "--channel", "pigeon"), "unknown channel"),
        (("task", "snooze", "1", "--until", "today"), "after today"),
        (("task", "reassign", "1", "who@example.com"), "no team member"),
    ],
)
def test_errors_say_why(database: str, args: tuple[str, ...], message: str) -> None:
    with clock.frozen("2026-11-25"):
        run("task", "add", "#1", "Ask about X.", "-d", database)
        code, _, err = run(*args, "-d", database)
    assert code == 1 and message in err
