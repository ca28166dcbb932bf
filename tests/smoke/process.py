"""`keepwell` as a user runs it: the installed command, a fresh process each time.

The rest of the suite imports the whole program into one process, so a command that
only works because some other module happened to be imported first passes there. Here
every command starts from nothing, as it does on a user's machine.
"""

from __future__ import annotations

import functools
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
KEEPWELL = Path(sys.executable).with_name("keepwell")  # the entry point pip installed
NOW = "2026-11-25T09:30:00"  # the demo desk's "now": every process sees the same day


@dataclass
class Result:
    args: tuple[str, ...]
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


def environment(home: Path, database: str | None = None, **extra: str) -> dict[str, str]:
    """The process environment: this checkout's code, a private home (no command may
    touch the user's data directory), a wide terminal (no wrapped help), a fixed day."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEEPWELL_")}
    env.update(
        PYTHONPATH=str(ROOT),
        HOME=str(home),
        XDG_DATA_HOME=str(home / "data"),
        XDG_CONFIG_HOME=str(home / "config"),
        COLUMNS="200",
        NO_COLOR="1",
        KEEPWELL_NOW=NOW,
    )
    if database is not None:
        env["KEEPWELL_DATABASE_URL"] = database
    env.update(extra)
    return env


# --- which commands there are ---------------------------------------------------------


@functools.cache
def commands() -> dict[str, Any]:
    """Every command the `keepwell` program has, by its words ("promise add"), found
    through the click Group API (list_commands / get_command), so that a group which
    loads its commands on demand is walked the same way."""
    from keepwell import cli

    root: Any = cli.app
    if not hasattr(root, "list_commands"):  # a Typer app: its click group
        import typer

        root = typer.main.get_command(root)
    found: dict[str, Any] = {}

    def walk(group: Any, ctx: Any, path: tuple[str, ...]) -> None:
        for name in group.list_commands(ctx):
            command = group.get_command(ctx, name)
            assert command is not None, f"keepwell {' '.join((*path, name))} does not load"
            words = (*path, name)
            if hasattr(command, "list_commands"):
                walk(command, command.context_class(command, info_name=name, parent=ctx), words)
            else:
                found[" ".join(words)] = command

    walk(root, root.context_class(root, info_name="keepwell"), ())
    return found


def command_of(args: Iterable[str]) -> str | None:
    """The command an argument list runs ("promise add" for promise add #5 …)."""
    words = list(args)
    for n in (3, 2, 1):
        name = " ".join(words[:n])
        if name in commands():
            return name
    return None


# --- running it -----------------------------------------------------------------------

# The commands each test declared it runs (`covers`), and those that ran with success.
COVERED: dict[str, str] = {}
_ran: set[str] = set()


def covers(*names: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Declare the commands a smoke test runs for real; the test fails if one of them did
    not run and exit 0 (and test_every_command_has_a_smoke_case reads the declarations)."""

    def decorate(test: Callable[..., None]) -> Callable[..., None]:
        for name in names:
            COVERED.setdefault(name, f"{test.__module__}.{test.__name__}")

        @functools.wraps(test)
        def checked(*args: Any, **kwargs: Any) -> None:
            _ran.clear()
            test(*args, **kwargs)
            missing = sorted(set(names) - _ran)
            assert not missing, f"declared but not run with success: {missing}"

        return checked

    return decorate


def keepwell(
    *args: str, env: dict[str, str], expect: int | None = 0, stdin: str | None = None
) -> Result:
    """Run `keepwell ARGS…` in a fresh process; it must exit with `expect` (0 or 1 when
    None), never show a Python traceback and never meet an unexpected error."""
    proc = subprocess.run(
        [str(KEEPWELL), *args],
        capture_output=True,
        text=True,
        env=env,
        input=stdin,
        timeout=300,
    )
    shown = f"keepwell {' '.join(args)}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"
    assert "Traceback" not in proc.stderr + proc.stdout, shown
    crashed = re.search(r"keepwell: unexpected error .*; details in (\S+)", proc.stderr)
    assert crashed is None, shown + Path(crashed.group(1)).read_text(errors="replace")
    allowed = (0, 1) if expect is None else (expect,)
    assert proc.returncode in allowed, f"exit {proc.returncode}, expected {expect}: {shown}"
    name = command_of(args)
    if proc.returncode == 0 and name is not None and "--help" not in args:
        _ran.add(name)
    return Result(tuple(args), proc.returncode, proc.stdout, proc.stderr)


@dataclass
class Desk:
    """A desk a test may change: its own SQLite file, its own home directory."""

    path: Path
    home: Path
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"sqlite:///{self.path}"

    @property
    def env(self) -> dict[str, str]:
        return environment(self.home, self.url, **self.extra)

    def run(self, *args: str, expect: int = 0, stdin: str | None = None) -> Result:
        return keepwell(*args, env=self.env, expect=expect, stdin=stdin)

    def json(self, *args: str) -> Any:
        """Run a command with --json and read what it printed."""
        return self.run(*args, "--json").json()

    def json_out(self, *args: str) -> Any:
        """Read the JSON a command always prints (no --json option)."""
        return self.run(*args).json()
