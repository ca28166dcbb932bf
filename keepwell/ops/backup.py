"""`keepwell backup` and `keepwell restore`: a consistent copy while the app runs.

Three formats, chosen by the database and the tools at hand:

- **SQLite file** (SQLite databases): SQLite's online backup API copies the database
  page by page from one consistent snapshot, while others keep reading and writing.
- **pg_dump custom format** (PostgreSQL, when `pg_dump` is installed): one consistent
  snapshot; restored with `pg_restore`.
- **Keepwell JSON lines** (any database; `--format jsonl`): every table, row by row,
  in one read transaction; portable between SQLite and PostgreSQL.

Restore refuses a database that already holds data: it fills an empty one. It reads the
whole backup once and checks it (not truncated, not another file, Keepwell's schema)
before it changes anything, so a bad file leaves the database as it was.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from keepwell import db
from keepwell.errors import KeepwellError
from keepwell.models import metadata

FORMATS = ("sqlite", "pgdump", "jsonl")
JSONL_MAGIC = "keepwell-backup"
JSONL_VERSION = 2  # 2: the last line counts the rows, so a cut file is noticed; 1 had none
JSONL_END = "keepwell-backup-end"
Progress = Callable[[int, int], None]


class BackupError(KeepwellError):
    """A backup or restore could not be made; nothing was changed."""


@dataclass(frozen=True)
class BackupResult:
    path: str
    format: str
    tables: int
    rows: int | None  # counted for JSON lines


def default_format(engine: Engine) -> str:
    if engine.dialect.name == "sqlite":
        return "sqlite"
    return "pgdump" if shutil.which("pg_dump") else "jsonl"


def backup(
    engine: Engine, path: Path, fmt: str | None = None, progress: Progress | None = None
) -> BackupResult:
    """Write a consistent copy of the database to `path` (written whole, then renamed)."""
    fmt = fmt or default_format(engine)
    if fmt not in FORMATS:
        raise BackupError(f"unknown backup format {fmt!r}; use one of {', '.join(FORMATS)}")
    db.require_current(engine)
    tmp = path.with_name(path.name + ".partial")
    try:
        if fmt == "sqlite":
            result = _backup_sqlite(engine, tmp, progress)
        elif fmt == "pgdump":
            result = _backup_pgdump(engine, tmp)
        else:
            result = _backup_jsonl(engine, tmp, progress)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return BackupResult(str(path), fmt, result[0], result[1])


def _backup_sqlite(engine: Engine, tmp: Path, progress: Progress | None) -> tuple[int, int | None]:
    if engine.dialect.name != "sqlite":
        raise BackupError("the sqlite format copies SQLite databases; use --format jsonl")
    source_path = engine.url.database
    if not source_path or source_path == ":memory:":
        raise BackupError("an in-memory database cannot be backed up")
    tmp.unlink(missing_ok=True)
    source = sqlite3.connect(source_path, timeout=db.SQLITE_BUSY_TIMEOUT_MS / 1000)
    target = sqlite3.connect(tmp)
    try:

        def report(status: int, remaining: int, total: int) -> None:
            if progress is not None:
                progress(total - remaining, total)

        source.backup(target, pages=1024, progress=report)
        target.execute("PRAGMA journal_mode = DELETE")  # a single self-contained file
    finally:
        target.close()
        source.close()
    return len(metadata.tables), None


def _backup_pgdump(engine: Engine, tmp: Path) -> tuple[int, int | None]:
    if engine.dialect.name != "postgresql" or not shutil.which("pg_dump"):
        raise BackupError("the pgdump format needs PostgreSQL and pg_dump; use --format jsonl")
    url = engine.url.set(drivername="postgresql")
    command = [
        "pg_dump",
        "--format=custom",
        "--no-owner",
        "--file",
        str(tmp),
        "--dbname",
        url.render_as_string(hide_password=False),
    ]
    # an argument list, no shell: the URL is the configured database's own
    done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise BackupError(f"pg_dump failed: {done.stderr.strip()}")
    return len(metadata.tables), None


def _backup_jsonl(engine: Engine, tmp: Path, progress: Progress | None) -> tuple[int, int | None]:
    rows = 0
    tables = metadata.sorted_tables
    with engine.connect() as conn, tmp.open("w", encoding="utf-8") as out:
        if conn.dialect.name == "postgresql":  # one snapshot for every table
            conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        version = db.current_revision(engine)
        out.write(json.dumps({JSONL_MAGIC: JSONL_VERSION, "schema": version}) + "\n")
        for n, table in enumerate(tables):
            for row in _rows(conn, table):
                out.write(json.dumps({"t": table.name, "r": row}, default=_encode) + "\n")
                rows += 1
            if progress is not None:
                progress(n + 1, len(tables))
        out.write(json.dumps({JSONL_END: rows}) + "\n")
    return len(tables), rows


def _rows(conn: Connection, table: sa.Table) -> Iterator[dict[str, Any]]:
    order = list(table.primary_key.columns) or list(table.columns)
    result = conn.execution_options(yield_per=5000).execute(sa.select(table).order_by(*order))
    for row in result.mappings():
        yield dict(row)


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, date):
        return {"$d": value.isoformat()}
    if isinstance(value, Decimal):
        return {"$dec": str(value)}
    if isinstance(value, bytes):
        return {"$b": base64.b64encode(value).decode()}
    raise TypeError(f"cannot back up a {type(value).__name__}")


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and len(value) == 1:
        key, text = next(iter(value.items()))
        if key == "$dt":
            return datetime.fromisoformat(text)
        if key == "$d":
            return date.fromisoformat(text)
        if key == "$dec":
            return Decimal(text)
        if key == "$b":
            return base64.b64decode(text)
    return value


# --- restore ---------------------------------------------------------------------------


def detect_format(path: Path) -> str:
    try:
        with path.open("rb") as f:
            first = f.readline(4096)
    except OSError as exc:
        raise BackupError(f"cannot read {path}: {exc.strerror or exc}") from None
    if not first:
        raise BackupError(f"{path} is empty: not a Keepwell backup")
    if first.startswith(b"SQLite format 3\x00"):
        return "sqlite"
    if first.startswith(b"PGDMP"):
        return "pgdump"
    if first.startswith(b"{") and JSONL_MAGIC.encode() in first:
        return "jsonl"
    raise BackupError(f"{path} is not a Keepwell backup (SQLite, pg_dump or JSON lines)")


def restore(engine: Engine, path: Path, progress: Progress | None = None) -> BackupResult:
    """Fill an empty database from a backup; refuses one that holds data.

    The whole backup is read and checked first: a truncated, damaged or foreign file is
    refused with the reason, and the database stays as it was.
    """
    if not path.is_file():
        raise BackupError(f"no such file: {path}")
    fmt = detect_format(path)
    if fmt == "sqlite" and engine.dialect.name != "sqlite":
        raise BackupError(
            "a SQLite backup restores into SQLite; for PostgreSQL take a "
            "JSON-lines backup (keepwell backup --format jsonl)"
        )
    if fmt == "pgdump" and (engine.dialect.name != "postgresql" or not shutil.which("pg_restore")):
        raise BackupError("a pg_dump backup restores into PostgreSQL with pg_restore")
    _require_empty(engine)
    if fmt == "sqlite":
        check_sqlite(path)
        rows = _restore_sqlite(engine, path, progress)
    elif fmt == "pgdump":
        check_pgdump(path)
        rows = _restore_pgdump(engine, path)
    else:
        check_jsonl(path)
        rows = _restore_jsonl(engine, path, progress)
    return BackupResult(str(path), fmt, len(metadata.tables), rows)


# Tables that hold the desk's data; others may hold what migrations seed (cadences).
DATA_TABLES = ("team_members", "customers", "orders", "touches", "promises", "cases", "tasks")


def _require_empty(engine: Engine) -> None:
    inspector = sa.inspect(engine)
    present = [t for t in DATA_TABLES if t in metadata.tables and inspector.has_table(t)]
    if not present:
        return
    with engine.connect() as conn:
        for name in present:
            if conn.execute(
                sa.select(sa.literal(1)).select_from(metadata.tables[name]).limit(1)
            ).first():
                raise BackupError(
                    f"the database is not empty ({name} has rows): restore fills an empty database"
                )


# --- checks: the whole file, before anything is changed ---------------------------------


def check_sqlite(path: Path) -> str:
    """A whole, undamaged SQLite file with a Keepwell schema this version knows: its revision."""
    with path.open("rb") as f:
        header = f.read(100)
    if len(header) < 100:
        raise BackupError(f"{path} is truncated: it ends inside the SQLite header")
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    size = path.stat().st_size
    if header[24:28] == header[92:96] and size < page_size * pages:  # the header's count holds
        raise BackupError(
            f"{path} is truncated: {size:,} bytes of the {page_size * pages:,} its header gives"
        )
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            problems = [row[0] for row in conn.execute("PRAGMA quick_check")]
            if problems != ["ok"]:
                found = [line for p in problems for line in str(p).splitlines()]
                found = [line for line in found if line and not line.startswith("***")]
                raise BackupError(f"{path} is damaged: {(found or ['SQLite says so'])[0]}")
            stamped = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
            ).fetchone()
            revision = (
                conn.execute("SELECT version_num FROM alembic_version").fetchone()
                if stamped
                else None
            )
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} is damaged or not a SQLite database: {exc}") from None
    if not revision or not revision[0]:
        raise BackupError(f"{path} is a SQLite database without a Keepwell schema: not a backup")
    if revision[0] not in db.known_revisions():
        raise BackupError(
            f"{path} has schema {revision[0]}, unknown to this Keepwell "
            f"({db.SCHEMA_REVISION}): restore it with the version that made it"
        )
    return str(revision[0])


def check_pgdump(path: Path) -> None:
    """pg_restore reads the whole dump (writing its SQL nowhere): a cut file fails here."""
    command = ["pg_restore", "--file", os.devnull, str(path)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or ["pg_restore failed"])[0]
        raise BackupError(f"{path} is not a whole pg_dump backup: {reason}")


def check_jsonl(path: Path) -> int:
    """Every line: whole, JSON, a known table and its columns, values that read back.

    A version 2 backup ends with a line counting its rows, so a file cut at a line's end
    is noticed too. The number of rows.
    """
    rows, end, number, version = 0, None, 0, 0
    with path.open("rb") as f:
        for number, raw in enumerate(f, start=1):
            record = _json_line(path, number, raw)
            if number == 1:
                _check_header(path, record)
                version = record[JSONL_MAGIC]
            elif end is not None:
                raise BackupError(f"{path}:{number}: a line after the backup's last line")
            elif JSONL_END in record:
                end = record[JSONL_END]
            else:
                _check_record(path, number, record)
                rows += 1
    if number == 0:
        raise BackupError(f"{path} is empty: not a Keepwell backup")
    if end is None and version >= 2:
        raise BackupError(f"{path} is truncated: it ends at line {number}, before its last line")
    if end is not None and end != rows:
        raise BackupError(f"{path} is damaged: {rows:,} rows where its last line counts {end!r}")
    return rows


def _json_line(path: Path, number: int, raw: bytes) -> dict[str, Any]:
    if not raw.endswith(b"\n"):
        raise BackupError(f"{path}:{number}: the line is cut short: the backup is truncated")
    try:
        record = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise BackupError(f"{path}:{number}:{exc.start + 1}: not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise BackupError(f"{path}:{number}:{exc.colno}: not JSON ({exc.msg})") from None
    if not isinstance(record, dict):
        raise BackupError(f"{path}:{number}: not a Keepwell backup line (a JSON object)")
    return record


def _check_header(path: Path, header: dict[str, Any]) -> None:
    version = header.get(JSONL_MAGIC)
    if version not in (1, JSONL_VERSION) or isinstance(version, bool):
        raise BackupError(f"{path}:1: not a Keepwell backup header (version {version!r})")
    if header.get("schema") != db.SCHEMA_REVISION:
        raise BackupError(
            f"the backup has schema {header.get('schema')}, this Keepwell "
            f"{db.SCHEMA_REVISION}: restore it with the version that made it, then upgrade"
        )


def _check_record(path: Path, number: int, record: dict[str, Any]) -> None:
    name, row = record.get("t"), record.get("r")
    if not isinstance(name, str) or name not in metadata.tables or not isinstance(row, dict):
        raise BackupError(f"{path}:{number}: not a row of a Keepwell table")
    columns = metadata.tables[name].columns
    for column, value in row.items():
        if column not in columns:
            raise BackupError(f"{path}:{number}: table {name} has no column {column!r}")
        try:
            _decode(value)
        except (ValueError, ArithmeticError, TypeError):
            raise BackupError(f"{path}:{number}: {name}.{column}: cannot read {value!r}") from None


# --- filling the database ---------------------------------------------------------------


def _restore_sqlite(engine: Engine, path: Path, progress: Progress | None) -> int | None:
    target_path = engine.url.database
    if not target_path or target_path == ":memory:":
        raise BackupError("cannot restore into an in-memory database")
    engine.dispose()
    try:
        source = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        target = sqlite3.connect(target_path, timeout=db.SQLITE_BUSY_TIMEOUT_MS / 1000)
        try:
            source.backup(target, pages=1024)  # one write transaction: all or nothing
            target.execute("PRAGMA journal_mode = WAL")
        finally:
            target.close()
            source.close()
    except sqlite3.Error as exc:
        raise BackupError(f"could not restore {path}: {exc}; nothing was restored") from None
    return None


def _restore_pgdump(engine: Engine, path: Path) -> int | None:
    url = engine.url.set(drivername="postgresql")
    with engine.begin() as conn:  # an empty schema (restore brings tables and data)
        for table in reversed(metadata.sorted_tables):
            conn.exec_driver_sql(f'DROP TABLE IF EXISTS "{table.name}" CASCADE')
        conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    command = [
        "pg_restore",
        "--no-owner",
        "--exit-on-error",
        "--single-transaction",
        "--dbname",
        url.render_as_string(hide_password=False),
        str(path),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise BackupError(f"pg_restore failed: {done.stderr.strip()}")
    return None


def _restore_jsonl(engine: Engine, path: Path, progress: Progress | None) -> int:
    with path.open(encoding="utf-8") as f:
        f.readline()  # the header, checked
        db.upgrade(engine)
        rows = 0
        try:
            with engine.begin() as conn:
                for table in reversed(metadata.sorted_tables):  # seeded rows give way
                    conn.execute(sa.delete(table))
                batch: list[dict[str, Any]] = []
                current = ""
                for line in f:
                    record = json.loads(line)
                    if JSONL_END in record:
                        break
                    if record["t"] != current or len(batch) >= 5000:
                        _insert(conn, current, batch)
                        batch, current = [], record["t"]
                    batch.append({k: _decode(v) for k, v in record["r"].items()})
                    rows += 1
                _insert(conn, current, batch)
                if conn.dialect.name == "postgresql":
                    _reset_sequences(conn)
        except sa.exc.DBAPIError as exc:
            reason = (str(exc.orig).strip().splitlines() or [type(exc.orig).__name__])[0]
            raise BackupError(
                f"the rows of {path} do not fit the database ({reason}); nothing was restored"
            ) from None
    return rows


def _insert(conn: Connection, table: str, rows: list[dict[str, Any]]) -> None:
    if rows:
        conn.execute(sa.insert(metadata.tables[table]), rows)


def _reset_sequences(conn: Connection) -> None:
    """Rows came with their ids: move each id sequence past the largest one."""
    for table in metadata.sorted_tables:
        pk = list(table.primary_key.columns)
        if len(pk) == 1 and pk[0].autoincrement is not False and isinstance(pk[0].type, sa.Integer):
            name, column = table.name, pk[0].name  # Keepwell's own schema, not input
            sql = f"SELECT setval(pg_get_serial_sequence('{name}', '{column}'), "
            sql += f"COALESCE((SELECT max({column}) FROM {name}), 0) + 1, false)"  # noqa: S608
            conn.exec_driver_sql(sql)
