"""One import's run from inside (keepwell/ingest/importer.py): rows go on to the database
only while the file is clean or bad rows are set aside; the writer thread reports the
first failure and never leaves the reader waiting; a refused import gives its connection
back whole."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from queue import Queue

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from keepwell import clock
from keepwell.errors import ImportRejected
from keepwell.ingest import importer
from keepwell.ingest.csvfile import open_csv
from keepwell.ingest.importer import ImportOptions, ImportRunState, Worker, pipelined
from keepwell.ingest.order_rows import ORDER_FIELDS
from keepwell.ingest.orders_import import import_orders
from tests.ingest.test_orders_fast import shop_export
from tests.ingest.test_orders_import import write
from tests.ingest.test_staging import attached, database_file, scratch


def test_rows_are_written_while_the_file_is_clean_or_bad_rows_are_set_aside(tmp_path: Path) -> None:
    path = write(tmp_path, "order_id,email,date,amount\n1,a@example.com,2024-01-01,x\n")
    with open_csv(path, ORDER_FIELDS) as source:
        strict = ImportRunState(source, ImportOptions(), "orders")
        assert strict.writing
        strict.reject(2, ["1", "a@example.com", "2024-01-01", "x"], "amount", "not an amount")
        assert not strict.writing  # the file is refused: what follows need not be written
        lenient = ImportRunState(source, ImportOptions(skip_invalid=tmp_path / "bad.csv"), "orders")
        lenient.reject(2, ["1", "a@example.com", "2024-01-01", "x"], "amount", "not an amount")
        assert lenient.writing  # the bad row is set aside, the others go in
        lenient.finish()
    assert (tmp_path / "bad.csv").read_text().splitlines()[1].endswith("2,column amount: not an amount")


def finishes(action: Callable[[], None]) -> list[BaseException]:
    """Run `action` on a thread of its own; what it raised. Fails when it never ends (a
    guard against waiting for ever, not a time limit)."""
    raised: list[BaseException] = []

    def run() -> None:
        try:
            action()
        except BaseException as exc:  # what it raises is the caller's
            raised.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(60)
    assert not thread.is_alive(), "it waits for ever: the writer stopped reading its queue"
    return raised


def test_after_a_failure_the_writer_drains_its_queue_and_close_raises_the_failure(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The reader may be waiting on a full queue when the writer fails: the writer goes
    on taking (and skipping) what is put, so neither the reader nor close is ever stuck."""
    writer_holds_1, reader_waits = threading.Event(), threading.Event()
    queues: list[Queue[object]] = []

    class Watched(Queue[object]):
        def __init__(self, maxsize: int = 0) -> None:
            super().__init__(maxsize)
            queues.append(self)

        def put(self, item: object, block: bool = True, timeout: float | None = None) -> None:
            if self.full() and writer_holds_1.is_set():
                reader_waits.set()
            super().put(item, block, timeout)

    monkeypatch.setattr(importer, "Queue", Watched)
    written: list[int] = []

    def write_row(n: int) -> None:
        if n == 1:
            writer_holds_1.set()
            reader_waits.wait()  # fail only once the reader waits on the full queue
            raise ValueError("row 1 cannot be written")
        written.append(n)

    worker = Worker(write_row, "test-writer")

    def read() -> None:
        for n in (1, 2, 3, 4):  # the writer holds 1, the queue 2 and 3; 4 waits
            worker.put(n)

    assert finishes(read) == []  # 4 was put before the failure was known
    raised = finishes(worker.close)
    assert [str(e) for e in raised] == ["row 1 cannot be written"] and written == []
    assert queues[0].empty()  # every row put was taken: skipped, after the failure
    with pytest.raises(ValueError, match="row 1"):
        worker.put(5)  # the reader hears of the failure at its next row


def test_a_reader_failure_ends_the_writer_thread() -> None:
    def rows() -> Iterator[int]:
        yield 1
        raise KeyError("line 3 cannot be read")

    with pytest.raises(KeyError, match="line 3"):
        pipelined(rows(), lambda n: None)
    assert [t for t in threading.enumerate() if t.name == "keepwell-import-writer"] == []


def test_a_refused_import_gives_its_connection_back_whole(sqlite_engine: Engine, tmp_path: Path) -> None:
    """Rolled back before its scratch files are let go: a file attached inside an open
    transaction cannot be detached, and the connection would be thrown away."""
    lines = shop_export(50).splitlines(keepends=True)
    invalidated: list[object] = []
    sa.event.listen(sqlite_engine, "invalidate", lambda *args: invalidated.append(args))
    with clock.frozen("2026-11-25"), pytest.raises(ImportRejected) as caught:
        import_orders(sqlite_engine, write(tmp_path, "".join([*lines, lines[5]])))  # an id again
    assert "appears twice in the file" in str(caught.value.errors[0])
    db = database_file(sqlite_engine)
    assert (invalidated, scratch(db), attached(sqlite_engine)) == ([], [], ["main"])
