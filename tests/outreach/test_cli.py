"""`keepwell outreach …`: the commands translate; bad input is refused, naming the field."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from keepwell import clock
from keepwell.cli import app
from tests.outreach.smtp import SmtpServer

runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def database(tmp_path: Path) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'kw.db'}"
    with clock.frozen("2026-11-25T10:00:00+00:00"):
        assert run("init", "-d", url)[0] == 0
        assert run("member", "add", "ana@keepwell.example", "--name", "Ana", "-d", url)[0] == 0
        csv = tmp_path / "customers.csv"
        csv.write_text(
            "id,name,email,owner,tags\nC1,Rui Costa,rui@example.com,ana@keepwell.example,tea\n"
        )
        assert run("import", "customers", str(csv), "-d", url)[0] == 0
        yield url


def test_budget_quiet_hours_and_bad_input(database: str) -> None:
    code, out, _ = run("outreach", "budget", "-d", database)
    assert code == 0 and "At most 2 automatic messages per customer in 14 days" in out
    code, out, _ = run("outreach", "budget", "--messages", "3", "--days", "30", "-d", database)
    assert code == 0 and "At most 3" in out and "30 days" in out
    code, _, err = run("outreach", "budget", "--messages", "-1", "-d", database)
    assert code == 1 and "messages" in err
    code, _, err = run("outreach", "quiet-hours", "25:00", "08:00", "-d", database)
    assert code == 1 and "HH:MM" in err
    code, _, err = run(
        "outreach", "quiet-hours", "21:00", "07:00", "--timezone", "Nowhere/Town", "-d", database
    )
    assert code == 1 and "time zone" in err
    assert (
        run(
            "outreach",
            "quiet-hours",
            "21:00",
            "07:00",
            "--timezone",
            "Europe/Lisbon",
            "-d",
            database,
        )[0]
        == 0
    )


def test_write_send_and_list(database: str, tmp_path: Path, smtp_server: SmtpServer) -> None:
    body = tmp_path / "note.txt"
    body.write_text("Hello Rui,\n\nthank you.\n")
    with clock.frozen("2026-11-25T10:00:00+00:00"):
        code, out, err = run(
            "outreach", "write", "C1", "--subject", "Thanks", "--body", str(body), "-d", database
        )
        assert code == 0, err
        assert "queued" in out
        code, out, _ = run("outreach", "send", "-d", database)
        assert code == 0 and "waiting 1 (SMTP is not configured" in out
        with pytest.MonkeyPatch.context() as env:
            env.setenv("KEEPWELL_SMTP_HOST", smtp_server.host)
            env.setenv("KEEPWELL_SMTP_PORT", str(smtp_server.port))
            env.setenv("KEEPWELL_SMTP_TLS", "off")
            env.setenv("KEEPWELL_SMTP_FROM", "desk@shop.example")
            code, out, _ = run("outreach", "send", "-d", database)
        assert code == 0 and "Sent 1" in out
        assert [m["Subject"] for m in smtp_server.inbox.messages] == ["Thanks"]
        code, out, _ = run("outreach", "list", "--json", "-d", database)
        assert [(m["subject"], m["status"]) for m in json.loads(out)] == [("Thanks", "sent")]
        code, _, err = run("outreach", "list", "--status", "lost", "-d", database)
        assert code == 2 and "use one of queued" in err  # a usage error
        code, _, err = run("outreach", "retry", "1", "-d", database)
        assert code == 1 and "sent, not failed" in err


def test_resources_drafts_and_calendar(database: str) -> None:
    with clock.frozen("2026-11-25T10:00:00+00:00"):
        code, _, err = run(
            "outreach", "resource-add", "Tea", "ftp://x", "--topic", "tea", "-d", database
        )
        assert code == 1 and "url" in err
        code, out, err = run(
            "outreach",
            "resource-add",
            "Tea guide",
            "https://shop.example/tea",
            "--topic",
            "tea",
            "-d",
            database,
        )
        assert code == 0, err
        code, out, _ = run("outreach", "resources", "-d", database)
        assert "Tea guide" in out
        code, out, _ = run("outreach", "pass-on", "1", "-d", database)
        assert code == 0 and "1 customers concerned: 0 e-mailed, 1 tasks" in out  # no consent
        code, out, _ = run("outreach", "draft", "C1", "-d", database)
        assert code == 0 and "How did we do?" in out
        code, _, _ = run("outreach", "draft", "-d", database)
        assert code == 2  # a customer or a segment
        code, out, _ = run("outreach", "calendar", "ana@keepwell.example", "-d", database)
        assert code == 0 and "/ics/" in out and out.strip().split()[0].endswith(".ics")
        code, out, _ = run(
            "outreach", "calendar", "ana@keepwell.example", "--revoke", "-d", database
        )
        assert code == 0 and "Revoked 1" in out
