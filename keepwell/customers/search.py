"""Customer search: what the list's `search` text matches, and the indexes that find it
without reading every customer.

The indexes are made by migration 0010_customer_search:

- SQLite: `customers_fts`, an external-content FTS5 table with the trigram tokenizer over
  customers' name, e-mail and company, kept in step by three triggers. Where the SQLite
  library has no FTS5 or no trigram tokenizer they are not made, and search reads every
  customer (the same results, slower).
- PostgreSQL: pg_trgm GIN indexes on lower(name), lower(email) and lower(company), which
  the planner uses for `lower(column) LIKE '%text%'` by itself.

The models do not describe these objects (SCHEMA_OBJECTS: tests/test_schema.py leaves
them out of the models-vs-migrations comparison).
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from keepwell.customers.models import Customer

INDEX = "customers_fts"
INSERT_TRIGGER = "customers_fts_insert"
TRIGGERS = (INSERT_TRIGGER, "customers_fts_delete", "customers_fts_update")
PG_INDEXES = tuple(f"ix_customers_{column}_trgm" for column in ("name", "email", "company"))
# Tables and indexes of the search that the models do not describe (FTS5's own shadow
# tables are named after its table).
SCHEMA_OBJECTS = frozenset(
    {INDEX, *(f"{INDEX}_{shadow}" for shadow in ("data", "idx", "config", "docsize", "content"))}
    | set(PG_INDEXES)
)
# A text the index finds in this many customers or more is common: walking the list in
# its order finds a page of them sooner than collecting every one of them first.
COMMON_MATCHES = 5000
_index_ready: weakref.WeakKeyDictionary[Engine, bool] = weakref.WeakKeyDictionary()


def search_terms(session: Session, text: str) -> list[sa.ColumnElement[bool]]:
    """What the list's `search` matches, as conditions for the customers query.

    A customer matches when `text` is their external id (exactly), their e-mail address
    (in any case), or a part of their name, e-mail or company: `lower(column)` contains
    `text` lowered, every character literal (`%`, `_`, `\\`, quotes). `lower` is the
    database's: on PostgreSQL every letter; on SQLite A–Z only, so there a text with
    other letters (`álvarez`, `ÅSA`) of 3 characters or more is looked up in the index
    alone, whose case folding covers every letter (without the index, and for shorter
    such texts, the case of those letters must match).

    Those are always the conditions; an index only narrows which rows are read. A text
    of 3 characters or more is looked up in the trigram index first: on SQLite the FTS5
    table (its matches are a superset, so the conditions above still decide), on
    PostgreSQL the pg_trgm GIN indexes that the planner uses for `lower(column) LIKE`.
    When the index finds the text in COMMON_MATCHES customers or more (on SQLite), or
    the text is 1 or 2 characters long (a trigram index cannot look those up), the list
    is read in its own order, each row tested, until the page is full: quick for a
    common text, a read of every customer for a rare short one.
    """
    lowered = text.lower()
    pattern = "%" + lowered.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    matches = sa.or_(
        Customer.external_id == text,
        Customer.email == lowered,
        *(
            sa.func.lower(column).like(pattern, escape="\\")
            for column in (Customer.name, Customer.email, Customer.company)
        ),
    )
    if len(lowered) < 3 or "\x00" in lowered or not has_index(session):
        return [matches]
    index = sa.table(INDEX, sa.column("rowid", sa.Integer), sa.column(INDEX))
    # an FTS5 string: in double quotes, a double quote doubled; with the trigram tokenizer
    # it matches where its characters appear together, in any case
    found = sa.select(index.c.rowid).where(
        index.c[INDEX].match('"' + lowered.replace('"', '""') + '"')
    )
    candidates = sa.union(
        found,
        sa.select(Customer.id).where(Customer.external_id == text).correlate(None),
        sa.select(Customer.id).where(Customer.email == lowered).correlate(None),
    )
    if not lowered.isascii():
        # SQLite's lower() folds A-Z only, so `lower(name) LIKE '%álvarez%'` misses
        # "Álvarez": the index, which folds every letter, decides alone
        return [Customer.id.in_(candidates)]
    common = session.scalar(
        sa.select(sa.func.count()).select_from(found.limit(COMMON_MATCHES).subquery())
    )
    if common is not None and common >= COMMON_MATCHES:
        return [matches]
    return [Customer.id.in_(candidates), matches]


def has_index(session: Session) -> bool:
    """Whether this SQLite database has the search index and its triggers, and the
    library can read it (found out once per engine)."""
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    if engine.dialect.name != "sqlite":
        return False
    ready = _index_ready.get(engine)
    if ready is None:
        ready = _index_usable(session.connection())
        _index_ready[engine] = ready
    return ready


def _index_usable(conn: Connection) -> bool:
    wanted = {INDEX, *TRIGGERS}
    present = set(
        conn.scalars(
            sa.text("SELECT name FROM sqlite_master WHERE name IN :names").bindparams(
                sa.bindparam("names", expanding=True)
            ),
            {"names": sorted(wanted)},
        )
    )
    if present != wanted:
        return False
    try:  # a file made where SQLite had FTS5, opened where it has not
        conn.exec_driver_sql(
            "SELECT rowid FROM customers_fts WHERE customers_fts MATCH '\"abc\"' LIMIT 0"
        )
    except sa.exc.OperationalError:
        return False
    return True


@contextmanager
def indexed_in_bulk(conn: Connection) -> Iterator[None]:
    """Customers inserted inside this block are indexed for search in one statement at
    its end, instead of one by one by the insert trigger (which took 2.1 s of the 2.7 s
    that 100,000 new customers took to insert, measured on SQLite 3.40).

    For a write transaction that inserts customers with ids above every existing one
    (as SQLite numbers them, and as the imports do). The trigger is dropped and made
    again within the caller's transaction, so other connections never see it missing;
    a transaction that fails is rolled back with the trigger as it was. Updates and
    deletes inside the block are still kept in step by their own triggers.
    """
    trigger = None
    if conn.dialect.name == "sqlite":
        trigger = conn.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?",
            (INSERT_TRIGGER,),
        ).scalar()
    if trigger is None:
        yield
        return
    last = conn.exec_driver_sql("SELECT coalesce(max(id), 0) FROM customers").scalar()
    conn.exec_driver_sql(f"DROP TRIGGER {INSERT_TRIGGER}")
    yield
    conn.exec_driver_sql(
        f"INSERT INTO {INDEX} (rowid, name, email, company) "  # noqa: S608 - our names
        "SELECT id, name, email, company FROM customers WHERE id > ?",
        (last,),
    )
    conn.exec_driver_sql(trigger)
