"""`keepwell import orders`: order history from a shop, invoicing or payments export.

Each row is one order: who (customer id or e-mail), when, how much; optionally an
order id, currency, quantity, product. Rows without an order id get a deterministic
key from their content (and how many identical rows came before in the file), so
importing the same file twice adds nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from datetime import datetime
from itertools import repeat
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from keepwell import clock
from keepwell.customers import derived
from keepwell.customers.models import Customer
from keepwell.db import driver_sql, store_timestamp, table_of
from keepwell.ingest import orders_fast
from keepwell.ingest.csvfile import open_csv
from keepwell.ingest.importer import (
    ImportOptions,
    ImportRunState,
    ImportSummary,
    Progress,
    chunks,
    pipelined,
    run_import,
    sort_threads,
)
from keepwell.ingest.ledger import Occurrences, SeenKeys
from keepwell.ingest.order_rows import (
    ORDER_FIELDS,
    Columns,
    RowParser,
    cached_map,
)
from keepwell.ingest.parsing import (
    DateParser,
    future_limit,
)
from keepwell.orders.models import Order


def import_orders(
    engine: sa.Engine,
    path: Path,
    options: ImportOptions | None = None,
    progress: Progress | None = None,
) -> ImportSummary:
    options = options or ImportOptions()
    with open_csv(
        path,
        ORDER_FIELDS,
        mapping=options.mapping,
        encoding=options.encoding,
        alternatives=[("customer_id", "customer_email")],
    ) as source:

        def body(conn: Connection, state: ImportRunState, run_id: int) -> None:
            _OrdersImport(conn, state, run_id, progress).run()

        return run_import(engine, "orders", source, options, body, bulk=True)


class _OrdersImport:
    def __init__(
        self, conn: Connection, state: ImportRunState, run_id: int, progress: Progress | None
    ) -> None:
        self.conn = conn
        self.state = state
        self.source = state.source
        self.run_id = run_id
        self.progress = progress
        self.options = state.options
        self.summary = state.summary
        self.now = clock.now()
        self.store_ts = store_timestamp(conn)
        self.stored_now = self.store_ts(self.now)
        self.dates = DateParser(self.options.date_format, future_limit(self.now))
        self.rows = RowParser(state, self.dates)
        self.ids_seen = SeenKeys()
        self.occurrences = Occurrences()
        self.customer_ids: dict[str, int] = {}
        self.erased: set[str] = set()  # keys of customers erased on request
        self.stored_times: dict[datetime, Any] = {}
        self.by_email = "customer_id" not in self.source.columns
        self.explicit = "order_id" in self.source.columns
        orders = table_of(Order)
        self.had_orders = _has_rows(conn, orders)
        self.had_customers = _has_rows(conn, table_of(Customer))
        self.next_customer_id = self._first_free_customer_id()
        # customers met first by the fast path, not yet written
        self.fresh: orders_fast.FreshCustomers | None = None
        self.customer_sql = ""
        if conn.dialect.name == "sqlite":
            stamp = str(self.stored_now)
            assert all(c in "0123456789-:. " for c in stamp)  # a literal of our own making
            self.customer_sql = (
                "INSERT INTO customers (id, external_id, name, email, tags, "  # noqa: S608
                "marketing_consent, created_at, updated_at, version) "
                f"VALUES (?, ?, ?, ?, '[]', 0, '{stamp}', '{stamp}', 1)"
            )
        self.insert_sql = driver_sql(
            conn,
            "INSERT INTO orders (external_id, customer_id, ordered_at, amount_minor, currency, "
            "quantity, product, description, import_id, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        self.update_sql = driver_sql(
            conn,
            "UPDATE orders SET customer_id = ?, ordered_at = ?, amount_minor = ?, currency = ?, "
            "quantity = ?, product = ?, description = ?, import_id = ? WHERE external_id = ?",
        )

    def run(self) -> None:
        orders_indexes = self._defer_indexes(table_of(Order), self.had_orders)
        customers_indexes = self._defer_indexes(table_of(Customer), self.had_customers)
        if not self._fast_path():
            pipelined(self.parsed_batches(), self.flush)
        with sort_threads(self.conn):
            for index in orders_indexes:
                index.create(self.conn)
            if self.state.writing:
                self.settle_customers()
            for index in customers_indexes:
                index.create(self.conn)

    def _fast_path(self) -> bool:
        """Try the columnar path (see orders_fast); on any doubt, undo it and say no."""
        if orders_fast.fast_path_refusal(self) is not None:
            return False
        savepoint = self.conn.begin_nested()
        try:
            self.fresh = orders_fast.import_fast(self)
        except orders_fast.NotFast:
            savepoint.rollback()
            summary = self.summary
            summary.added = summary.updated = summary.unchanged = summary.customers_added = 0
            self.customer_ids.clear()
            self.next_customer_id = self._first_free_customer_id()
            return False
        savepoint.commit()
        self.summary.fast_path = True
        return True

    def _first_free_customer_id(self) -> int:
        """On SQLite the import holds the only write lock and numbers new customers itself."""
        if self.conn.dialect.name != "sqlite":
            return 0
        return 1 + (
            self.conn.execute(sa.select(sa.func.max(table_of(Customer).c.id))).scalar() or 0
        )

    def _defer_indexes(self, table: sa.Table, had_rows: bool) -> list[sa.Index]:
        """Loading an empty SQLite table, build its secondary indexes once at the end
        instead of row by row: the same indexes, several times faster. Readers keep the
        old schema until the transaction commits. (Unique ones stay: they guard ids.)"""
        if had_rows or self.conn.dialect.name != "sqlite":
            return []
        deferred = [index for index in table.indexes if not index.unique]
        for index in deferred:
            index.drop(self.conn)
        return deferred

    # -- parsing -------------------------------------------------------------------

    def parsed_batches(self) -> Iterator[Columns]:
        for lines, rows in self.source.batches(self.options.batch_rows):
            yield self.rows.parse_batch(lines, rows)
            if self.progress is not None:
                self.progress(self.source.bytes_read(), self.source.size)

    def flush(self, batch: Columns) -> None:
        if not batch:
            return
        batch = self.assign_keys(batch)
        batch = self.resolve_customers(batch)
        if not self.state.writing or not batch:
            return
        known = self.customer_ids
        cids = [known[c] for c in batch.customers]
        at = cached_map(batch.times, self.stored_times, self.store_ts)
        new = list(
            zip(
                batch.keys,
                cids,
                at,
                batch.amounts,
                batch.currencies,
                batch.quantities,
                batch.products,
                batch.notes,
                repeat(self.run_id),
                repeat(self.stored_now),
                strict=False,
            )
        )
        if self.had_orders:
            new = self.split_existing(new)
        if new:
            self.conn.exec_driver_sql(self.insert_sql, new)
            self.summary.added += len(new)

    def split_existing(self, rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        """Update the orders that exist and changed; count the unchanged; return the new."""
        existing = self.existing_orders([r[0] for r in rows])
        new: list[tuple[Any, ...]] = []
        updates: list[tuple[Any, ...]] = []
        for r in rows:
            old = existing.get(r[0])
            if old is None:
                new.append(r)
            elif old != r[1:8]:
                updates.append((*r[1:8], self.run_id, r[0]))
        self.summary.unchanged += len(rows) - len(new) - len(updates)
        if updates:
            self.conn.exec_driver_sql(self.update_sql, updates)
            self.summary.updated += len(updates)
        return new

    def existing_orders(self, keys: list[str]) -> dict[str, tuple[Any, ...]]:
        """The stored values of the orders with these keys, as the driver returns them."""
        found: dict[str, tuple[Any, ...]] = {}
        for part in chunks(keys):
            marks = ", ".join("?" * len(part))  # placeholders only: values are bound
            columns = (
                "customer_id, ordered_at, amount_minor, currency, quantity, product, description"
            )
            sql = driver_sql(
                self.conn,
                f"SELECT external_id, {columns} FROM orders WHERE external_id IN ({marks})",  # noqa: S608
            )
            for row in self.conn.exec_driver_sql(sql, tuple(part)):
                found[row[0]] = tuple(row[1:])
        return found

    def assign_keys(self, batch: Columns) -> Columns:
        """Check order ids are unique in the file; give rows without one a content key."""
        if self.explicit:
            hashes = [hash(k) for k in batch.keys]  # one run's own memory: hash() will do
            before = self.ids_seen.contains(hashes)
            self.ids_seen.add(hashes)
            if not before.any() and len(set(hashes)) == len(hashes):
                return batch
            seen: set[int] = set()
            drop: set[int] = set()
            for i, (h, was) in enumerate(zip(hashes, before.tolist(), strict=True)):
                if was or h in seen:
                    key = batch.keys[i]
                    self.state.reject(
                        batch.lines[i],
                        batch.raw[i],
                        "order_id",
                        f"order id {key!r} appears twice in the file",
                    )
                    drop.add(i)
                seen.add(h)
            return batch.without(drop)
        contents = [
            f"{c}|{t.isoformat()}|{a}|{cur}|{q}|{p or ''}"
            for c, t, a, cur, q, p in zip(
                batch.customers,
                batch.times,
                batch.amounts,
                batch.currencies,
                batch.quantities,
                batch.products,
                strict=True,
            )
        ]
        digests = [hashlib.blake2b(c.encode(), digest_size=16).hexdigest() for c in contents]
        numbers = self.occurrences.number([hash(d) for d in digests])
        batch.keys = [
            f"row:{d}:{n}" if n else f"row:{d}" for d, n in zip(digests, numbers, strict=True)
        ]
        return batch

    def resolve_customers(self, batch: Columns) -> Columns:
        """Map each row's customer to an id, creating unknown customers if allowed."""
        known = self.customer_ids
        missing = set(batch.customers).difference(known)
        if not missing:
            return batch
        if self.had_customers:
            known.update(self.lookup_customers(list(missing)))
        new = [k for k in missing if k not in known]
        if not new:
            return batch
        batch = self.refuse_erased(batch, new)
        new = [k for k in new if k not in self.erased]
        if self.options.create_customers:
            if self.state.writing:
                wanted = set(new)
                details: dict[str, tuple[str, str | None]] = {}
                for key, name, email in zip(
                    batch.customers, batch.names, batch.emails, strict=True
                ):
                    if key in wanted and key not in details:
                        details[key] = (name, email)
                known.update(self.create_customers(details))
            return batch
        unknown = set(new)
        column = "customer_email" if self.by_email else "customer_id"
        drop = set()
        for i, customer in enumerate(batch.customers):
            if customer in unknown:
                self.state.reject(
                    batch.lines[i],
                    batch.raw[i],
                    column,
                    f"unknown customer {customer!r} (import customers first, or leave out "
                    "--no-create-customers)",
                )
                drop.add(i)
        return batch.without(drop)

    def refuse_erased(self, batch: Columns, keys: list[str]) -> Columns:
        """Rows of customers who were erased at their request stay out (unless allowed)."""
        if not self.had_customers or self.options.allow_erased:
            return batch
        from keepwell.customers.privacy import erased_keys

        erased = erased_keys(self.conn, keys)
        if not erased:
            return batch
        self.erased.update(erased)
        column = "customer_email" if self.by_email else "customer_id"
        drop = set()
        for i, customer in enumerate(batch.customers):
            if customer in erased:
                self.state.reject(
                    batch.lines[i], batch.raw[i], column,
                    f"customer {customer!r} was erased at their request; leave the row out, or "
                    "pass --allow-erased to import them again as a new customer",
                )  # fmt: skip
                drop.add(i)
        return batch.without(drop)

    def lookup_customers(self, keys: list[str]) -> dict[str, int]:
        column = "email" if self.by_email else "external_id"
        found: dict[str, int] = {}
        for part in chunks(keys):
            marks = ", ".join("?" * len(part))  # placeholders only: values are bound
            sql = driver_sql(
                self.conn,
                f"SELECT {column}, id FROM customers WHERE {column} IN ({marks}) ORDER BY id",  # noqa: S608
            )
            for key, customer_id in self.conn.exec_driver_sql(sql, tuple(part)):
                found.setdefault(key, customer_id)
        return found

    def create_customers(self, details: dict[str, tuple[str, str | None]]) -> dict[str, int]:
        """Add customers first seen in this file (key -> name, e-mail); returns their ids."""
        self.summary.customers_added += len(details)
        if not self.next_customer_id:
            return self._insert_returning_ids(details)
        first = self.next_customer_id
        self.next_customer_id += len(details)
        ids = range(first, first + len(details))
        rows = [
            (cid, None if self.by_email else key, name, email)
            for cid, (key, (name, email)) in zip(ids, details.items(), strict=True)
        ]
        self.conn.exec_driver_sql(self.customer_sql, rows)
        return dict(zip(details, ids, strict=True))

    def _insert_returning_ids(self, details: dict[str, tuple[str, str | None]]) -> dict[str, int]:
        """PostgreSQL numbers new rows itself (other writers may be at work meanwhile)."""
        table = table_of(Customer)
        values: list[dict[str, Any]] = [
            {
                "external_id": None if self.by_email else key,
                "name": name,
                "email": email,
                "tags": [],
                "marketing_consent": False,
                "created_at": self.now,
                "updated_at": self.now,
                "version": 1,
            }
            for key, (name, email) in details.items()
        ]
        result = self.conn.execute(
            sa.insert(table).returning(table.c.id, sort_by_parameter_order=True), values
        )
        return dict(zip(details, result.scalars(), strict=True))

    def settle_customers(self) -> None:
        """Bring the derived columns of this file's customers up to date: first seen at
        their earliest order (unless known earlier), order count, revenue, next check-in.
        (The fast path writes the customers it met first with theirs already computed.)"""
        ids: Iterable[int] = self.customer_ids.values()
        if self.fresh is not None:
            self.fresh.write()
            ids = [i for i in ids if not self.fresh.covers(i)]
        derived.refresh(self.conn, ids)


def _has_rows(conn: Connection, table: sa.Table) -> bool:
    return conn.execute(sa.select(sa.literal(1)).select_from(table).limit(1)).first() is not None
