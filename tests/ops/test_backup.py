"""Backups round-trip the demo world, every table, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from keepwell import db
from keepwell.ingest.demo import build_world
from keepwell.models import metadata
from keepwell.ops.backup import BackupError, backup, restore
from tests.conftest import throwaway_postgres


def everything(engine: Engine) -> dict[str, list[tuple[object, ...]]]:
    with engine.connect() as conn:
        return {
            table.name: [
                tuple(row)
                for row in conn.execute(
                    sa.select(table).order_by(*(table.primary_key.columns or table.columns))
                )
            ]
            for table in metadata.sorted_tables
        }


@pytest.fixture
def empty_target(engine: Engine, tmp_path: Path) -> Iterator[Engine]:
    """A second, empty database on the same backend as `engine`."""
    if engine.dialect.name == "sqlite":
        target = db.make_engine(f"sqlite:///{tmp_path / 'restored.db'}")
        yield target
        target.dispose()
        return
    with throwaway_postgres(f"keepwell_restore_{uuid.uuid4().hex[:10]}") as url:
        target = db.make_engine(url)
        yield target
        target.dispose()


@pytest.mark.parametrize("fmt", [None, "jsonl"])
def test_backup_and_restore_round_trip_every_table(
    engine: Engine, empty_target: Engine, tmp_path: Path, fmt: str | None
) -> None:
    build_world(engine, customers=120, seed=3, today=date(2026, 11, 25))
    original = everything(engine)
    assert sum(len(rows) for rows in original.values()) > 1000
    file = tmp_path / "desk.backup"
    made = backup(engine, file, fmt)
    assert made.format == (fmt or ("sqlite" if engine.dialect.name == "sqlite" else "pgdump"))
    assert not file.with_name("desk.backup.partial").exists()
    restore(empty_target, file)
    assert everything(empty_target) == original
    assert db.current_revision(empty_target) == db.SCHEMA_REVISION
    with pytest.raises(BackupError, match="not empty"):
        restore(empty_target, file)  # never over data


def test_jsonl_moves_a_desk_from_sqlite_to_postgresql(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    build_world(sqlite_engine, customers=60, seed=5, today=date(2026, 11, 25))
    file = tmp_path / "desk.jsonl"
    backup(sqlite_engine, file, "jsonl")
    with throwaway_postgres(f"keepwell_restore_{uuid.uuid4().hex[:10]}") as url:
        target = db.make_engine(url)
        try:
            restore(target, file)
            assert everything(target) == everything(sqlite_engine)
            with target.begin() as conn:  # ids continue after the restored ones
                new_id = conn.exec_driver_sql(
                    "INSERT INTO team_members (email, name, role, active, created_at) "
                    "VALUES ('new@x.example', 'New', 'member', true, now()) RETURNING id"
                ).scalar_one()
            assert new_id > max(row[0] for row in everything(sqlite_engine)["team_members"])
        finally:
            target.dispose()


def test_sqlite_backup_is_consistent_while_writes_go_on(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    """A writer keeps committing during the backup: the copy is one moment of it."""
    build_world(sqlite_engine, customers=100, seed=9, today=date(2026, 11, 25))
    stop = threading.Event()

    def writer() -> None:
        n = 0
        while not stop.is_set():
            with sqlite_engine.begin() as conn:  # two rows per transaction: never half
                for _ in range(2):
                    n += 1
                    conn.exec_driver_sql(
                        "INSERT INTO cadences (segment, days) VALUES (?, 30)", (f"s{n}",)
                    )

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        made = [backup(sqlite_engine, tmp_path / f"b{i}.db") for i in range(3)]
    finally:
        stop.set()
        thread.join()
    for result in made:
        copy = sa.create_engine(f"sqlite:///{result.path}")
        with copy.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
            written = conn.exec_driver_sql(
                "SELECT count(*) FROM cadences WHERE segment LIKE 's%'"
            ).scalar()
            assert written is not None and written % 2 == 0
        copy.dispose()


def test_restore_refuses_what_is_not_a_backup(sqlite_engine: Engine, tmp_path: Path) -> None:
    junk = tmp_path / "notes.txt"
    junk.write_text("hello")
    with pytest.raises(BackupError, match="not a Keepwell backup"):
        restore(sqlite_engine, junk)
