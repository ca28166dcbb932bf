"""`keepwell setting list|get|set|unset`: desk settings from the command line."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer

from keepwell import clikit, jsontext

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

setting_app = typer.Typer(
    help="Desk settings (the pinned model, outreach budget, …).", no_args_is_help=True
)
KeyArg = Annotated[str, typer.Argument(help="The setting, e.g. model.pinned.")]


@setting_app.command("list")
@clikit.on_desk
def list_settings(
    session: Session,
    prefix: Annotated[str, typer.Option("--prefix", help="Only keys starting so.")] = "",
) -> clikit.Shown:
    """Every setting that was changed from its default."""
    from keepwell.settings import service

    found = service.get_many(session, prefix)
    if not found:
        return "no settings changed: every default applies"
    return "\n".join(f"{key} = {json.dumps(value)}" for key, value in sorted(found.items()))


@setting_app.command("get")
@clikit.on_desk
def get_setting(session: Session, key: KeyArg) -> clikit.Shown:
    """Print one setting as JSON (null when it was never set)."""
    from keepwell.settings import service

    return clikit.json_of(service.get(session, key))


@setting_app.command("set")
@clikit.on_desk
def set_setting(
    session: Session,
    key: KeyArg,
    value: Annotated[str, typer.Argument(help='A JSON value: 30, "text", ["a","b"], {"k":1}.')],
) -> clikit.Shown:
    """Change a setting (recorded in the audit trail)."""
    from keepwell.settings import service

    parsed = jsontext.parse("value", value, hint="quote text: '\"text\"'")
    service.put(session, key, parsed)
    return f"{key} = {json.dumps(parsed)}"


@setting_app.command("unset")
@clikit.on_desk
def unset_setting(session: Session, key: KeyArg) -> clikit.Shown:
    """Forget a setting, so its default applies again."""
    from keepwell.settings import service

    removed = service.remove(session, key)
    return f"{key}: " + ("back to its default" if removed else "was not set")
