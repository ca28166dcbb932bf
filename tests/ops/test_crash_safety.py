"""Killing an import or a scoring run (SIGKILL, no chance to clean up) leaves the
database as it was; running it again completes it.

The kill lands at a known point, not at whatever moment a race gives: the fault hook
(keepwell/faults.py) makes the job kill itself just before it commits, when every row
is written and nothing is committed yet — the most it can leave half-done."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from keepwell import faults
from tests.conftest import CDNOW_CUSTOMERS, write_cdnow_orders

ROWS = 30_000  # two of the import's 20,000-row batches


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = random.Random(1)
    path = tmp_path_factory.mktemp("crash") / "orders.csv"
    with path.open("w") as f:
        f.write("order_id,customer_id,created_at,amount\n")
        for i in range(ROWS):
            f.write(
                f"O{i},C{rng.randrange(15_000)},2025-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d} 10:00:00,{rng.randrange(100, 9999) / 100:.2f}\n"
            )
    return path


def url_of(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def counts(engine: Engine) -> tuple[int, int, int]:
    engine.dispose()  # what a fresh connection sees
    with engine.connect() as conn:
        return tuple(  # type: ignore[return-value]
            conn.exec_driver_sql(f"SELECT count(*) FROM {t}").scalar_one()
            for t in ("orders", "customers", "imports")
        )


def killed_before_commit(command: list[str], table: str) -> None:
    """Run `command`, killed (SIGKILL) just before it commits its rows of `table`."""
    env = {**os.environ, faults.BEFORE_COMMIT: f"{table}:kill"}
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    # killed by the hook: the job got as far as writing, and no further
    assert done.returncode == -signal.SIGKILL, (done.returncode, done.stdout, done.stderr)


def assert_sound(engine: Engine) -> None:
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"


def test_killed_import_leaves_nothing_and_a_rerun_completes(engine: Engine, big_file: Path) -> None:
    before = counts(engine)
    command = [sys.executable, "-m", "keepwell", "import", "orders", str(big_file),
               "--database", url_of(engine)]  # fmt: skip
    killed_before_commit(command, "orders")
    assert counts(engine) == before  # nothing half-written
    assert_sound(engine)
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
    engine: Engine, tmp_path: Path
) -> None:
    """On the CDNOW sample: a real history, on which the purchase model fits at once."""
    url = url_of(engine)
    orders = write_cdnow_orders(tmp_path / "orders.csv")
    imported = subprocess.run(
        [sys.executable, "-m", "keepwell", "import", "orders", str(orders), "--database", url],
        capture_output=True,
        text=True,
        check=False,
    )
    assert imported.returncode == 0, imported.stderr
    _, customers, _ = counts(engine)
    assert customers == CDNOW_CUSTOMERS
    command = [sys.executable, "-m", "keepwell", "score", "--date", "1998-06-30", "--database", url]
    killed_before_commit(command, "scores")
    engine.dispose()
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM scores").scalar_one() == 0
    assert_sound(engine)
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "Scored 2,357 customers" in done.stdout
    assert "Model bgnbd (fitted" in done.stdout  # the model fitted: a run of the usual kind
    engine.dispose()
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM scores").scalar_one() == customers
