"""Fixtures: a fresh database per test, on SQLite and (when reachable) PostgreSQL.

`engine` runs a test once per backend. PostgreSQL comes from KEEPWELL_TEST_POSTGRES_URL
(default: the server these machines run at 127.0.0.1:5432, trust auth, database
`test`); each xdist worker gets its own database, emptied between tests. Without a
server the PostgreSQL runs are skipped — unless KEEPWELL_REQUIRE_POSTGRES=1 (CI), which
turns that into a failure.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from keepwell import db

# Test data carried in the repo (tests/data/README.md says where it comes from).
DATA = Path(__file__).resolve().parent / "data"
CDNOW = DATA / "cdnow_sample.csv"
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"
CDNOW_ORDERS = 6919
CDNOW_CUSTOMERS = 2357


def write_cdnow_orders(path: Path) -> Path:
    """The CDNOW sample as a shop's export (order ids, `created_at`): what `keepwell import
    orders` takes, by its fast path on SQLite. A real history: the models fit on it."""
    rows = CDNOW.read_text().splitlines()[1:]
    with path.open("w") as f:
        f.write("order_id,customer_id,created_at,amount\n")
        for i, row in enumerate(rows):
            customer, day, _quantity, amount = row.split(",")
            f.write(f"N{i},{customer},{day},{amount}\n")
    return path


def postgres_url() -> str:
    raw = os.environ.get("KEEPWELL_TEST_POSTGRES_URL", DEFAULT_PG)
    return raw.replace("postgresql://", "postgresql+psycopg://", 1)


def postgres_required() -> bool:
    return os.environ.get("KEEPWELL_REQUIRE_POSTGRES", "") not in ("", "0")


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test (faster than migrating each time)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = db.make_engine(f"sqlite:///{path}")
    db.upgrade(engine)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


def unreachable(message: str) -> None:
    """PostgreSQL could not be reached: a skip, or a failure where it is required (CI)."""
    if postgres_required():
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@contextmanager
def throwaway_postgres(name: str) -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database called `name`, dropped afterwards."""
    admin_url = postgres_url()
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except sa.exc.OperationalError as exc:
        admin.dispose()
        where = sa.make_url(admin_url).render_as_string()
        unreachable(f"PostgreSQL is unreachable at {where}: {exc.orig}")
    try:
        yield sa.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A migrated PostgreSQL database of this worker's own, dropped at the end."""
    # unique per run as well as per worker: runs side by side must not share a database
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID", "")[:8] or f"p{os.getpid()}"
    with throwaway_postgres(f"keepwell_test_{run}_{_worker()}".lower()) as url:
        engine = db.make_engine(url)
        db.upgrade(engine)
        engine.dispose()
        yield url


def _sqlite_engine(template: Path, tmp_path: Path) -> Engine:
    path = tmp_path / "keepwell.db"
    shutil.copy(template, path)
    return db.make_engine(f"sqlite:///{path}")


def _postgres_engine(url: str) -> Engine:
    engine = db.make_engine(url)
    tables = [t.name for t in reversed(db.Base.metadata.sorted_tables)]
    with engine.begin() as conn:
        conn.exec_driver_sql(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
    return engine


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path
) -> Iterator[Engine]:
    """A fresh, migrated, empty database; the test runs once on each backend."""
    if request.param == "sqlite":
        made = _sqlite_engine(sqlite_template, tmp_path)
    else:
        made = _postgres_engine(request.getfixturevalue("postgres_database"))
    yield made
    made.dispose()


@pytest.fixture
def sqlite_engine(tmp_path: Path, sqlite_template: Path) -> Iterator[Engine]:
    """A fresh, migrated, empty SQLite database, for tests about SQLite itself."""
    made = _sqlite_engine(sqlite_template, tmp_path)
    yield made
    made.dispose()


def pytest_report_header(config: pytest.Config) -> list[str]:
    pg = sa.make_url(postgres_url()).render_as_string()
    required = " (required)" if postgres_required() else " (skipped if unreachable)"
    return [f"keepwell databases: sqlite, postgresql at {pg}{required}"]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    stats = terminalreporter.stats
    passed = [r.nodeid for r in stats.get("passed", [])]
    skipped = [
        r for r in stats.get("skipped", []) if "PostgreSQL is unreachable" in str(r.longrepr)
    ]
    on_pg = sum("[postgresql" in nodeid for nodeid in passed)
    on_sqlite = sum("[postgresql" not in nodeid for nodeid in passed)
    line = f"databases: sqlite ({on_sqlite} tests passed); postgresql "
    if skipped:
        line += f"NOT REACHED ({len(skipped)} tests skipped)"
    else:
        line += f"({on_pg} tests passed)"
    terminalreporter.write_line(line)
