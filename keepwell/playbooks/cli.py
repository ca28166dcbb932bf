"""`keepwell playbooks …`: list, show, switch on and off, run."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated

import typer

from keepwell import clikit, jsontext
from keepwell.errors import InvalidInput
from keepwell.playbooks.models import Playbook

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from keepwell.playbooks.schemas import PlaybookPublic

playbooks_app = typer.Typer(
    help="Playbooks: follow-up rules run every day (thank-yous, check-ins, birthday cards, …).",
    no_args_is_help=True,
)

ThePlaybook = Annotated[
    Playbook,
    typer.Argument(metavar="NAME", help="The playbook's name (or id)."),
    clikit.record("keepwell.playbooks.service:get_playbook", text=str),
]


def _public(playbook: Playbook) -> PlaybookPublic:
    from keepwell.playbooks.schemas import PlaybookPublic
    from keepwell.playbooks.service import describe

    return PlaybookPublic.model_validate(describe(playbook))


@playbooks_app.command("list")
@clikit.on_desk
def playbooks_list(session: Session, as_json: clikit.JsonOpt = False) -> clikit.Shown:
    """List the playbooks: on or off, trigger, action.

    --json prints what GET /api/playbooks answers."""
    from keepwell.playbooks.service import list_playbooks

    def action(p: PlaybookPublic) -> str:
        template = p.action_params.get("template")
        return p.action + (f" ({template})" if p.action == "email" else "")

    return clikit.listing(
        [_public(p) for p in list_playbooks(session)],
        (
            ("name", lambda p: p.name),
            ("on", lambda p: p.enabled),
            ("trigger", lambda p: p.trigger),
            ("action", action),
            ("description", lambda p: p.description),
        ),
        as_json=as_json,
        empty="No playbooks: `keepwell init` loads the built-in ones.",
    )


@playbooks_app.command("show")
@clikit.on_desk
def playbooks_show(session: Session, playbook: ThePlaybook) -> clikit.Shown:
    """Show one playbook's whole definition (JSON, as GET /api/playbooks/NAME answers)."""
    return clikit.record_json(_public(playbook))


@playbooks_app.command("enable")
@clikit.on_desk
def playbooks_enable(session: Session, playbook: ThePlaybook) -> clikit.Shown:
    """Switch a playbook on."""
    from keepwell.playbooks.service import set_enabled

    return f"Playbook {set_enabled(session, playbook, True).name} is on."


@playbooks_app.command("disable")
@clikit.on_desk
def playbooks_disable(session: Session, playbook: ThePlaybook) -> clikit.Shown:
    """Switch a playbook off (it stays off when `keepwell init` runs again)."""
    from keepwell.playbooks.service import set_enabled

    return f"Playbook {set_enabled(session, playbook, False).name} is off."


@playbooks_app.command("edit")
@clikit.on_desk
def playbooks_edit(
    session: Session,
    playbook: ThePlaybook,
    changes: Annotated[
        str,
        typer.Argument(
            metavar="JSON",
            help='The fields to change, as JSON: e.g. \'{"trigger_params": {"days": 21}}\'.',
        ),
    ],
) -> clikit.Shown:
    """Change a playbook's definition (`keepwell init` then leaves it as you made it); it is
    printed as PATCH /api/playbooks/NAME answers."""
    from keepwell.playbooks.service import edit_playbook

    try:
        parsed = jsontext.parse("JSON", changes)
    except InvalidInput as exc:
        raise typer.BadParameter(exc.reason, param_hint="JSON") from None
    if not isinstance(parsed, dict):
        raise typer.BadParameter("give a JSON object", param_hint="JSON")
    return clikit.record_json(_public(edit_playbook(session, playbook, parsed)))


@playbooks_app.command("run")
def playbooks_run(
    until: Annotated[
        date | None, clikit.day("--date", help="Run for every day not yet done up to this one")
    ] = None,
    since: Annotated[
        date | None,
        clikit.day("--since", help="Where a playbook that never ran starts; default: --date"),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would be created; change nothing.")
    ] = False,
    only: Annotated[str | None, typer.Option("--only", help="Run only this playbook.")] = None,
    database: clikit.Database = None,
    as_json: clikit.JsonOpt = False,
) -> None:
    """Run every enabled playbook for each day since the last run (twice a day adds nothing)."""
    from dataclasses import asdict

    from keepwell import clock
    from keepwell.playbooks.engine import run

    through = until or clock.today()
    if since is not None and since > through:
        raise typer.BadParameter("comes after --date", param_hint="--since")
    with (
        clikit.errors(),
        clikit.progress("playbooks") as bar,
        clikit.session_for(database) as session,
    ):
        report = run(
            session, through=through, since=since, dry_run=dry_run, progress=bar, only=only
        )
    if as_json:
        data = asdict(report)
        data["errors"] = report.errors
        clikit.print_json(data)
        return
    verb = "would create" if dry_run else "created"
    clikit.say(
        f"Playbooks run through {through.isoformat()} ({report.days} day"
        f"{'' if report.days == 1 else 's'}): {verb} {report.tasks} tasks, queued "
        f"{report.messages} messages."
    )
    for result in report.playbooks:
        if result.tasks or result.messages or result.held:
            held = ", ".join(f"{n} {why}" for why, n in sorted(result.held.items()))
            clikit.say(
                f"  {result.name}: {result.tasks} tasks, {result.messages} messages"
                + (f" (not e-mailed: {held})" if held else "")
            )
    for error in report.errors:
        clikit.say(f"  error: {error}")
    if report.errors:
        raise typer.Exit(1)
