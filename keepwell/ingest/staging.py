"""Scratch SQLite files that the fast import path fills from Arrow, then copies in.

Binding values one by one through Python's sqlite3 costs more than SQLite's own work
of storing them. ADBC's SQLite driver binds Arrow columns to an INSERT in compiled
code, so the fast path hands it each checked batch, and the desk's database takes
the rows with `INSERT … SELECT` from the scratch file, attached (SQLite copying rows
itself, no Python per row). The rows come in a few parts, each its own file: while
one part is copied in, the next is being read and checked.

The files are private to one import: they sit in a directory beside the desk's
database (the disk that will hold the rows anyway), named after it, keep no journal
(they are thrown away whatever happens), and go as soon as the import's transaction
is over. An import killed on the way leaves its directory behind; the next import
into the same database, holding the write lock that proves no other import runs,
removes it.

The driver embeds its own copy of SQLite. Two copies of the library must never have
one file open at the same time (their POSIX locks do not see each other), so the
driver closes each scratch file before the desk's connection opens it, and never
opens the desk's database.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Connection

PREFIX = "keepwell_stage"  # scratch files are attached as keepwell_stage1, keepwell_stage2, …


@dataclass(frozen=True)
class Part:
    """A scratch file written and closed, ready to attach."""

    path: Path
    schema: str  # the name it is attached under
    tables: frozenset[str]
    rows: int  # in all its tables


class Staging:
    """Arrow batches into named tables of scratch files, attached one after another.

    One thread writes (`append`, `seal`); the import's connection attaches the sealed
    parts (`attach`), possibly on another thread, while the next part is written."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        database = conn.engine.url.database
        if database and database != ":memory:" and not database.startswith("file:"):
            db_path = Path(database).resolve()
            _sweep(db_path)
            self.dir = Path(tempfile.mkdtemp(prefix=_prefix(db_path), dir=db_path.parent))
        else:
            self.dir = Path(tempfile.mkdtemp(prefix="keepwell-import-"))
        raw = conn.connection.driver_connection
        assert isinstance(raw, sqlite3.Connection)
        # how many scratch files the connection can have attached at once
        self.limit = raw.getlimit(sqlite3.SQLITE_LIMIT_ATTACHED)
        self.parts: list[Part] = []  # sealed
        self.attached: list[str] = []
        self.rows = 0  # rows in the file being written
        self._writer: Any = None
        self._cursor: Any = None
        self._tables: set[str] = set()

    def append(self, table: str, batch: Any) -> None:
        """Add an Arrow record batch (or table) to `table` of the file being written
        (a new file, after `seal`); the table is made by its first batch."""
        if self._writer is None:
            self._open()
        mode = "append" if table in self._tables else "create"
        self._cursor.adbc_ingest(table, batch, mode=mode)
        self._tables.add(table)
        self.rows += batch.num_rows

    def seal(self) -> Part | None:
        """Close the file being written (the next `append` starts another); None if
        nothing was written since the last seal."""
        if self._writer is None:
            return None
        self._close_writer(commit=True)
        schema = f"{PREFIX}{len(self.parts) + 1}"
        part = Part(self._file(), schema, frozenset(self._tables), self.rows)
        self.parts.append(part)
        return part

    def attach(self, part: Part) -> str:
        """Attach a sealed part to the import's connection; returns its schema name."""
        self.conn.exec_driver_sql(f"ATTACH DATABASE ? AS {part.schema}", (str(part.path),))
        self.attached.append(part.schema)
        return part.schema

    def discard(self) -> None:
        """Forget every scratch file. Call it once the import's transaction is over: a
        connection cannot let go of an attached file it read inside one."""
        try:
            self._close_writer(commit=False)
            while self.attached:
                self.conn.exec_driver_sql(f"DETACH DATABASE {self.attached[-1]}")
                self.attached.pop()
        except Exception:
            # never mask how the import ended; a connection that keeps a scratch file
            # attached must not go back to the pool
            self.conn.invalidate()
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)

    def _file(self) -> Path:
        return self.dir / f"part{len(self.parts) + 1}.db"

    def _open(self) -> None:
        import adbc_driver_sqlite.dbapi as adbc

        self._writer = adbc.connect(str(self._file()), autocommit=True)
        self._cursor = self._writer.cursor()
        for pragma in ("journal_mode = OFF", "synchronous = OFF", "locking_mode = EXCLUSIVE"):
            self._cursor.execute(f"PRAGMA {pragma}")
            self._cursor.fetchall()
        self._cursor.execute("BEGIN")
        self._tables = set()
        self.rows = 0

    def _close_writer(self, *, commit: bool) -> None:
        writer, cursor = self._writer, self._cursor
        self._writer = self._cursor = None
        if writer is None:
            return
        try:
            if commit:
                cursor.execute("COMMIT")
            cursor.close()
        finally:
            writer.close()


def _prefix(database: Path) -> str:
    return f".{database.name}.import-"


def _sweep(database: Path) -> None:
    """Remove scratch directories that killed imports left beside this database."""
    prefix = _prefix(database)
    for left in database.parent.iterdir():
        if left.name.startswith(prefix) and left.is_dir():
            shutil.rmtree(left, ignore_errors=True)
