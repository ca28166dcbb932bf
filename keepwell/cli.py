"""The `keepwell` command line: a table of every concept's commands, loaded on demand.

Each concept's commands live in `keepwell/<concept>/cli.py` (see keepwell/clikit.py).
This module names them in COMMANDS — name, where it lives, its one-line help — and
imports a command's module only when that command runs or its own --help is asked:
`keepwell --help` lists the table without loading SQLAlchemy, NumPy or any service.
tests/test_cli_startup.py holds each one-line help equal to the real command's.

`main` is the installed entry point: no Python traceback ever reaches the user
(keepwell/crashlog.py).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator, MutableMapping
from typing import TYPE_CHECKING, Annotated, Any, NamedTuple

import typer
from typer.core import TyperCommand, TyperGroup

from keepwell import __version__, crashlog

if TYPE_CHECKING:  # the click that typer carries (typer.Context is a subclass)
    from typer._click import Context, HelpFormatter


class Entry(NamedTuple):
    name: str
    target: str  # "module:attribute": a Typer app (a group) or a command function
    help: str  # the first paragraph of the command's own help, on one line


COMMANDS: tuple[Entry, ...] = (
    Entry(
        "agenda",
        "keepwell.agenda.cli:agenda",
        "Today's agenda: overdue and due promises, cases, tasks, quiet customers, special dates.",
    ),
    Entry(
        "log",
        "keepwell.touches.cli:log",
        "Log an interaction; it reschedules the customer's next check-in.",
    ),
    Entry(
        "show",
        "keepwell.customers.cli:show",
        "A customer's record: profile, owner, personal notes, the timeline (newest first).",
    ),
    Entry(
        "owner",
        "keepwell.customers.cli:owner",
        "Make a team member the customer's point person (the change is recorded).",
    ),
    Entry(
        "demo",
        "keepwell.ingest.cli:demo",
        "Build a realistic small business to explore, show the desk, then serve it on 127.0.0.1.",
    ),
    Entry(
        "score",
        "keepwell.scoring.cli:score",
        "Score every customer (P(active), expected purchases, value, RFM, health, stage, risk).",
    ),
    Entry(
        "report",
        "keepwell.reports.cli:report",
        "A retention report: retention, cohorts, rfm, clv, funnel, promises or cases.",
    ),
    Entry(
        "serve",
        "keepwell.web.cli:serve",
        "Serve the desk's pages at http://HOST:PORT/ and the JSON API at /api/ "
        "(docs at /api/docs).",
    ),
    Entry(
        "backup",
        "keepwell.ops.cli:backup",
        "Take a consistent copy of the database while the app keeps running.",
    ),
    Entry("restore", "keepwell.ops.cli:restore", "Fill an empty database from a backup."),
    Entry(
        "doctor",
        "keepwell.ops.doctor_cli:doctor",
        "Check the desk: database, schema, the last playbook run, the outbox, SMTP.",
    ),
    Entry(
        "init",
        "keepwell.ops.cli:init",
        "Create the database, or upgrade it to this version's schema.",
    ),
    Entry(
        "import",
        "keepwell.ingest.cli:import_app",
        "Import customers or orders from a CSV export.",
    ),
    Entry(
        "member",
        "keepwell.accounts.cli:member_app",
        "Team members: the people who look after customers.",
    ),
    Entry(
        "user",
        "keepwell.accounts.cli:user_app",
        "Sign-in accounts: team members with a password.",
    ),
    Entry("token", "keepwell.accounts.cli:token_app", "API tokens: for scripts and other tools."),
    Entry(
        "audit",
        "keepwell.accounts.cli:audit_app",
        "The audit trail: who changed what, and when.",
    ),
    Entry(
        "promise",
        "keepwell.promises.cli:promise_app",
        "Promises made to customers: due dates, progress updates, kept or not.",
    ),
    Entry(
        "case",
        "keepwell.cases.cli:case_app",
        "Cases: problems customers raised, from first response to confirmed resolution.",
    ),
    Entry(
        "task",
        "keepwell.tasks.cli:task_app",
        "Tasks: what to do for which customer, and why now.",
    ),
    Entry(
        "date",
        "keepwell.customers.dates_cli:date_app",
        "Special dates: birthdays, anniversaries, renewals, founding days.",
    ),
    Entry(
        "cadence",
        "keepwell.customers.cli:cadence_app",
        "How often each segment should hear from us.",
    ),
    Entry(
        "model",
        "keepwell.scoring.cli:model_app",
        "The customer models: fit them, and check their predictions on a holdout period.",
    ),
    Entry(
        "customer",
        "keepwell.customers.cli:customer_app",
        "Customers: the list, and a person's data on request (export it, or erase it).",
    ),
    Entry("goal", "keepwell.reviews.cli:goal_app", "Goals agreed with customers."),
    Entry(
        "review",
        "keepwell.reviews.cli:review_app",
        "Account reviews: the checklist, due reviews, questions, settings.",
    ),
    Entry(
        "referral",
        "keepwell.referrals.cli:referral_app",
        "Referral codes, who referred whom, rewards, promoters to ask.",
    ),
    Entry(
        "loyalty",
        "keepwell.loyalty.cli:loyalty_app",
        "Loyalty points and tiers from purchases.",
    ),
    Entry(
        "survey",
        "keepwell.feedback.cli:survey_app",
        "Surveys: send a customer a link (NPS, CSAT, scorecard), or record an answer.",
    ),
    Entry(
        "feedback",
        "keepwell.feedback.cli:feedback_app",
        "Feedback: the list, actions taken, telling customers what we did (the loop).",
    ),
    Entry(
        "scorecard",
        "keepwell.feedback.cli:scorecard_app",
        "The two-way scorecard: our rating of the relationship, and both sides together.",
    ),
    Entry(
        "playbooks",
        "keepwell.playbooks.cli:playbooks_app",
        "Playbooks: follow-up rules run every day (thank-yous, check-ins, birthday cards, …).",
    ),
    Entry(
        "outreach",
        "keepwell.outreach.cli:outreach_app",
        "E-mail through the outbox (budget, opt-outs, quiet hours), drafts, resources, calendars.",
    ),
    Entry(
        "setting",
        "keepwell.settings.cli:setting_app",
        "Desk settings (the pinned model, outreach budget, …).",
    ),
)


def load(entry: Entry) -> typer.core.TyperCommand | TyperGroup:
    """Import the entry's module and make its click command (a group for a Typer app)."""
    module_name, _, attribute = entry.target.partition(":")
    target = getattr(importlib.import_module(module_name), attribute)
    if isinstance(target, typer.Typer):
        group = typer.main.get_group(target)
        group.name = entry.name
        return group
    single = typer.Typer(add_completion=False)
    single.command(name=entry.name)(target)
    command = typer.main.get_command(single)
    assert isinstance(command, TyperCommand)
    return command


