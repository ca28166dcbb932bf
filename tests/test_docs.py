"""Every command has help and a place in the docs (the README's table or docs/)."""

from __future__ import annotations

from pathlib import Path

import typer.main

from keepwell.cli import app

ROOT = Path(__file__).resolve().parents[1]


def commands() -> list[tuple[str, str | None]]:
    group = typer.main.get_command(app)
    found: list[tuple[str, str | None]] = []
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        subcommands = getattr(command, "commands", None)
        if subcommands is None:
            found.append((name, command.help))
        else:  # a group: its commands (a group still empty has none to document)
            found.extend((f"{name} {sub}", c.help) for sub, c in subcommands.items())
    return found


def test_every_command_has_help_and_docs() -> None:
    docs = (ROOT / "README.md").read_text() + "".join(
        p.read_text() for p in (ROOT / "docs").glob("*.md")
    )
    listed = commands()
    assert len(listed) >= 6
    for name, help_text in listed:
        assert help_text and help_text.strip(), f"`keepwell {name}` has no help"
        assert f"keepwell {name}" in docs, f"`keepwell {name}` is not in the README or docs/"
