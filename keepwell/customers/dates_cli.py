"""`keepwell date …`: special dates worth marking with a customer."""

from __future__ import annotations

import typer

date_app = typer.Typer(
    help="Special dates: birthdays, anniversaries, renewals, founding days.", no_args_is_help=True
)
