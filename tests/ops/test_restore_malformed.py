"""`keepwell restore` of a bad file — truncated, damaged, random, empty, another format —
says why in one line, exits 1, and leaves the database exactly as it was. Real
`keepwell` processes, on SQLite and PostgreSQL."""

from __future__ import annotations

import gzip
import os
import random
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from keepwell import db
from keepwell.ingest.demo import build_world
from keepwell.ops.backup import backup, restore

Maker = Callable[[Path, Path], bytes]  # (sqlite backup, jsonl backup) -> the bad file


@pytest.fixture(scope="module")
def good(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Real backups of a small desk: SQLite and JSON lines."""
    folder = tmp_path_factory.mktemp("good")
    source = db.make_engine(f"sqlite:///{folder / 'desk.db'}")
    db.upgrade(source)
    build_world(source, customers=40, seed=4, today=date(2026, 11, 25))
    backup(source, folder / "desk.backup")
    backup(source, folder / "desk.jsonl", "jsonl")
    source.dispose()
    return folder / "desk.backup", folder / "desk.jsonl"


def cut(data: bytes, at: float) -> bytes:
    return data[: int(len(data) * at)]


def cut_at_line_end(data: bytes) -> bytes:
    return data[: data.rfind(b"\n", 0, len(data) // 2) + 1]


def damaged_pages(data: bytes) -> bytes:
    rng, out = random.Random(2), bytearray(data)
    for page in range(4, len(data) // 4096, 5):
        out[page * 4096 + 100 : page * 4096 + 400] = rng.randbytes(300)
    return bytes(out)


def foreign_sqlite(folder: Path) -> bytes:
    path = folder / "other-app.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    conn.execute("INSERT INTO notes (body) VALUES ('not a desk')")
    conn.commit()
    conn.close()
    return path.read_bytes()


def with_line(data: bytes, at: int, line: bytes) -> bytes:
    lines = data.splitlines(keepends=True)
    return b"".join([*lines[:at], line, *lines[at:]])


RANDOM = random.Random(1).randbytes(64 * 1024)

# name -> (what makes the file from the good backups, what the message says)
ANY_BACKEND: dict[str, tuple[Maker, str]] = {
    "empty file": (lambda s, j: b"", "is empty: not a Keepwell backup"),
    "random bytes": (lambda s, j: RANDOM, "is not a Keepwell backup"),
    "a CSV export": (lambda s, j: b"customer_id,amount\n1,2.50\n", "is not a Keepwell backup"),
    "a gzipped backup": (lambda s, j: gzip.compress(j.read_bytes()), "is not a Keepwell backup"),
    "JSON lines cut mid-line": (
        lambda s, j: cut(j.read_bytes(), 0.5),
        "the line is cut short: the backup is truncated",
    ),
    "JSON lines cut at a line's end": (
        lambda s, j: cut_at_line_end(j.read_bytes()),
        "is truncated: it ends at line",
    ),
    "JSON lines with a line of no table": (
        lambda s, j: with_line(j.read_bytes(), 5, b'{"t": "nosuch", "r": {}}\n'),
        ":6: not a row of a Keepwell table",
    ),
    "JSON lines with random bytes": (
        lambda s, j: with_line(j.read_bytes(), 3, RANDOM[:200] + b"\n"),
        ":4:",
    ),
    "JSON lines header only, cut": (
        lambda s, j: b'{"keepwell-backup": 2, "sch',
        "the line is cut short",
    ),
}
SQLITE_ONLY: dict[str, tuple[Maker, str]] = {
    "SQLite backup cut in half": (lambda s, j: cut(s.read_bytes(), 0.5), "is truncated"),
    "SQLite backup cut in its header": (lambda s, j: s.read_bytes()[:50], "is truncated"),
    "SQLite backup with damaged pages": (
        lambda s, j: damaged_pages(s.read_bytes()),
        "is damaged",
    ),
    "SQLite magic, then random bytes": (
        lambda s, j: b"SQLite format 3\x00" + RANDOM,
        "not a SQLite database",
    ),
    "another program's SQLite file": (
        lambda s, j: foreign_sqlite(s.parent),
        "a SQLite database without a Keepwell schema",
    ),
}


def state(engine: Engine) -> dict[str, list[str]]:
    """Every table and its rows, as the database holds them."""
    engine.dispose()
    with engine.connect() as conn:
        names = sorted(sa.inspect(conn).get_table_names())
        return {
            name: sorted(map(repr, conn.exec_driver_sql(f'SELECT * FROM "{name}"')))
            for name in names
        }


def url_of(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def keepwell_restore(file: Path, url: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "keepwell", "restore", str(file), "--database", url],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        env={**os.environ, "KEEPWELL_LOG_DIR": str(tmp_path / "logs")},
    )


def check_refused(
    file: Path, engine: Engine, tmp_path: Path, message: str
) -> subprocess.CompletedProcess[str]:
    with engine.begin() as conn:  # something to keep: restore may clear only seeded rows
        conn.exec_driver_sql("INSERT INTO cadences (segment, days) VALUES ('kept-vip', 14)")
    before = state(engine)
    done = keepwell_restore(file, url_of(engine), tmp_path)
    assert done.returncode == 1, done.stderr
    assert done.stderr.startswith("error: ") and done.stderr.count("\n") == 1, done.stderr
    assert message in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert not (tmp_path / "logs").exists()  # nothing unexpected happened
    assert state(engine) == before
    return done


@pytest.mark.parametrize("case", list(ANY_BACKEND))
def test_a_bad_file_is_refused_and_the_database_stays_as_it_was(
    case: str, engine: Engine, good: tuple[Path, Path], tmp_path: Path
) -> None:
    make, message = ANY_BACKEND[case]
    file = tmp_path / "bad.backup"
    file.write_bytes(make(*good))
    check_refused(file, engine, tmp_path, message)


@pytest.mark.parametrize("case", list(SQLITE_ONLY))
def test_a_bad_sqlite_backup_is_refused_and_the_database_stays_as_it_was(
    case: str, sqlite_engine: Engine, good: tuple[Path, Path], tmp_path: Path
) -> None:
    make, message = SQLITE_ONLY[case]
    file = tmp_path / "bad.backup"
    file.write_bytes(make(*good))
    check_refused(file, sqlite_engine, tmp_path, message)


def test_a_cut_pg_dump_is_refused_and_the_tables_stay(engine: Engine, tmp_path: Path) -> None:
    if engine.dialect.name != "postgresql" or not shutil.which("pg_dump"):
        pytest.skip("a pg_dump backup is PostgreSQL's (this is the SQLite run)")
    build_world(engine, customers=30, seed=6, today=date(2026, 11, 25))
    dump = tmp_path / "desk.dump"
    backup(engine, dump, "pgdump")
    file = tmp_path / "cut.dump"
    file.write_bytes(cut(dump.read_bytes(), 0.6))
    tables = [t.name for t in reversed(db.Base.metadata.sorted_tables)]
    with engine.begin() as conn:  # empty again, as restore wants it
        conn.exec_driver_sql(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
    check_refused(file, engine, tmp_path, "is not a whole pg_dump backup")


def test_a_bad_file_gives_a_new_database_no_schema(good: tuple[Path, Path], tmp_path: Path) -> None:
    file = tmp_path / "cut.jsonl"
    file.write_bytes(cut_at_line_end(good[1].read_bytes()))
    target = db.make_engine(f"sqlite:///{tmp_path / 'new.db'}")
    done = keepwell_restore(file, url_of(target), tmp_path)
    assert done.returncode == 1 and "is truncated" in done.stderr
    assert db.current_revision(target) is None  # no half-made desk to clear away
    target.dispose()


def test_a_json_lines_backup_of_before_the_row_count_still_restores(
    sqlite_engine: Engine, good: tuple[Path, Path], tmp_path: Path
) -> None:
    lines = good[1].read_bytes().splitlines(keepends=True)
    assert lines[-1].startswith(b'{"keepwell-backup-end": ')  # what version 2 adds
    old = tmp_path / "v1.jsonl"
    old.write_bytes(lines[0].replace(b'"keepwell-backup": 2', b'"keepwell-backup": 1'))
    with old.open("ab") as f:
        f.writelines(lines[1:-1])
    result = restore(sqlite_engine, old)
    assert result.rows == len(lines) - 2
