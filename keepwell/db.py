"""The database: engines, sessions and migrations (the tables' vocabulary is keepwell/tables.py).

One code path serves SQLite (the embedded default: WAL, foreign keys on, a busy
timeout) and PostgreSQL (the team database).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

# Every table, registered before any engine or session can exist: a command or a server
# that imports only its own corner still flushes rows whose foreign keys point at
# tables it never imported (orders.import_id -> imports, say). Importing the models
# also registers the audit trail's session hook (keepwell/accounts/__init__.py).
import keepwell.models  # noqa: F401
from keepwell import faults
from keepwell.errors import DatabaseNotReady, NotFound
from keepwell.tables import NAMING_CONVENTION, Base, UTCDateTime, sqlite_timestamp, table_of

T = TypeVar("T")

# Kept here too for the code that knew them as db.Base, db.table_of and so on.
__all__ = ["NAMING_CONVENTION", "Base", "UTCDateTime", "sqlite_timestamp", "table_of"]

SQLITE_BUSY_TIMEOUT_MS = 10_000
# The newest migration. Commands compare it with the database's without loading
# Alembic; a test checks it is Alembic's head.
SCHEMA_REVISION = "0011"


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy own transactions (pysqlite's implicit BEGIN is off).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA synchronous = NORMAL")
    mode = cursor.execute("PRAGMA journal_mode").fetchone()[0]
    if mode not in ("wal", "memory"):
        cursor.execute("PRAGMA journal_mode = WAL")
    cursor.close()


# An execution option: transactions on an engine made with `engine.execution_options(
# **{SQLITE_WRITE: True})` start as writers (BEGIN IMMEDIATE). A writer that starts as a
# reader and then writes fails at once ("database is locked") when another writer
# committed meanwhile; one that starts as a writer waits its turn (the busy timeout).
# Readers keep a plain BEGIN, so they run beside the writer in WAL mode.
SQLITE_WRITE = "keepwell_sqlite_write"
# Its value for a writer that does not wait its turn: BEGIN IMMEDIATE fails at once with
# "database is locked" while another writer holds the lock (see sqlite_locked). For
# writes that may be skipped, as a read's note of when its token was last used.
SQLITE_WRITE_IF_FREE = "if free"


def _on_sqlite_begin(conn: Connection) -> None:
    write = conn.get_execution_options().get(SQLITE_WRITE, False)
    if write != SQLITE_WRITE_IF_FREE:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")
        return
    raw = conn.connection.dbapi_connection
    assert raw is not None
    raw.execute("PRAGMA busy_timeout = 0")
    try:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    finally:
        raw.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")


def sqlite_locked(exc: sa.exc.OperationalError) -> bool:
    """SQLite's one writer's lock was taken by another connection."""
    return "database is locked" in str(exc.orig)


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for `url` with Keepwell's connection settings applied."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1] if "///" in url else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, **kwargs)
        event.listen(engine, "connect", _on_sqlite_connect)
        event.listen(engine, "begin", _on_sqlite_begin)
    else:
        kwargs.setdefault("pool_pre_ping", True)
        engine = sa.create_engine(url, **kwargs)
    faults.install(engine)  # nothing, unless a test asks for a fault point
    return engine


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def flush_or_conflict(session: Session, what: str) -> None:
    """Flush; a row someone else changed meanwhile (its version moved on) is a Conflict."""
    from sqlalchemy.orm.exc import StaleDataError

    from keepwell.errors import Conflict

    try:
        session.flush()
    except StaleDataError:
        raise Conflict(what, "changed by someone else meanwhile; load it again") from None


def get_or_raise(
    session: Session, model: type[T], record_id: int, what: str, *, lock: bool = False
) -> T:
    """The `model` row with this id (`lock`: FOR UPDATE, until the transaction ends), or
    NotFound saying so: "no promise #7"."""
    found = session.get(model, record_id, with_for_update=lock)
    if found is None:
        raise NotFound(f"no {what} #{record_id}")
    return found


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """A session whose work is committed together, or not at all."""
    with session_factory(engine)() as session, session.begin():
        yield session


# --- migrations ----------------------------------------------------------------


def _alembic_config(engine: Engine) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    config.attributes["engine"] = engine
    return config


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory(str(Path(__file__).parent / "migrations"))
    head = script.get_current_head()
    assert head is not None
    return head


def known_revisions() -> set[str]:
    """Every schema revision this version's migrations know (older ones upgrade)."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory(str(Path(__file__).parent / "migrations"))
    return {revision.revision for revision in script.walk_revisions()}


