"""Killing an import halfway (SIGKILL, no chance to clean up) leaves the database as it
was; running the import again completes it."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

ROWS = 150_000


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = random.Random(1)
    path = tmp_path_factory.mktemp("crash") / "orders.csv"
    with path.open("w") as f:
        f.write("order_id,customer_id,created_at,amount\n")
        for i in range(ROWS):
            f.write(
                f"O{i},C{rng.randrange(40_000)},2025-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d} 10:00:00,{rng.randrange(100, 9999) / 100:.2f}\n"
            )
    return path


def url_of(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def counts(engine: Engine) -> tuple[int, int, int]:
    with engine.connect() as conn:
        return tuple(  # type: ignore[return-value]
            conn.exec_driver_sql(f"SELECT count(*) FROM {t}").scalar_one()
            for t in ("orders", "customers", "imports")
        )


def writing(engine: Engine) -> bool:
    """Whether the import's transaction is under way (rows written, not committed)."""
    if engine.dialect.name == "sqlite":
        wal = Path(f"{engine.url.database}-wal")
        return wal.exists() and wal.stat().st_size > 4_000_000
    with engine.connect() as conn:
        return bool(
            conn.exec_driver_sql(
                "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' "
                "AND query LIKE 'INSERT INTO orders%%'"
            ).scalar()
        )


def test_killed_import_leaves_nothing_and_a_rerun_completes(engine: Engine, big_file: Path) -> None:
    before = counts(engine)
    command = [
        sys.executable,
        "-m",
        "keepwell",
        "import",
        "orders",
        str(big_file),
        "--database",
        url_of(engine),
    ]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not writing(engine):
        assert proc.poll() is None, "the import finished before it could be interrupted"
        assert time.monotonic() < deadline, "the import never started writing"
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    engine.dispose()
    assert counts(engine) == before  # nothing half-written
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert f"orders: {ROWS:,} added" in done.stdout
    orders, _, imports = counts(engine)
    assert (orders, imports) == (ROWS, before[2] + 1)
    with engine.connect() as conn:
        assert (
            conn.execute(
                sa.text("SELECT count(*) FROM customers WHERE first_seen IS NULL")
            ).scalar()
            == 0
        )


def test_killed_scoring_leaves_no_scores_and_a_rerun_completes(
    engine: Engine, big_file: Path
) -> None:
    url = url_of(engine)
    imported = subprocess.run(
        [sys.executable, "-m", "keepwell", "import", "orders", str(big_file), "--database", url],
        capture_output=True,
        text=True,
        check=False,
    )
    assert imported.returncode == 0, imported.stderr
    engine.dispose()
    with engine.connect() as conn:
        customers = conn.exec_driver_sql("SELECT count(*) FROM customers").scalar_one()
    command = [sys.executable, "-m", "keepwell", "score", "--date", "2026-01-15", "--database", url]

    def scoring_started() -> bool:
        if engine.dialect.name == "sqlite":
            wal = Path(f"{engine.url.database}-wal")
            return wal.exists() and wal.stat().st_size > 256_000
        return writing_scores(engine)

    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    # On this uniform history both purchase models fail (BG/NBD runs off, then Pareto/NBD
    # is tried before the fallback gives up), so the run fits for about a minute before
    # it writes: wait for the writing, however long the fit takes on a busy machine.
    deadline = time.monotonic() + 600
    while not scoring_started():
        assert proc.poll() is None, "scoring finished before it could be interrupted"
        assert time.monotonic() < deadline, "scoring never started writing"
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    engine.dispose()
    with engine.connect() as conn:
        assert (
            conn.exec_driver_sql("SELECT count(*) FROM scores").scalar_one() == 0
        )  # nothing half-written
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    engine.dispose()
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM scores").scalar_one() == customers


def writing_scores(engine: Engine) -> bool:
    """Whether a transaction holds a write lock on scores (taken at its first write to
    the table, held until it ends)."""
    with engine.connect() as conn:
        return bool(
            conn.exec_driver_sql(
                "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                "WHERE c.relname = 'scores' AND l.mode = 'RowExclusiveLock' AND l.granted"
            ).scalar()
        )
