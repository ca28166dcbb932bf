"""The fast path's scratch files: what goes in comes out, and nothing is left behind."""

from __future__ import annotations

import threading
from pathlib import Path

import pyarrow as pa
import pytest
from sqlalchemy.engine import Engine

import keepwell.ingest.orders_fast as orders_fast
from keepwell import clock
from keepwell.errors import ImportRejected
from keepwell.ingest.importer import ImportOptions, Worker, pipelined
from keepwell.ingest.orders_import import import_orders
from keepwell.ingest.staging import Staging
from tests.ingest.test_orders_fast import shop_export
from tests.ingest.test_orders_import import count, write


def attached(engine: Engine) -> list[str]:
    """The databases attached to the pool's connection (the one an import used)."""
    with engine.connect() as conn:
        return [row[1] for row in conn.exec_driver_sql("PRAGMA database_list")]


def scratch(db: Path) -> list[Path]:
    return [p for p in db.parent.iterdir() if p.name.startswith(f".{db.name}.import-")]


def database_file(engine: Engine) -> Path:
    assert engine.url.database
    return Path(engine.url.database)


def test_batches_come_back_as_they_went_in(sqlite_engine: Engine) -> None:
    """Every value type the fast path stages, nulls and all, over several parts."""
    first = pa.record_batch(
        {
            "key": pa.array(["a", "Ålvarez ☕", "", "x" * 300]),
            "n": pa.array([0, -1, (1 << 63) - 1, -(1 << 63)], pa.int64()),
            "note": pa.array([None, "b", None, 'it\'s "quoted"'], pa.string()),
        }
    )
    second = pa.record_batch(
        {
            "key": pa.array(["z"]),
            "n": pa.array([7], pa.int64()),
            "note": pa.array([None], pa.string()),
        }
    )
    with sqlite_engine.connect() as conn:
        staging = Staging(conn)
        assert staging.dir.parent == database_file(sqlite_engine).parent
        staging.append("t", first)
        staging.append("t", second)
        staging.append("other", second)
        one = staging.seal()
        staging.append("t", second)
        two = staging.seal()
        assert staging.seal() is None  # nothing written since
        assert one is not None and two is not None
        assert (one.tables, two.tables) == ({"t", "other"}, {"t"})
        with conn.begin():
            got = [
                tuple(r)
                for r in conn.exec_driver_sql(
                    f"SELECT key, n, note FROM {staging.attach(one)}.t ORDER BY rowid"
                )
            ]
            again = conn.exec_driver_sql(f"SELECT count(*) FROM {staging.attach(two)}.t")
            assert again.scalar_one() == 1
        staging.discard()
        assert [r[1] for r in conn.exec_driver_sql("PRAGMA database_list")] == ["main"]
    expected = [*zip(*first.to_pydict().values(), strict=True), ("z", 7, None)]
    assert got == expected
    assert not staging.dir.exists()


def test_an_import_leaves_no_scratch_file_nor_attachment(
    sqlite_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In many parts, whether it lands, is rejected, is a dry run or steps aside."""
    db = database_file(sqlite_engine)
    monkeypatch.setattr(orders_fast, "BLOCK_BYTES", 2048)
    seen: list[str] = []
    real_attach = Staging.attach
    monkeypatch.setattr(
        Staging, "attach", lambda self, part: seen.append(part.schema) or real_attach(self, part)
    )
    text = shop_export(2000)
    dry = import_orders(sqlite_engine, write(tmp_path, text), ImportOptions(dry_run=True))
    assert dry.fast_path and dry.added == 2000 and count(sqlite_engine, "orders") == 0
    assert len(set(seen)) >= 3  # the orders in parts, and the customers
    assert (scratch(db), attached(sqlite_engine)) == ([], ["main"])

    lines = text.splitlines(keepends=True)
    twice = [*lines[:1500], lines[10], *lines[1500:]]  # an id again, parts later
    with clock.frozen("2026-11-25"), pytest.raises(ImportRejected) as caught:
        import_orders(sqlite_engine, write(tmp_path, "".join(twice)))
    assert "appears twice in the file" in str(caught.value.errors[0])
    assert caught.value.errors[0].line == 1501
    assert count(sqlite_engine, "orders") == count(sqlite_engine, "customers") == 0
    assert (scratch(db), attached(sqlite_engine)) == ([], ["main"])

    done = import_orders(sqlite_engine, write(tmp_path, text))
    assert done.fast_path and done.added == 2000 and count(sqlite_engine, "orders") == 2000
    assert (scratch(db), attached(sqlite_engine)) == ([], ["main"])


def test_a_killed_imports_scratch_is_swept_by_the_next(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    db = database_file(sqlite_engine)
    left = db.parent / f".{db.name}.import-killed"
    left.mkdir()
    (left / "part1.db").write_bytes(b"half a file")
    other = db.parent / ".another.db.import-running"  # another database's: not ours
    other.mkdir()
    import_orders(sqlite_engine, write(tmp_path, shop_export(50)))
    assert not left.exists() and other.exists()


def test_a_worker_failure_stops_the_producer_and_is_raised() -> None:
    made: list[int] = []

    def produce() -> object:
        for i in range(1000):
            made.append(i)
            yield i

    def work(item: int) -> None:
        if item == 3:
            raise ValueError("bad item")

    with pytest.raises(ValueError, match="bad item"):
        pipelined(produce(), work)  # type: ignore[arg-type]
    assert len(made) < 1000


def test_a_producer_failure_waits_for_the_worker_and_wins() -> None:
    done: list[int] = []
    release = threading.Event()

    def work(item: int) -> None:
        release.wait(5)
        done.append(item)

    def produce() -> object:
        yield 1
        release.set()
        raise KeyError("producer")

    with pytest.raises(KeyError, match="producer"):
        pipelined(produce(), work)  # type: ignore[arg-type]
    assert done == [1]  # the item put was finished before pipelined returned
    worker = Worker(work, "test")
    worker.put(2)
    worker.close()
    assert done == [1, 2]


def test_a_staging_failure_hands_the_file_to_the_careful_path(
    sqlite_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A scratch file that cannot be written (a full disk, say) costs speed, not the
    import: the careful path imports the same file, and nothing is left behind."""
    import adbc_driver_manager

    monkeypatch.setattr(orders_fast, "BLOCK_BYTES", 2048)
    real_append = Staging.append
    calls: list[str] = []

    def failing_append(self: Staging, table: str, batch: object) -> None:
        calls.append(table)
        if len(calls) == 20:  # a few parts in: some orders are copied in already
            raise adbc_driver_manager.OperationalError(
                "disk I/O error", status_code=adbc_driver_manager.AdbcStatusCode.IO
            )
        real_append(self, table, batch)

    monkeypatch.setattr(Staging, "append", failing_append)
    copied: list[str] = []
    real_attach = Staging.attach
    monkeypatch.setattr(
        Staging, "attach", lambda self, part: copied.append(part.schema) or real_attach(self, part)
    )
    summary = import_orders(sqlite_engine, write(tmp_path, shop_export(2000)))
    assert len(calls) == 20 and len(copied) >= 2 and not summary.fast_path
    assert (summary.added, count(sqlite_engine, "orders")) == (2000, 2000)
    assert count(sqlite_engine, "customers") == summary.customers_added
    db = database_file(sqlite_engine)
    assert (scratch(db), attached(sqlite_engine)) == ([], ["main"])
