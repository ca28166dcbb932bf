"""Every command's --help in a fresh process, and a smoke case for every command.

A command's help loads its module on its own; a command without a smoke case (in the
tests/smoke/test_cli_*.py modules) fails test_every_command_has_a_smoke_case.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from tests.smoke.process import COVERED, commands, environment, keepwell

# Commands run for real by other smoke tests than the test_cli_* modules.
ELSEWHERE = {
    "serve": "tests/smoke/test_api_live.py: every API operation against `keepwell serve`",
}


def _smoke_modules() -> list[str]:
    here = Path(__file__).parent
    return sorted(f"tests.smoke.{p.stem}" for p in here.glob("test_cli_*.py"))


def test_every_command_has_a_smoke_case() -> None:
    for module in _smoke_modules():
        importlib.import_module(module)  # their @covers declarations fill COVERED
    found = set(commands())
    assert len(found) > 100  # the walk reached the subcommands
    missing = sorted(found - set(COVERED) - set(ELSEWHERE))
    assert not missing, (
        f"commands with no smoke case: {missing}; add a test that runs each for real "
        "(tests/smoke/test_cli_*.py, @covers)"
    )
    stale = sorted((set(COVERED) | set(ELSEWHERE)) - found)
    assert not stale, f"smoke cases for commands that are gone: {stale}"


def test_the_program_shows_its_help_and_version(tmp_path: Path) -> None:
    env = environment(tmp_path)
    shown = keepwell("--help", env=env).out
    assert "Usage: keepwell" in shown
    for name in {name.split()[0] for name in commands()}:
        assert f" {name} " in shown, name
    assert keepwell("--version", env=env).out.startswith("keepwell ")


@pytest.mark.parametrize("name", sorted(commands()))
def test_help(name: str, tmp_path: Path) -> None:
    """`keepwell … --help` loads the command on its own and documents every option."""
    shown = keepwell(*name.split(), "--help", env=environment(tmp_path)).out
    assert f"Usage: keepwell {name} " in shown, shown
    for param in commands()[name].params:
        for flag in getattr(param, "opts", []):
            if flag.startswith("--") and not getattr(param, "hidden", False):
                assert flag in shown, f"{flag} is missing from the help of keepwell {name}"
