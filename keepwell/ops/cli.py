"""`keepwell init`, `keepwell backup` and `keepwell restore`: the database itself."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from keepwell import clikit


def init(database: clikit.Database = None) -> None:
    """Create the database, or upgrade it to this version's schema."""
    from keepwell import db

    with clikit.errors():
        engine = clikit.engine_for(database)
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
            clikit.say(f"{where} is up to date (schema {after}).")
        elif before is None:
            clikit.say(f"Created {where} (schema {after}).")
        else:
            clikit.say(f"Upgraded {where} from schema {before} to {after}.")


def backup(
    file: Annotated[Path, typer.Argument(help="Where to write the backup.")],
    database: clikit.Database = None,
    fmt: Annotated[
        str | None,
        typer.Option("--format", help="sqlite, pgdump or jsonl (default: the database's own)."),
    ] = None,
) -> None:
    """Take a consistent copy of the database while the app keeps running."""
    from keepwell.ops.backup import backup as take

    with clikit.errors():
        engine = clikit.engine_for(database)
        with clikit.progress("backing up") as report:
            result = take(engine, file, fmt, report)
        rows = f", {result.rows:,} rows" if result.rows is not None else ""
        clikit.say(f"Backed up to {result.path} ({result.format}{rows}).")


def restore(
    file: Annotated[Path, typer.Argument(help="A backup made by keepwell backup.")],
    database: clikit.Database = None,
) -> None:
    """Fill an empty database from a backup."""
    from keepwell.ops.backup import restore as fill

    with clikit.errors():
        engine = clikit.engine_for(database)
        result = fill(engine, file)
        clikit.say(
            f"Restored {result.path} ({result.format}) into {engine.url.render_as_string()}."
        )
