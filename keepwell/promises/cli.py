"""`keepwell promise …`."""

from __future__ import annotations

import typer

promise_app = typer.Typer(
    help="Promises made to customers: due dates, progress updates, kept or not.",
    no_args_is_help=True,
)
