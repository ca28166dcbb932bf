"""`keepwell task …`."""

from __future__ import annotations

import typer

task_app = typer.Typer(
    help="Tasks: what to do for which customer, and why now.", no_args_is_help=True
)
