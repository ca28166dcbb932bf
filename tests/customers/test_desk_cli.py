"""`keepwell log`, `show`, `owner`, `cadence`: the desk from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from keepwell import db
from keepwell.cli import app
from keepwell.customers.models import OwnerChange

runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def desk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("KEEPWELL_NOW", "2026-11-25T10:00:00")
    url = f"sqlite:///{tmp_path / 'desk.db'}"
    monkeypatch.setenv("KEEPWELL_DATABASE_URL", url)
    assert run("init")[0] == 0
    orders = tmp_path / "orders.csv"
    orders.write_text(
        "customer_id,customer_name,order_date,amount,product\nC1,Ana Silva,2026-01-10,49.00,Grinder\n"
    )
    assert run("import", "orders", str(orders))[0] == 0
    for email in ("joao@keepwell.example", "rita@keepwell.example"):
        assert run("member", "add", email)[0] == 0
    return url


def test_log_reschedules_and_show_tells_the_story(desk: str) -> None:
    code, out, _ = run("show", "C1", "--json")
    before = json.loads(out)["profile"]["next_check_in_at"]
    assert code == 0 and before.startswith("2026-04-10")  # 90 days after the first order
    code, out, _ = run(
        "log",
        "C1",
        "--channel",
        "call",
        "-s",
        "Loves the grinder; asked about beans",
        "--by",
        "joao@keepwell.example",
    )
    assert code == 0 and "next check-in 2027-02-23" in out
    code, out, _ = run("show", "C1")
    assert code == 0
    assert "Loves the grinder" in out and "Ordered 1 for 49.00 USD — Grinder" in out
    assert out.index("Loves the grinder") < out.index("Ordered 1")  # newest first


def test_bad_channel_is_refused_and_writes_nothing(desk: str) -> None:
    code, _, err = run("log", "C1", "--channel", "pigeon")
    assert code == 1 and "unknown channel 'pigeon'" in err
    assert json.loads(run("show", "C1", "--json")[1])["timeline"][0]["kind"] == "order"


def test_owner_change_is_recorded(desk: str) -> None:
    assert run("owner", "C1", "joao@keepwell.example")[0] == 0
    code, out, _ = run(
        "owner",
        "C1",
        "rita@keepwell.example",
        "--reason",
        "Joao moves to wholesale",
        "--by",
        "joao@keepwell.example",
    )
    assert code == 0 and "looked after by rita@keepwell.example" in out
    engine = db.make_engine(desk)
    with db.transaction(engine) as session:
        changes = session.query(OwnerChange).order_by(OwnerChange.id).all()
        assert [(c.from_member_id, c.to_member_id) for c in changes] == [(None, 1), (1, 2)]
        assert changes[1].reason == "Joao moves to wholesale" and changes[1].changed_by_id == 1
    engine.dispose()


def test_cadences_by_segment_and_customer(desk: str) -> None:
    code, out, _ = run("cadence", "set", "*", "30")
    assert code == 0 and "1 customers' next check-in moved" in out
    assert json.loads(run("show", "C1", "--json")[1])["profile"]["next_check_in_at"].startswith(
        "2026-02-09"
    )
    code, out, _ = run("cadence", "customer", "C1", "7")
    assert code == 0 and "next check-in 2026-01-17" in out
    code, out, _ = run("cadence", "customer", "C1", "segment")
    assert code == 0 and "next check-in 2026-02-09" in out
    assert json.loads(run("cadence", "list", "--json")[1]) == {"*": 30, "vip": 30}
    code, _, err = run("cadence", "set", "vip", "0")
    assert code == 1 and "1 to 3660 days" in err


@pytest.mark.skipif(not Path("/proc/self/wchan").exists(), reason="needs Linux /proc")
def test_a_command_waits_for_another_writer_instead_of_failing(desk: str) -> None:
    """While another process holds SQLite's write lock, a command waits its turn: the
    lock is let go only once the command is seen waiting (asleep in SQLite's busy
    handler). A command that did not wait would fail at once ("database is locked")."""
    import os
    import sqlite3
    import subprocess
    import sys
    import time

    path = desk.removeprefix("sqlite:///")
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("UPDATE customers SET name = name")
    command = subprocess.Popen(
        [sys.executable, "-m", "keepwell", "log", "C1", "--channel", "note",
         "-s", "Waited for the lock"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "KEEPWELL_LOG_DIR": str(Path(path).parent / "log")},
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not asleep(command.pid):  # the only sleep of a command is the lock's wait
            assert command.poll() is None, command.communicate()
            assert time.monotonic() < deadline, "the command never waited for the lock"
            time.sleep(0.02)
        holder.execute("COMMIT")
        out, err = command.communicate(timeout=60)
    finally:
        holder.close()
        if command.poll() is None:
            command.kill()
            command.wait()
    assert command.returncode == 0, err
    assert "next check-in" in out
    code, out, _ = run("show", "C1")
    assert code == 0 and "Waited for the lock" in out


def asleep(pid: int) -> bool:
    try:
        return "nanosleep" in Path(f"/proc/{pid}/wchan").read_text()
    except OSError:
        return False


