"""`keepwell doctor`."""

from __future__ import annotations

import typer

from keepwell.clikit import Database, JsonOpt, engine_for, errors, print_json, say

MARKS = {"ok": "ok  ", "warning": "WARN", "error": "FAIL"}


def doctor(database: Database = None, as_json: JsonOpt = False) -> None:
    """Check the desk: database, schema, the last playbook run, the outbox, SMTP."""
    from keepwell.ops.doctor import diagnose

    with errors():
        engine = engine_for(database)
        try:
            diagnosis = diagnose(engine)
        finally:
            engine.dispose()
    if as_json:
        print_json(diagnosis.as_dict())
    else:
        for check in diagnosis.checks:
            say(f"{MARKS[check.level]} {check.name}: {check.message}")
    if diagnosis.level == "error":
        raise typer.Exit(1)
