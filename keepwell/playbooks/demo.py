"""The demo desk's playbooks: the built-ins, run for today, so the agenda shows
thank-yous, check-ins and birthday cards (messages wait in the outbox: the demo
configures no SMTP server). One day keeps the demo quick to build; `keepwell playbooks
run --since D` on the demo desk catches up earlier days."""

from __future__ import annotations

from datetime import date

from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from keepwell.playbooks.engine import RunReport, run
from keepwell.playbooks.service import install_builtins


def seed(conn: Connection, *, seed: int, today: date) -> RunReport:
    """Deterministic for one `seed` and `today` (the run reads only the demo's records)."""
    del seed  # the playbooks decide; nothing random here
    with Session(bind=conn, join_transaction_mode="create_savepoint") as session:
        install_builtins(session)
        report = run(session, through=today, via="demo")
        session.commit()
    return report
