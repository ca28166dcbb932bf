"""Which rows a piece of code locks, read from the statements it runs.

A lock (SELECT … FOR UPDATE) is what keeps two writers of one row apart on PostgreSQL;
SQLite has a single writer and renders no FOR UPDATE, so a test on SQLite cannot see a
lock being taken or dropped. `locked_tables` records each ORM statement a session runs as
PostgreSQL would receive it, and names the tables of those that lock.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker


@contextmanager
def locked_tables(session: Session | sessionmaker[Session]) -> Iterator[list[str]]:
    """The tables (in order, once per statement) whose rows the session (or every session
    the sessionmaker makes) locked inside."""
    found: list[str] = []

    def record(state: ORMExecuteState) -> None:
        statement = state.statement
        if not isinstance(statement, sa.Select):
            return
        if "FOR UPDATE" in str(statement.compile(dialect=postgresql.dialect())):
            found.extend(t.name for t in statement.get_final_froms() if isinstance(t, sa.Table))

    sa.event.listen(session, "do_orm_execute", record)
    try:
        yield found
    finally:
        sa.event.remove(session, "do_orm_execute", record)
