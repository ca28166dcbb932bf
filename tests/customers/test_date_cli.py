"""`keepwell date …`: translate, report, and fail clearly."""

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
        session.add_all(
            [
                Customer(
                    name="Bea Stone",
                    email="bea@example.com",
                    owner_id=ana.id,
                    first_seen=datetime(2020, 12, 2, 9, tzinfo=UTC),
                    anniversary_md=1202,
                ),
                Customer(name="Dan Reed", email="dan@example.com", owner_id=cy.id),
            ]
        )
    engine.dispose()
    return url


def test_add_list_upcoming_remove(database: str) -> None:
    with clock.frozen("2026-11-25"):
        code, out, err = run(
            "date",
            "add",
            "bea@example.com",
            "--kind",
            "renewal",
            "--on",
            "2024-12-01",
            "--label",
            "Contract renewal",
            "-d",
            database,
        )
        assert code == 0, err
        assert "Added renewal #1" in out and "a call before the renewal" in out
        code, out, _ = run(
            "date",
            "add",
            "#2",
            "--kind",
            "custom",
            "--on",
            "2026-12-05",
            "--once",
            "--gesture",
            "flowers",
            "-d",
            database,
        )
        assert code == 0 and "(once)" in out
        code, out, _ = run("date", "birthday", "dan@example.com", "11-27", "-d", database)
        assert code == 0 and "27 November (year unknown)" in out
        code, out, _ = run("date", "list", "#2", "--json", "-d", database)
        listed = json.loads(out)
        assert listed["birthday"] == "1904-11-27"
        assert [(d["kind"], d["yearly"], d["gesture"]) for d in listed["dates"]] == [
            ("custom", False, "flowers")
        ]
        code, out, _ = run("date", "upcoming", "--json", "-d", database)
        assert code == 0
        assert [(u["customer_name"], u["kind"], u["on"], u["years"]) for u in json.loads(out)] == [
            ("Dan Reed", "birthday", "2026-11-27", None),
            ("Bea Stone", "renewal", "2026-12-01", 2),
            ("Bea Stone", "customer_anniversary", "2026-12-02", 6),
            ("Dan Reed", "custom", "2026-12-05", None),
        ]
        code, out, _ = run(
            "date", "upcoming", "--owner", "ana@example.com", "--days", "6", "-d", database
        )
        assert code == 0 and "Bea Stone" in out and "Dan Reed" not in out
        assert "customer anniversary" not in out  # 2 December is 7 days away
        code, out, _ = run("date", "list", "bea@example.com", "-d", database)
        assert code == 0 and "Contract renewal" in out and "customer since 2020-12-02" in out
        code, out, _ = run("date", "remove", "1", "-d", database)
        assert code == 0 and "Removed renewal #1" in out
        code, out, _ = run(
            "date", "upcoming", "--owner", "ana@example.com", "--days", "3", "-d", database
        )
        assert code == 0 and "Nothing coming up in the next 3 days." in out


def test_birthday_with_a_year_and_forgotten(database: str) -> None:
    with clock.frozen("2026-11-25"):
        code, out, _ = run("date", "birthday", "#1", "1980-11-30", "-d", database)
        assert code == 0 and "1980-11-30" in out
        code, out, _ = run("date", "upcoming", "--json", "-d", database)
        first = json.loads(out)[0]
        assert (first["kind"], first["years"]) == ("birthday", 46)
        code, out, _ = run("date", "birthday", "#1", "none", "-d", database)
        assert code == 0 and "Forgot" in out


@pytest.mark.parametrize(
    "args, code_, message",
    [
        (("date", "add", "#1", "--kind", "renewal", "--on", "1 Dec"), 2, "is not a date"),
        (("date", "birthday", "#1", "31-31"), 2, "is not a birthday"),
        (("date", "birthday", "#1", "2030-01-01"), 1, "in the future"),
        (("date", "add", "#1", "--kind", "wedding", "--on", "2020-01-01"), 1, "unknown kind"),
        (("date", "add", "#9", "--kind", "renewal", "--on", "2020-01-01"), 1, "no customer"),
        (("date", "upcoming", "--days", "400"), 1, "days_ahead"),
        (("date", "upcoming", "--owner", "x@example.com"), 1, "no team member"),
        (("date", "remove", "5"), 1, "no special date #5"),
    ],
)
def test_errors_say_why(database: str, args: tuple[str, ...], code_: int, message: str) -> None:
    with clock.frozen("2026-11-25"):
        code, _, err = run(*args, "-d", database)
    assert code == code_ and message in err