def current_revision(engine: Engine) -> str | None:
    """The schema revision stamped in the database, or None for a database without one."""
    with engine.connect() as conn:
        if not sa.inspect(conn).has_table("alembic_version"):
            return None
        return conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()


def upgrade(engine: Engine, target: str = "head") -> tuple[str | None, str]:
    """Create or upgrade the schema to the newest (or `target`) revision: (before, after)."""
    from alembic import command

    before = current_revision(engine)
    command.upgrade(_alembic_config(engine), target)
    return before, head_revision() if target == "head" else target


def require_current(engine: Engine) -> None:
    """Refuse to work on a database whose schema is missing or out of date."""
    try:
        revision = current_revision(engine)
    except sa.exc.OperationalError as exc:
        raise DatabaseNotReady(f"cannot open the database: {exc.orig}") from exc
    if revision is None:
        raise DatabaseNotReady(
            f"{safe_url(engine)} has no Keepwell schema yet: run `keepwell init` first"
        )
    if revision != SCHEMA_REVISION:
        raise DatabaseNotReady(
            f"{safe_url(engine)} has schema {revision}, this Keepwell needs "
            f"{SCHEMA_REVISION}: run `keepwell init` to upgrade it"
        )


def safe_url(engine: Engine) -> str:
    """The engine's URL without its password, fit for messages and logs."""
    return engine.url.render_as_string(hide_password=True)


def driver_sql(conn: Connection, sql: str) -> str:
    """`sql` written with `?` placeholders, in the driver's own placeholder style.

    Bulk paths hand rows straight to the driver's executemany; this keeps their SQL
    the same for SQLite (qmark) and psycopg (format).
    """
    if conn.dialect.paramstyle in ("format", "pyformat"):
        return sql.replace("?", "%s")
    return sql


def store_timestamp(conn: Connection) -> Any:
    """How the bulk paths hand a UTC datetime to this connection's driver."""
    if conn.dialect.name == "sqlite":
        return sqlite_timestamp
    return lambda moment: moment


# --- date arithmetic in SQL, the same on both backends ------------------------------


def plus_days(dialect: str, moment: Any, days: Any) -> Any:
    """SQL for `moment` (a UTCDateTime column) plus `days` (an integer expression).

    On SQLite the result keeps UTCDateTime's text form (YYYY-MM-DD HH:MM:SS.ffffff), so
    it compares and sorts like the stored values.
    """
    if dialect == "sqlite":
        shifted = sa.func.strftime(
            "%Y-%m-%d %H:%M:%S", moment, sa.func.printf("+%d days", days), type_=sa.String
        )
        return shifted.op("||")(sa.func.substr(moment, 20))
    return moment + sa.func.make_interval(0, 0, 0, days)


def month_day(dialect: str, moment: Any) -> Any:
    """SQL for month * 100 + day of a date or UTC timestamp column (e.g. 1231)."""
    if dialect == "sqlite":  # stored as ISO text: cutting beats parsing
        return sa.cast(
            sa.func.substr(moment, 6, 2).op("||")(sa.func.substr(moment, 9, 2)), sa.Integer
        )
    utc = sa.func.timezone("UTC", moment) if isinstance(moment.type, UTCDateTime) else moment
    return sa.cast(sa.extract("month", utc) * 100 + sa.extract("day", utc), sa.Integer)
