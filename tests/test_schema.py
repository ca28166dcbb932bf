"""The migrations build exactly the schema the models describe, on every backend."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Engine

from keepwell import db
from keepwell.customers import search
from keepwell.models import metadata


def _described(name: str | None, type_: str, parent_names: object) -> bool:
    """Leave out the search index's tables and indexes, which the models do not describe."""
    return name not in search.SCHEMA_OBJECTS


def test_models_match_the_migrated_schema(engine: Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_name": _described}
        )
        differences = compare_metadata(context, metadata)
    assert differences == []


def test_database_is_at_the_newest_revision(engine: Engine) -> None:
    assert db.head_revision() == db.SCHEMA_REVISION, "set db.SCHEMA_REVISION to the new head"
    assert db.current_revision(engine) == db.head_revision()
    db.require_current(engine)  # does not raise


def test_sqlite_connection_settings(sqlite_engine: Engine) -> None:
    with sqlite_engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == db.SQLITE_BUSY_TIMEOUT_MS


def test_a_database_without_schema_is_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import pytest

    from keepwell.errors import DatabaseNotReady

    engine = db.make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    with pytest.raises(DatabaseNotReady, match="run `keepwell init` first"):
        db.require_current(engine)
    before, after = db.upgrade(engine)
    assert (before, after) == (None, db.head_revision())
    assert db.upgrade(engine) == (after, after)  # upgrading again changes nothing


def test_upgrading_a_database_with_data(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Each migration runs on a database that already holds rows (not only on empty ones)."""
    engine = db.make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    db.upgrade(engine, "0001")
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO customers (id, external_id, name, tags, marketing_consent, created_at,"
            " updated_at, version) VALUES (1, 'C1', 'Ana', '[]', 0, '2024-01-01 00:00:00.000000',"
            " '2024-01-01 00:00:00.000000', 1)"
        )
        conn.exec_driver_sql(
            "INSERT INTO special_dates (customer_id, kind, label, on_date, yearly)"
            " VALUES (1, 'renewal', 'Contract', '2025-03-01', 1)"
        )
    assert db.upgrade(engine) == ("0001", db.head_revision())
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT order_count, revenue_minor FROM customers").one() == (
            0,
            0,
        )
        assert conn.exec_driver_sql(
            "SELECT segment, days FROM cadences ORDER BY segment"
        ).all() == [
            ("*", 90),
            ("vip", 30),
        ]
