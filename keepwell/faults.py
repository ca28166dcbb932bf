"""A fault point for the tests that stop or crash a job at a known moment.

With `KEEPWELL_TEST_FAULT_BEFORE_COMMIT="<table>:<action>"` in a process's environment,
every engine it makes (keepwell.db.make_engine) acts just before it commits a
transaction that inserted rows into `<table>`: every row written, the locks held,
nothing committed. `<action>` is

- `kill`: the process dies at once (SIGKILL to itself: no clean-up, no rollback), the
  crash tests/ops/test_crash_safety.py makes;
- `stop`: the process stops (SIGSTOP to itself) until it is sent SIGCONT, then commits
  as usual; meanwhile tests/api/test_serving_during_jobs.py reads from a server.

Unset (always, outside those tests), nothing is installed and nothing is checked.
"""

from __future__ import annotations

import os
import signal
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

BEFORE_COMMIT = "KEEPWELL_TEST_FAULT_BEFORE_COMMIT"
ACTIONS = {"kill": signal.SIGKILL, "stop": signal.SIGSTOP}


def install(engine: Engine) -> None:
    """Install the fault point on `engine` if the environment asks for one."""
    wanted = os.environ.get(BEFORE_COMMIT)
    if not wanted:
        return
    table, _, action = wanted.partition(":")
    if not table or action not in ACTIONS:
        raise ValueError(f"{BEFORE_COMMIT}={wanted!r}: give <table>:kill or <table>:stop")
    how = ACTIONS[action]
    if engine.dialect.name == "sqlite":
        # SQLite says nothing of a transaction's rows per table: note the INSERT
        # statements each connection runs (its trace callback sees them all, those run on
        # the raw DB-API cursor too), and forget them when a transaction ends.
        inserted: set[int] = set()
        prefix = f"insert into {table.lower()} "

        def on_connect(dbapi_connection: Any, _record: Any) -> None:
            key = id(dbapi_connection)

            def trace(sql: str) -> None:
                if sql.lstrip().lower().startswith(prefix):
                    inserted.add(key)

            dbapi_connection.set_trace_callback(trace)

        def wrote(conn: Connection) -> bool:
            return id(conn.connection.dbapi_connection) in inserted

        def forget(conn: Connection) -> None:
            inserted.discard(id(conn.connection.dbapi_connection))

        event.listen(engine, "connect", on_connect)
        event.listen(engine, "rollback", forget)
    else:
        # PostgreSQL counts the rows the current transaction inserted, COPY included.
        def wrote(conn: Connection) -> bool:
            raw = conn.connection.driver_connection
            row = raw.execute(  # type: ignore[union-attr]
                "SELECT coalesce(sum(n_tup_ins), 0) FROM pg_stat_xact_user_tables "
                "WHERE relname = %s",
                (table,),
            ).fetchone()
            return bool(row and row[0])

        def forget(conn: Connection) -> None:
            pass

    def before_commit(conn: Connection) -> None:
        if wrote(conn):
            forget(conn)
            os.kill(os.getpid(), how)

    event.listen(engine, "commit", before_commit)
