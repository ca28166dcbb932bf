"""`keepwell case …`."""

from __future__ import annotations

import typer

case_app = typer.Typer(
    help="Cases: problems customers raised, from first response to confirmed resolution.",
    no_args_is_help=True,
)
