"""`keepwell doctor`."""

from __future__ import annotations

import typer

from keepwell import clikit

MARKS = {"ok": "ok  ", "warning": "WARN", "error": "FAIL"}


def doctor(database: clikit.Database = None, as_json: clikit.JsonOpt = False) -> None:
    """Check the desk: database, schema, the last playbook run, the outbox, SMTP."""
    from keepwell.ops.doctor import diagnose

    with clikit.errors():
        engine = clikit.engine_for(database)
        try:
            diagnosis = diagnose(engine)
        finally:
            engine.dispose()
    if as_json:
        clikit.print_json(diagnosis.as_dict())
    else:
        for check in diagnosis.checks:
            clikit.say(f"{MARKS[check.level]} {check.name}: {check.message}")
    if diagnosis.level == "error":
        raise typer.Exit(1)
