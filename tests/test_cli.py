"""The command line: every command translates, exits non-zero on errors, says why."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from keepwell.cli import app
from tests.conftest import CDNOW

runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def database(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'kw.db'}"
    code, out, _ = run("init", "--database", url)
    assert code == 0 and "Created" in out
    return url


def test_python_dash_m_and_version() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "keepwell", "--version"], capture_output=True, text=True, check=True
    )
    assert result.stdout.startswith("keepwell ")


def test_init_twice_says_up_to_date(database: str) -> None:
    code, out, _ = run("init", "--database", database)
    assert code == 0 and "is up to date" in out


def test_commands_refuse_an_uninitialised_database(tmp_path: Path) -> None:
    code, _, err = run("import", "orders", str(CDNOW), "--database", str(tmp_path / "new.db"))
    assert code == 1
    assert "run `keepwell init` first" in err


def test_import_orders_reports_and_is_idempotent(database: str) -> None:
    code, out, _ = run("import", "orders", str(CDNOW), "--database", database)
    assert code == 0
    assert "orders: 6,919 added, 0 updated, 0 unchanged, 0 rejected" in out
    assert "customers: 2,357 added" in out
    code, out, _ = run("import", "orders", str(CDNOW), "--database", database, "--json")
    assert code == 0
    summary = json.loads(out)
    assert (summary["added"], summary["unchanged"], summary["customers_added"]) == (0, 6919, 0)


def test_environment_variable_names_the_database(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KEEPWELL_DATABASE_URL", database)
    code, out, _ = run("member", "add", "ana@example.com", "--name", "Ana", "--role", "admin")
    assert code == 0 and "Added ana@example.com (admin)" in out
    code, out, _ = run("member", "list", "--json")
    assert json.loads(out)[0]["email"] == "ana@example.com"


def test_rejected_import_exits_non_zero_with_file_line_column(
    database: str, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("customer_id,order_date,amount\n1,2024-01-01,1.00\n2,2024-01-01,1.2.3\n")
    code, _, err = run("import", "orders", str(bad), "--database", database)
    assert code == 1
    assert f"{bad}:3: column amount: '1.2.3' is not an amount" in err
    assert "rejected: 1 bad row; nothing was imported" in err


def test_bad_options_are_usage_errors(database: str) -> None:
    code, _, err = run("import", "orders", str(CDNOW), "--database", database, "--map", "amount")
    assert code == 2 and "FIELD=COLUMN" in err
    code, _, err = run(
        "import", "orders", str(CDNOW), "--database", database, "--currency", "dollars"
    )
    assert code == 2 and "not a currency code" in err


def test_dry_run_and_skip_invalid(database: str, tmp_path: Path) -> None:
    code, out, _ = run("import", "orders", str(CDNOW), "--database", database, "--dry-run")
    assert code == 0 and "dry run: nothing was written" in out
    bad = tmp_path / "bad.csv"
    bad.write_text("customer_id,order_date,amount\n1,2024-01-01,1.00\n2,2024-01-01,x\n")
    rejects = tmp_path / "rejects.csv"
    code, out, _ = run(
        "import", "orders", str(bad), "--database", database, "--skip-invalid", str(rejects)
    )
    assert code == 0 and "1 added" in out and "1 rejected" in out
    assert rejects.exists()


def test_demo_builds_and_shows_the_desk(tmp_path: Path) -> None:
    db_path = tmp_path / "demo.db"
    code, out, _ = run(
        "demo", "--customers", "150", "--database", str(db_path), "--no-serve", "--json"
    )
    assert code == 0
    shown = json.loads(out)
    assert shown["world"]["customers"] == shown["desk"]["customers"] == 150
    assert shown["desk"]["orders"] > 150
    code, out, _ = run("demo", "--customers", "150", "--database", str(db_path), "--no-serve")
    assert code == 0
    assert "Valuable customers gone quiet" in out and "Birthdays in the next 14 days" in out


def test_demo_leaves_todays_playbooks_done(tmp_path: Path) -> None:
    """The demo scores before its last playbook run: the save calls for slipping customers
    are on the desk already, and a real run afterwards finds nothing left to do today."""
    db_path = tmp_path / "demo.db"
    code, _, _ = run("demo", "--customers", "400", "--database", str(db_path), "--no-serve")
    assert code == 0
    engine = sa.create_engine(f"sqlite:///{db_path}")
    with engine.connect() as conn:
        save_calls = conn.exec_driver_sql(
            "SELECT count(*) FROM tasks WHERE dedupe_key LIKE 'playbook:save-call:%'"
        ).scalar()
    engine.dispose()
    code, out, _ = run("playbooks", "run", "--database", str(db_path))
    assert code == 0
    assert "created 0 tasks" in out, out
    assert save_calls and save_calls > 0
