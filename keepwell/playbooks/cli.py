"""`keepwell playbooks …`: list, show, switch on and off, run."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from keepwell import jsontext
from keepwell.clikit import Database, JsonOpt, errors, out, print_json, progress, say, session_for
from keepwell.errors import InvalidInput

playbooks_app = typer.Typer(
    help="Playbooks: follow-up rules run every day (thank-yous, check-ins, birthday cards, …).",
    no_args_is_help=True,
)

Name = Annotated[str, typer.Argument(metavar="NAME", help="The playbook's name (or id).")]


@playbooks_app.command("list")
def playbooks_list(database: Database = None, as_json: JsonOpt = False) -> None:
    """List the playbooks: on or off, trigger, action."""
    from keepwell.playbooks.service import describe, list_playbooks

    with errors(), session_for(database) as session:
        rows = [describe(p) for p in list_playbooks(session)]
    if as_json:
        print_json(rows)
        return
    if not rows:
        say("No playbooks: `keepwell init` loads the built-in ones.")
        return
    table = Table("name", "on", "trigger", "action", "description")
    for r in rows:
        action = r["action"] + (
            f" ({r['action_params'].get('template')})" if r["action"] == "email" else ""
        )
        table.add_row(
            escape(r["name"]),
            "yes" if r["enabled"] else "no",
            r["trigger"],
            action,
            escape(r["description"]),
        )
    out.print(table)


@playbooks_app.command("show")
def playbooks_show(name: Name, database: Database = None) -> None:
    """Show one playbook's whole definition (JSON)."""
    from keepwell.playbooks.service import describe, get_playbook

    with errors(), session_for(database) as session:
        print_json(describe(get_playbook(session, name)))


@playbooks_app.command("enable")
def playbooks_enable(name: Name, database: Database = None) -> None:
    """Switch a playbook on."""
    from keepwell.playbooks.service import get_playbook, set_enabled

    with errors(), session_for(database) as session:
        playbook = set_enabled(session, get_playbook(session, name), True)
        say(f"Playbook {playbook.name} is on.")


@playbooks_app.command("disable")
def playbooks_disable(name: Name, database: Database = None) -> None:
    """Switch a playbook off (it stays off when `keepwell init` runs again)."""
    from keepwell.playbooks.service import get_playbook, set_enabled

    with errors(), session_for(database) as session:
        playbook = set_enabled(session, get_playbook(session, name), False)
        say(f"Playbook {playbook.name} is off.")


@playbooks_app.command("edit")
def playbooks_edit(
    name: Name,
    changes: Annotated[
        str,
        typer.Argument(
            metavar="JSON",
            help='The fields to change, as JSON: e.g. \'{"trigger_params": {"days": 21}}\'.',
        ),
    ],
    database: Database = None,
) -> None:
    """Change a playbook's definition (`keepwell init` then leaves it as you made it)."""
    from keepwell.playbooks.service import describe, edit_playbook, get_playbook

    try:
        parsed = jsontext.parse("JSON", changes)
    except InvalidInput as exc:
        raise typer.BadParameter(exc.reason, param_hint="JSON") from None
    if not isinstance(parsed, dict):
        raise typer.BadParameter("give a JSON object", param_hint="JSON")
    with errors(), session_for(database) as session:
        print_json(describe(edit_playbook(session, get_playbook(session, name), parsed)))


@playbooks_app.command("run")
def playbooks_run(
    date: Annotated[
        str | None,
        typer.Option("--date", help="Run for every day not yet done up to this one (YYYY-MM-DD)."),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option("--since", help="Where a playbook that never ran starts (default: --date)."),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would be created; change nothing.")
    ] = False,
    only: Annotated[str | None, typer.Option("--only", help="Run only this playbook.")] = None,
    database: Database = None,
    as_json: JsonOpt = False,
) -> None:
    """Run every enabled playbook for each day since the last run (twice a day adds nothing)."""
    from dataclasses import asdict

    from keepwell import clock
    from keepwell.playbooks.engine import run
    from keepwell.promises.cli import parse_day

    through = parse_day(date, "--date") if date else clock.today()
    first = parse_day(since, "--since") if since else None
    if first is not None and first > through:
        raise typer.BadParameter("comes after --date", param_hint="--since")
    with errors(), progress("playbooks") as bar, session_for(database) as session:
        report = run(
            session, through=through, since=first, dry_run=dry_run, progress=bar, only=only
        )
    if as_json:
        data = asdict(report)
        data["errors"] = report.errors
        print_json(data)
        return
    verb = "would create" if dry_run else "created"
    say(
        f"Playbooks run through {through.isoformat()} ({report.days} day"
        f"{'' if report.days == 1 else 's'}): {verb} {report.tasks} tasks, queued "
        f"{report.messages} messages."
    )
    for result in report.playbooks:
        if result.tasks or result.messages or result.held:
            held = ", ".join(f"{n} {why}" for why, n in sorted(result.held.items()))
            say(
                f"  {result.name}: {result.tasks} tasks, {result.messages} messages"
                + (f" (not e-mailed: {held})" if held else "")
            )
    for error in report.errors:
        say(f"  error: {error}")
    if report.errors:
        raise typer.Exit(1)
