"""The `keepwell` command line: gathers each concept's commands (see keepwell/clikit.py)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from keepwell import __version__, db
from keepwell.accounts.cli import audit_app, member_app, token_app, user_app
from keepwell.agenda.cli import agenda
from keepwell.cases.cli import case_app
from keepwell.clikit import Database, engine_for, err, errors, out
from keepwell.customers.cli import cadence_app, customer_app, owner, show
from keepwell.customers.dates_cli import date_app
from keepwell.feedback.cli import feedback_app, scorecard_app, survey_app
from keepwell.ingest.cli import demo, import_app
from keepwell.loyalty.cli import loyalty_app
from keepwell.ops.cli import backup, restore
from keepwell.ops.doctor_cli import doctor
from keepwell.outreach.cli import outreach_app
from keepwell.playbooks.cli import playbooks_app
from keepwell.promises.cli import promise_app
from keepwell.referrals.cli import referral_app
from keepwell.reports.cli import report
from keepwell.reviews.cli import goal_app, review_app
from keepwell.scoring.cli import model_app, score
from keepwell.settings.cli import setting_app
from keepwell.tasks.cli import task_app
from keepwell.touches.cli import log
from keepwell.web.cli import serve

app = typer.Typer(
    help="Keepwell: a self-hosted customer-retention desk.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(import_app, name="import")
app.add_typer(member_app, name="member")
app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token")
app.add_typer(audit_app, name="audit")
app.add_typer(promise_app, name="promise")
app.add_typer(case_app, name="case")
app.add_typer(task_app, name="task")
app.add_typer(date_app, name="date")
app.add_typer(cadence_app, name="cadence")
app.add_typer(model_app, name="model")
app.add_typer(customer_app, name="customer")
app.add_typer(goal_app, name="goal")
app.add_typer(review_app, name="review")
app.add_typer(referral_app, name="referral")
app.add_typer(loyalty_app, name="loyalty")
app.add_typer(survey_app, name="survey")
app.add_typer(feedback_app, name="feedback")
app.add_typer(scorecard_app, name="scorecard")
app.add_typer(playbooks_app, name="playbooks")
app.add_typer(outreach_app, name="outreach")
app.add_typer(setting_app, name="setting")
app.command()(agenda)
app.command()(log)
app.command()(show)
app.command()(owner)
app.command()(demo)
app.command()(score)
app.command()(report)
app.command()(serve)
app.command()(backup)
app.command()(restore)
app.command()(doctor)


def _version(value: bool) -> None:
    if value:
        out.print(f"keepwell {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """Keepwell: know each customer, keep every promise, follow up, measure who stays."""
    from keepwell.accounts.audit import Actor, set_default_actor

    set_default_actor(Actor(None, "cli"))  # the audit trail: changes made at the command line


@app.command()
def init(database: Database = None) -> None:
    """Create the database, or upgrade it to this version's schema."""
    with errors():
        engine = engine_for(database)
        before, after = db.upgrade(engine)
        if before != after:
            from keepwell.customers import derived

            with engine.begin() as conn:
                derived.refresh(conn)  # columns a new schema derives from existing rows
        from keepwell.playbooks.service import install_builtins

        with db.transaction(engine) as session:
            install_builtins(session)  # new built-in playbooks; an admin's edits stay
        where = db.safe_url(engine)
        if before == after:
            out.print(f"{where} is up to date (schema {after}).")
        elif before is None:
            out.print(f"Created {where} (schema {after}).")
        else:
            out.print(f"Upgraded {where} from schema {before} to {after}.")


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        err.print("interrupted: nothing was committed by the interrupted step")
        sys.exit(130)
