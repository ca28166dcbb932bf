"""What every CSV import shares: options, the summary, the rejects file, the run.

An import runs in one transaction. Rows are parsed and checked one by one and
written in batches; the first bad row stops the writing (unless --skip-invalid)
but not the checking, so one run lists every bad row. A rejected import rolls
back: the database is left as it was.
"""

from __future__ import annotations

import heapq
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from queue import Queue
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from keepwell import clock, csvout
from keepwell.customers.search import indexed_in_bulk
from keepwell.db import table_of
from keepwell.errors import ImportRejected, RowError
from keepwell.ingest.csvfile import MAX_FIELD_CHARS, CsvFile
from keepwell.ingest.models import ImportRun

Progress = Callable[[int, int], None]
T = TypeVar("T")
BATCH_ROWS = 20_000
LOOKUP_CHUNK = 900


@dataclass(frozen=True)
class ImportOptions:
    mapping: dict[str, str] = field(default_factory=dict)
    date_format: str | None = None
    encoding: str | None = None
    currency: str = "USD"
    create_customers: bool = True
    allow_erased: bool = False  # bring back customers erased on request (as new records)
    skip_invalid: Path | None = None
    dry_run: bool = False
    batch_rows: int = BATCH_ROWS


@dataclass
class ImportSummary:
    kind: str
    file: str
    encoding: str = ""
    delimiter: str = ""
    rows: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    customers_added: int = 0
    ignored_columns: list[str] = field(default_factory=list)
    dry_run: bool = False
    rejects_file: str | None = None
    fast_path: bool = False  # read column by column (see ingest/orders_fast.py)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class RejectsFile:
    """Bad rows as they were, with the line and the reason, for --skip-invalid."""

    def __init__(self, path: Path, header: list[str]) -> None:
        self.path = path
        self._handle = path.open("w", newline="", encoding="utf-8")
        # the rows as they were in the user's own file (see keepwell/csvout.py)
        self._writer = csvout.CsvWriter(self._handle, verbatim=True)
        self._writer.row([*header, "line", "reason"])

    def write(self, row: list[str], error: RowError) -> None:
        reason = f"column {error.column}: {error.reason}" if error.column else error.reason
        self._writer.row([*row, error.line, reason])

    def close(self) -> None:
        self._handle.close()


class ImportRunState:
    """Errors, counts and the rejects file of one import, while it runs."""

    def __init__(self, source: CsvFile, options: ImportOptions, kind: str) -> None:
        self.source = source
        self.options = options
        self._first: list[tuple[int, int, RowError]] = []
        self._lock = threading.Lock()
        self.bad_rows = 0
        self.summary = ImportSummary(
            kind=kind,
            file=source.name,
            encoding=source.encoding,
            delimiter=source.delimiter,
            ignored_columns=source.ignored,
            dry_run=options.dry_run,
        )
        self.rejects = (
            RejectsFile(options.skip_invalid, source.header) if options.skip_invalid else None
        )
        # what to do once the transaction is over, committed or not (e.g. detach a file)
        self.after_transaction: list[Callable[[], None]] = []

    @property
    def writing(self) -> bool:
        """Whether rows still go to the database (no bad row yet, or --skip-invalid)."""
        return self.bad_rows == 0 or self.rejects is not None

    def reject(self, line: int, row: list[str], field_name: str, reason: str) -> None:
        column = (
            self.source.column_name(field_name) if field_name in self.source.columns else field_name
        )
        error = RowError(self.source.name, line, column, reason)
        with self._lock:  # parsing and writing run on two threads
            self.bad_rows += 1
            # keep the first rows of the file (a max-heap on the line, bounded)
            heapq.heappush(self._first, (-line, self.bad_rows, error))
            if len(self._first) > ImportRejected.shown:
                heapq.heappop(self._first)
            if self.rejects is not None:
                self.rejects.write(row, error)

    @property
    def errors(self) -> list[RowError]:
        """The first bad rows (up to ImportRejected.shown), in file order."""
        return [error for _, _, error in sorted(self._first, key=lambda e: (-e[0], e[1]))]

    def width_error(self, line: int, row: list[str]) -> None:
        width = len(self.source.header)
        self.reject(
            line,
            row,
            "",
            f"row has {len(row)} fields but the header has {width} "
            "(an unquoted delimiter inside a value?)",
        )

    def oversized(self, line: int, row: list[str]) -> bool:
        """Reject the row if a column Keepwell reads holds more than MAX_FIELD_CHARS."""
        for field_name, index in self.source.columns.items():
            length = len(row[index])
            if length > MAX_FIELD_CHARS:
                self.reject(
                    line,
                    row,
                    field_name,
                    f"{length:,} characters; a value may hold at most {MAX_FIELD_CHARS:,}",
                )
                return True
        return False

    def finish(self) -> None:
        """Raise if the import must be refused; else settle the summary."""
        if self.rejects is not None:
            self.rejects.close()
            self.summary.rejects_file = str(self.rejects.path)
        self.summary.rows = self.source.rows_read
        self.summary.rejected = self.bad_rows
        if self.bad_rows and self.rejects is None:
            raise ImportRejected(self.errors, self.bad_rows)


