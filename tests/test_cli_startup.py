"""`keepwell --help` lists every command from keepwell/cli.py's table without importing
any of them: no SQLAlchemy, NumPy, SciPy, matplotlib or Arrow. The table's one-line
helps are held equal to the commands' own, so the two cannot drift apart."""

from __future__ import annotations

import inspect
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from keepwell.cli import COMMANDS, Entry, app, load

HEAVY = ("sqlalchemy", "numpy", "scipy", "matplotlib", "pyarrow", "pandas", "alembic")

# Runs the installed entry point, then names the heavy packages it imported.
PROBE = """
import sys
sys.argv = ["keepwell", *sys.argv[1:]]
from keepwell.cli import main
code = None
try:
    main()
except SystemExit as exit:
    code = exit.code
heavy = sorted({name.split(".")[0] for name in sys.modules} & set(HEAVY))
print("exit:", code, "heavy:", ",".join(heavy) or "none", file=sys.stderr)
"""


def probe(*args: str) -> tuple[str, str]:
    done = subprocess.run(
        [sys.executable, "-c", f"HEAVY = {HEAVY!r}\n{PROBE}", *args],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout, done.stderr.strip().splitlines()[-1]


def first_paragraph(text: str | None) -> str:
    return " ".join(inspect.cleandoc(text or "").split("\n\n")[0].split())


@pytest.mark.parametrize("entry", COMMANDS, ids=[entry.name for entry in COMMANDS])
def test_the_tables_one_line_help_is_the_commands_own(entry: Entry) -> None:
    command = load(entry)
    assert command.name == entry.name
    assert entry.help == first_paragraph(command.help)


def test_the_table_names_each_command_once() -> None:
    names = [entry.name for entry in COMMANDS]
    assert len(names) == len(set(names))


def test_help_lists_every_command_and_imports_no_heavy_module() -> None:
    out, status = probe("--help")
    assert status == "exit: 0 heavy: none"
    commands = out[out.index("─ Commands ─") :]
    listed = [
        line.split()[1]
        for line in commands.splitlines()
        if line.startswith("│ ") and line[2] != " "
    ]
    assert listed == [entry.name for entry in COMMANDS]


def test_bare_keepwell_and_version_import_no_heavy_module() -> None:
    out, status = probe()
    assert status == "exit: 2 heavy: none" and "agenda" in out  # usage, as before
    out, status = probe("--version")
    assert status == "exit: 0 heavy: none" and out.startswith("keepwell ")


def test_a_command_is_imported_when_it_runs_or_shows_its_help() -> None:
    out, status = probe("promise", "--help")
    assert status.startswith("exit: 0") and "sqlalchemy" in status
    assert "Record a promise made to a customer" in out  # the group's own subcommands


def test_a_mistyped_command_still_gets_a_suggestion() -> None:
    result = CliRunner().invoke(app, ["promis"])
    assert result.exit_code == 2
    assert "Did you mean 'promise'?" in result.output


def test_every_command_is_reachable_through_the_group() -> None:
    group = typer.main.get_command(app)
    assert isinstance(group, typer.core.TyperGroup)
    for entry in COMMANDS:
        result = CliRunner().invoke(app, [entry.name, "--help"])
        assert result.exit_code == 0, (entry.name, result.output)
        assert entry.help.split()[0] in result.output


def test_fitting_a_summary_file_loads_no_database_layer(tmp_path: Path) -> None:
    # a summary file needs the models, not the database: no SQLAlchemy, no Alembic
    # 400 customers drawn from BG/NBD with the CDNOW parameters
    from keepwell.analytics.simulate import bgnbd_summary

    drawn = bgnbd_summary(400, seed=7)
    summary = tmp_path / "summary.csv"
    rows = ["frequency,recency,T"] + [
        f"{int(x)},{float(t)!r},{float(big_t)!r}"
        for x, t, big_t in zip(drawn.frequency, drawn.recency, drawn.T, strict=True)
    ]
    summary.write_text("\n".join(rows) + "\n", encoding="utf-8")
    out, last = probe("model", "fit", "--summary", str(summary), "--json")
    assert last.startswith(("exit: None", "exit: 0")), last
    assert '"bgnbd"' in out  # it did fit
    heavy = last.split("heavy: ")[1].split(",")
    assert "numpy" in heavy and "scipy" not in heavy  # the models need NumPy alone
    assert "sqlalchemy" not in heavy and "alembic" not in heavy
