"""`keepwell setting list|get|set|unset`: desk settings from the command line."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from keepwell import jsontext
from keepwell.clikit import Database, errors, print_json, say, session_for

setting_app = typer.Typer(
    help="Desk settings (the pinned model, outreach budget, …).", no_args_is_help=True
)
KeyArg = Annotated[str, typer.Argument(help="The setting, e.g. model.pinned.")]


@setting_app.command("list")
def list_settings(
    database: Database = None,
    prefix: Annotated[str, typer.Option("--prefix", help="Only keys starting so.")] = "",
) -> None:
    """Every setting that was changed from its default."""
    from keepwell.settings import service

    with errors(), session_for(database) as session:
        found = service.get_many(session, prefix)
    for key, value in sorted(found.items()):
        say(f"{key} = {json.dumps(value)}")
    if not found:
        say("no settings changed: every default applies")


@setting_app.command("get")
def get_setting(key: KeyArg, database: Database = None) -> None:
    """Print one setting as JSON (null when it was never set)."""
    from keepwell.settings import service

    with errors(), session_for(database) as session:
        print_json(service.get(session, key))


@setting_app.command("set")
def set_setting(
    key: KeyArg,
    value: Annotated[str, typer.Argument(help='A JSON value: 30, "text", ["a","b"], {"k":1}.')],
    database: Database = None,
) -> None:
    """Change a setting (recorded in the audit trail)."""
    from keepwell.settings import service

    with errors():
        parsed = jsontext.parse("value", value, hint="quote text: '\"text\"'")
        with session_for(database) as session:
            service.put(session, key, parsed)
        say(f"{key} = {json.dumps(parsed)}")


@setting_app.command("unset")
def unset_setting(key: KeyArg, database: Database = None) -> None:
    """Forget a setting, so its default applies again."""
    from keepwell.settings import service

    with errors(), session_for(database) as session:
        removed = service.remove(session, key)
    say(f"{key}: " + ("back to its default" if removed else "was not set"))