class LazyCommands(MutableMapping[str, Any]):
    """The group's commands: names from the table, each loaded the first time it is used."""

    def __init__(self, table: tuple[Entry, ...]) -> None:
        self._entries = {entry.name: entry for entry in table}
        self._loaded: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        if name not in self._loaded:
            self._loaded[name] = load(self._entries[name])  # KeyError: no such command
        return self._loaded[name]

    def __setitem__(self, name: str, command: Any) -> None:
        self._loaded[name] = command

    def __delitem__(self, name: str) -> None:
        if name not in self._entries and name not in self._loaded:
            raise KeyError(name)
        self._entries.pop(name, None)
        self._loaded.pop(name, None)

    def __iter__(self) -> Iterator[str]:
        yield from self._entries
        yield from (name for name in self._loaded if name not in self._entries)

    def __len__(self) -> int:
        return len(self._entries.keys() | self._loaded.keys())

    def stub(self, name: str) -> TyperCommand | TyperGroup | None:
        """What a listing needs — the name and one-line help — without importing anything."""
        if name in self._loaded:
            command: TyperCommand | TyperGroup = self._loaded[name]
            return command
        entry = self._entries.get(name)
        return None if entry is None else TyperCommand(name, help=entry.help)


_LISTING = "keepwell.listing"


class LazyGroup(TyperGroup):
    """A Typer group whose commands are imported only when one runs or shows its help."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        lazy = LazyCommands(COMMANDS)
        lazy.update(self.commands)  # any registered on the app itself
        self.commands = lazy

    def list_commands(self, ctx: Context) -> list[str]:
        return list(self.commands)

    def get_command(self, ctx: Context, cmd_name: str) -> Any:
        if ctx.meta.get(_LISTING):
            assert isinstance(self.commands, LazyCommands)
            return self.commands.stub(cmd_name)
        return self.commands.get(cmd_name)

    def format_help(self, ctx: Context, formatter: HelpFormatter) -> None:
        ctx.meta[_LISTING] = True  # the command list needs names and one-line helps only
        try:
            super().format_help(ctx, formatter)
        finally:
            ctx.meta.pop(_LISTING, None)

    def invoke(self, ctx: Context) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            crashlog.interrupted()
            raise typer.Exit(130) from None


app = typer.Typer(
    cls=LazyGroup,
    help="Keepwell: a self-hosted customer-retention desk.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"keepwell {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """Keepwell: know each customer, keep every promise, follow up, measure who stays."""
    from keepwell.actor import Actor, set_default_actor

    set_default_actor(Actor(None, "cli"))  # the audit trail: changes made at the command line


def main() -> None:
    """The `keepwell` program: errors are one line for the user, never a traceback."""
    try:
        app()
    except KeyboardInterrupt:  # outside a command (a command's own is handled above)
        crashlog.interrupted()
        sys.exit(130)
    except Exception as exc:  # anything no command planned for
        sys.exit(crashlog.report(exc))