def start_run(conn: Connection, kind: str, source: str) -> int:
    table = table_of(ImportRun)
    result = conn.execute(
        sa.insert(table).values(kind=kind, source=source[:500], started_at=clock.now())
    )
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def finish_run(conn: Connection, run_id: int, summary: ImportSummary) -> None:
    conn.execute(
        sa.update(table_of(ImportRun))
        .where(table_of(ImportRun).c.id == run_id)
        .values(
            finished_at=clock.now(),
            added=summary.added,
            updated=summary.updated,
            unchanged=summary.unchanged,
            rejected=summary.rejected,
            customers_added=summary.customers_added,
        )
    )


_DONE = object()


class Worker(Generic[T]):
    """Calls `work` on each item put, in order, on a thread of its own.

    Parsing is Python; writing spends most of its time inside the database driver,
    which lets go of the GIL, so the two overlap. After a failure the worker skips the
    rest; `put` and `close` raise the first failure.
    """

    def __init__(self, work: Callable[[T], None], name: str) -> None:
        self._work = work
        self._queue: Queue[object] = Queue(maxsize=2)
        self.failures: list[BaseException] = []
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (item := self._queue.get()) is not _DONE:
            if self.failures:
                continue  # drain after a failure
            try:
                self._work(item)  # type: ignore[arg-type]
            except BaseException as exc:
                self.failures.append(exc)

    def put(self, item: T) -> None:
        if self.failures:
            raise self.failures[0]
        self._queue.put(item)

    def close(self) -> None:
        """Wait for the items put so far; raise the first failure."""
        self.stop()
        if self.failures:
            raise self.failures[0]

    def stop(self) -> None:
        """Wait for the items put so far, whatever happened to them."""
        if self._thread.is_alive():
            self._queue.put(_DONE)
            self._thread.join()


def pipelined(items: Iterator[T], write: Callable[[T], None]) -> None:
    """Call `write` on each item on a second thread (a Worker) while the next item is
    produced. The first error on either side stops both and is raised here."""
    worker = Worker(write, "keepwell-import-writer")
    try:
        for item in items:
            worker.put(item)
    except BaseException:
        worker.stop()
        raise
    worker.close()


@contextmanager
def sort_threads(conn: Connection) -> Iterator[None]:
    """Let SQLite sort with a worker thread per core while building indexes."""
    if conn.dialect.name != "sqlite":
        yield
        return
    before = conn.exec_driver_sql("PRAGMA threads").scalar() or 0
    conn.exec_driver_sql(f"PRAGMA threads = {min(8, os.cpu_count() or 1)}")
    try:
        yield
    finally:
        conn.exec_driver_sql(f"PRAGMA threads = {int(before)}")


def chunks(items: list[Any], size: int = LOOKUP_CHUNK) -> list[list[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


@contextmanager
def _unchecked_foreign_keys(conn: Connection, enabled: bool) -> Iterator[None]:
    if not enabled or conn.dialect.name != "sqlite":
        yield
        return
    # PRAGMA foreign_keys does nothing inside a transaction: say it on the bare
    # connection, before SQLAlchemy begins one.
    raw = conn.connection.driver_connection
    assert raw is not None
    raw.execute("PRAGMA foreign_keys = OFF")
    try:
        yield
    finally:
        raw.execute("PRAGMA foreign_keys = ON")


def run_import(
    engine: sa.Engine,
    kind: str,
    source: CsvFile,
    options: ImportOptions,
    body: Callable[[Connection, ImportRunState, int], None],
    *,
    bulk: bool = False,
) -> ImportSummary:
    """Run `body` in one transaction; commit only a clean (or --skip-invalid) run.

    `bulk` (SQLite) leaves foreign keys unchecked row by row: the import resolves every
    reference itself inside the same write transaction, which no other writer can enter.
    New customers are indexed for search in one pass at the end (see
    customers.search.indexed_in_bulk); a failed run rolls back, trigger and all.
    """
    state = ImportRunState(source, options, kind)
    with engine.connect() as conn, _unchecked_foreign_keys(conn, bulk):
        tx = conn.begin()
        try:
            run_id = start_run(conn, kind, source.name)
            with indexed_in_bulk(conn):
                body(conn, state, run_id)
            state.finish()
            finish_run(conn, run_id, state.summary)
            if options.dry_run:
                tx.rollback()
            else:
                tx.commit()
        except BaseException:
            if tx.is_active:
                tx.rollback()
            if state.rejects is not None:
                state.rejects.close()
            raise
        finally:
            for cleanup in reversed(state.after_transaction):
                cleanup()
    return state.summary
