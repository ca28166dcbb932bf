"""`keepwell init` loads the playbooks; `keepwell playbooks run` twice adds nothing;
`keepwell doctor` reports the last run."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from keepwell import clock, db
from keepwell.cli import app
from keepwell.outreach.models import Message
from keepwell.playbooks.models import Playbook, PlaybookRun
from keepwell.tasks.models import Task

runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def database(tmp_path: Path) -> Iterator[str]:
    """A desk with Ana, who owns Rui; Rui placed his first order on 20 Nov."""
    url = f"sqlite:///{tmp_path / 'kw.db'}"
    with clock.frozen("2026-11-20T09:00:00+00:00"):
        assert run("init", "--database", url)[0] == 0
        assert run("member", "add", "ana@keepwell.example", "--name", "Ana", "-d", url)[0] == 0
        customers = tmp_path / "customers.csv"
        customers.write_text(
            "id,name,email,owner\nC1,Rui Costa,rui@example.com,ana@keepwell.example\n"
        )
        assert run("import", "customers", str(customers), "-d", url)[0] == 0
        orders = tmp_path / "orders.csv"
        orders.write_text(
            "order_id,customer_id,order_date,amount,product\nO1,C1,2026-11-20,49.00,Grinder\n"
        )
        code, _, err = run("import", "orders", str(orders), "-d", url)
        assert code == 0, err
        yield url


def count(url: str, model: type) -> int:
    engine = db.make_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(model)).scalar_one())
    finally:
        engine.dispose()


def test_init_loads_the_builtins_and_keeps_an_admins_switch(database: str) -> None:
    code, out, err = run("playbooks", "list", "--json", "-d", database)
    assert code == 0, err
    names = {p["name"] for p in json.loads(out)}
    assert {
        "thank-you-first-sale",
        "check-in-14-days",
        "birthday-card",
        "save-call",
        "detractor-call",
        "confirm-case-resolved",
        "backlog-patience",
    } <= names
    assert run("playbooks", "disable", "birthday-card", "-d", database)[0] == 0
    code, _, err = run(
        "playbooks", "edit", "check-in-30-days", '{"trigger_params": {"days": 21}}', "-d", database
    )
    assert code == 0, err
    assert run("init", "-d", database)[0] == 0  # again: the switch and the edit stay
    code, out, _ = run("playbooks", "show", "birthday-card", "-d", database)
    assert json.loads(out)["enabled"] is False
    code, out, _ = run("playbooks", "show", "check-in-30-days", "-d", database)
    assert json.loads(out)["trigger_params"] == {"days": 21}
    assert count(database, Playbook) == len(names)
    code, _, err = run(
        "playbooks", "edit", "check-in-30-days", '{"trigger_params": {"days": -1}}', "-d", database
    )
    assert code == 1 and "trigger_params.days" in err
    assert run("playbooks", "show", "no-such", "-d", database)[0] == 1


def test_run_twice_on_one_day_creates_nothing_the_second_time(database: str) -> None:
    with clock.frozen("2026-11-21T10:00:00+00:00"):
        code, out, err = run(
            "playbooks", "run", "--date", "2026-11-21", "--since", "2026-11-20", "-d", database
        )
        assert code == 0, err
        assert "created 1 tasks" in out  # the thank-you for Rui's first order
        tasks, ledger = count(database, Task), count(database, PlaybookRun)
        code, out, err = run("playbooks", "run", "--date", "2026-11-21", "-d", database)
        assert code == 0, err
        assert "created 0 tasks" in out
        assert (count(database, Task), count(database, PlaybookRun)) == (tasks, ledger)


def test_missed_days_are_caught_up_and_a_dry_run_writes_nothing(database: str) -> None:
    with clock.frozen("2026-11-20T10:00:00+00:00"):
        assert run("playbooks", "run", "-d", database)[0] == 0
    with clock.frozen("2026-12-05T10:00:00+00:00"):  # the desk was away for two weeks
        code, out, err = run("playbooks", "run", "--dry-run", "--json", "-d", database)
        assert code == 0, err
        report = json.loads(out)
        # the 14-day check-in on 4 Dec: an e-mail to Rui
        # 20 Nov was looked at while it was today: it is looked at again, now complete
        assert report["days"] == 16 and report["messages"] == 1 and report["tasks"] == 0
        assert (count(database, Task), count(database, Message)) == (1, 0)  # wrote nothing
        code, out, err = run("playbooks", "run", "--json", "-d", database)
        assert json.loads(out)["days"] == 16
        engine = db.make_engine(database)
        with engine.connect() as conn:
            queued = conn.execute(sa.select(Message.template, Message.queued_at)).all()
        engine.dispose()
        assert [t for t, _ in queued] == ["check_in"]
        assert count(database, Task) == 1


def test_doctor_reports_the_last_run(database: str) -> None:
    with clock.frozen("2026-11-21T10:00:00+00:00"):
        code, out, _ = run("doctor", "-d", database)
        assert code == 0 and "playbooks have never run" in out
        assert run("playbooks", "run", "--since", "2026-11-20", "-d", database)[0] == 0
        code, out, err = run("doctor", "-d", database)
        assert code == 0, err
        assert "WARN" not in out.split("playbooks:")[1].splitlines()[0]
        assert "last run just now" in out and "created 1 tasks" in out
        assert "schema" in out and "SMTP is not configured" in out
    with clock.frozen("2026-11-23T10:00:00+00:00"):  # two days without a run
        code, out, _ = run("doctor", "--json", "-d", database)
        checks = {c["name"]: c for c in json.loads(out)["checks"]}
        assert checks["playbooks"]["level"] == "warning"
        assert "over a day ago" in checks["playbooks"]["message"]
        assert checks["playbooks"]["data"]["tasks"] == 1


def test_doctor_fails_on_a_database_without_schema(tmp_path: Path) -> None:
    code, out, _ = run("doctor", "-d", str(tmp_path / "empty.db"))
    assert code == 1 and "FAIL schema" in out


def test_an_order_after_todays_run_is_found_by_the_next_run(database: str, tmp_path: Path) -> None:
    with clock.frozen("2026-11-21T07:00:00+00:00"):
        assert run("playbooks", "run", "-d", database)[0] == 0
        code, _, err = run("playbooks", "run", "--date", "2026-11-22", "-d", database)
        assert code == 1 and "has not come yet" in err
    with clock.frozen("2026-11-21T15:00:00+00:00"):
        customers = tmp_path / "c2.csv"
        customers.write_text("id,name,email\nC2,Ines Neves,ines@example.com\n")
        assert run("import", "customers", str(customers), "-d", database)[0] == 0
        orders = tmp_path / "o2.csv"
        orders.write_text(
            "order_id,customer_id,order_date,amount,product\nO2,C2,2026-11-21,9.00,Beans\n"
        )
        assert run("import", "orders", str(orders), "-d", database)[0] == 0
    with clock.frozen("2026-11-22T07:00:00+00:00"):  # the next morning: 21 Nov is looked at again
        code, out, err = run("playbooks", "run", "-d", database)
        assert code == 0, err
        assert "created 1 tasks" in out  # Ines's thank-you
