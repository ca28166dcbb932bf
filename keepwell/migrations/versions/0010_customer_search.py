"""Customer search by index: a part of the name, the e-mail or the company, found without
reading every customer

- SQLite: `customers_fts`, an external-content FTS5 table with the trigram tokenizer
  (SQLite 3.34 or later; case-insensitive) over customers' name, email and company,
  filled from the existing rows ('rebuild') and kept in step by three triggers. The
  update trigger fires only when one of those three columns changes: the import's
  bulk updates of derived columns (order_count, revenue_minor, …) do not re-index.
  Where the SQLite library has no FTS5 or no trigram tokenizer, nothing is made and
  search reads every customer as before (keepwell/customers/search.py checks).
- PostgreSQL: the pg_trgm extension (when the database user may create it) and GIN
  trigram indexes on lower(name), lower(email) and lower(company), which serve
  `lower(column) LIKE '%text%'`. Without pg_trgm no index is made: the same results,
  read the slow way.

The models do not describe these objects (tests/test_schema.py leaves them out of the
models-vs-migrations comparison). A later migration that rebuilds the customers table
on SQLite (Alembic's batch mode: copy, drop, rename) drops the triggers with the old
table; it must make them again (`_sqlite_triggers` below) and rebuild the index. Until
then search sees the triggers missing and reads every customer rather than a stale
index.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-25 06:30:00
"""

import logging

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")

FTS = "customers_fts"
COLUMNS = ("name", "email", "company")
TRIGGERS = ("customers_fts_insert", "customers_fts_delete", "customers_fts_update")
PG_INDEXES = tuple(f"ix_customers_{column}_trgm" for column in COLUMNS)


def _sqlite_triggers() -> list[str]:
    add = (
        "INSERT INTO customers_fts (rowid, name, email, company)"
        " VALUES (new.id, new.name, new.email, new.company);"
    )
    remove = (
        "INSERT INTO customers_fts (customers_fts, rowid, name, email, company)"
        " VALUES ('delete', old.id, old.name, old.email, old.company);"
    )
    changed = " OR ".join(f"old.{c} IS NOT new.{c}" for c in COLUMNS)
    return [
        f"CREATE TRIGGER {TRIGGERS[0]} AFTER INSERT ON customers BEGIN {add} END",
        f"CREATE TRIGGER {TRIGGERS[1]} AFTER DELETE ON customers BEGIN {remove} END",
        f"CREATE TRIGGER {TRIGGERS[2]} AFTER UPDATE OF name, email, company ON customers "
        f"WHEN {changed} BEGIN {remove} {add} END",
    ]


def _upgrade_sqlite(bind: sa.Connection) -> None:
    savepoint = bind.begin_nested()
    try:
        bind.exec_driver_sql(
            "CREATE VIRTUAL TABLE customers_fts USING fts5(name, email, company,"
            " content='customers', content_rowid='id', tokenize='trigram', columnsize=0)"
        )
    except sa.exc.OperationalError as exc:  # no fts5 module, or no trigram tokenizer
        savepoint.rollback()
        log.warning("customer search index skipped (%s): search reads every customer", exc.orig)
        return
    savepoint.commit()
    for statement in _sqlite_triggers():
        bind.exec_driver_sql(statement)
    bind.exec_driver_sql("INSERT INTO customers_fts (customers_fts) VALUES ('rebuild')")


def _upgrade_postgresql(bind: sa.Connection) -> None:
    savepoint = bind.begin_nested()
    try:
        bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except sa.exc.DBAPIError as exc:  # not permitted, or not installed on the server
        savepoint.rollback()
        log.warning("customer search indexes skipped (pg_trgm: %s)", exc.orig)
        return
    savepoint.commit()
    for column, index in zip(COLUMNS, PG_INDEXES, strict=True):
        bind.exec_driver_sql(
            f"CREATE INDEX {index} ON customers USING gin (lower({column}) gin_trgm_ops)"
        )


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        _upgrade_sqlite(bind)
    elif bind.dialect.name == "postgresql":
        _upgrade_postgresql(bind)


def downgrade() -> None:
    # The pg_trgm extension stays: it belongs to the whole database, may have been there
    # before, and others may use it; dropping the indexes removes what depends on it here.
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for trigger in TRIGGERS:
            bind.exec_driver_sql(f"DROP TRIGGER IF EXISTS {trigger}")
        bind.exec_driver_sql(f"DROP TABLE IF EXISTS {FTS}")
    elif bind.dialect.name == "postgresql":
        for index in PG_INDEXES:
            bind.exec_driver_sql(f"DROP INDEX IF EXISTS {index}")
