"""`keepwell import orders`: order history from a shop, invoicing or payments export.

Each row is one order: who (customer id or e-mail), when, how much; optionally an
order id, currency, quantity, product. Rows without an order id get a deterministic
key from their content (and how many identical rows came before in the file), so
importing the same file twice adds nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import repeat
from pathlib import Path
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from keepwell import clock
from keepwell.customers import derived
from keepwell.customers.models import Customer
from keepwell.db import driver_sql, store_timestamp, table_of
from keepwell.ingest.csvfile import MAX_FIELD_CHARS, FieldSpec, open_csv
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
from keepwell.ingest.orders_fast import FreshCustomers, NotFast, fast_path_refusal, import_fast
from keepwell.ingest.parsing import (
    MAX_AMOUNT_MINOR,
    CellError,
    DateParser,
    currency_exponent,
    future_limit,
    parse_currency,
    parse_email,
    parse_money,
    parse_quantity,
)
from keepwell.orders.models import Order

ORDER_FIELDS = [
    FieldSpec(
        "order_id",
        (
            "order_id",
            "order",
            "order_number",
            "order_no",
            "order_name",
            "invoice_id",
            "invoice_number",
            "invoice",
            "transaction_id",
            "id",
        ),
    ),
    FieldSpec(
        "customer_id",
        (
            "customer_id",
            "customer",
            "customer_number",
            "customer_no",
            "client_id",
            "client",
            "cust_id",
            "customerid",
            "buyer_id",
            "user_id",
            "account_id",
        ),
    ),
    FieldSpec(
        "customer_email", ("email", "customer_email", "e_mail", "email_address", "buyer_email")
    ),
    FieldSpec(
        "customer_name",
        ("customer_name", "name", "full_name", "billing_name", "client_name", "buyer_name"),
    ),
    FieldSpec(
        "ordered_at",
        (
            "order_date",
            "date",
            "created_at",
            "order_time",
            "order_datetime",
            "timestamp",
            "purchase_date",
            "transaction_date",
            "paid_at",
            "processed_at",
            "invoice_date",
            "created",
            "datetime",
        ),
        True,
    ),
    FieldSpec(
        "amount",
        (
            "amount",
            "total",
            "order_total",
            "total_price",
            "total_amount",
            "price",
            "value",
            "revenue",
            "sales",
            "grand_total",
            "gross_sales",
            "net_sales",
            "subtotal",
        ),
        True,
    ),
    FieldSpec("currency", ("currency", "currency_code")),
    FieldSpec("quantity", ("quantity", "qty", "items", "units", "item_count", "lineitem_quantity")),
    FieldSpec(
        "product",
        (
            "product",
            "product_name",
            "item",
            "item_name",
            "sku",
            "lineitem_name",
            "product_title",
            "title",
        ),
    ),
    FieldSpec("description", ("description", "notes", "note", "comment")),
]
ORDER_FIELD_NAMES = [spec.name for spec in ORDER_FIELDS]
CACHE_LIMIT = 300_000


class OrderRow(NamedTuple):
    """One parsed row (the careful path; the fast path keeps rows as columns)."""

    line: int
    raw: list[str]
    key: str
    customer: str  # customer id, or e-mail when the file has no customer id column
    customer_name: str
    customer_email: str | None
    ordered_at: datetime
    amount_minor: int
    currency: str
    quantity: int
    product: str | None
    description: str | None


@dataclass
class Columns:
    """A batch of parsed rows, column by column (cheap to build, filter and write)."""

    lines: list[int] = field(default_factory=list)
    raw: list[list[str]] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    customers: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    emails: list[str | None] = field(default_factory=list)
    times: list[datetime] = field(default_factory=list)
    amounts: list[int] = field(default_factory=list)
    currencies: list[str] = field(default_factory=list)
    quantities: list[int] = field(default_factory=list)
    products: list[str | None] = field(default_factory=list)
    notes: list[str | None] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.lines)

    def add(self, row: OrderRow) -> None:
        for name, value in zip(_COLUMN_OF, row, strict=True):
            getattr(self, name).append(value)

    def without(self, drop: set[int]) -> Columns:
        """The batch less the rows at the indices in `drop`."""
        if not drop:
            return self
        keep = [i for i in range(len(self.lines)) if i not in drop]
        return Columns(**{name: [getattr(self, name)[i] for i in keep] for name in _COLUMN_OF})


_COLUMN_OF = (
    "lines",
    "raw",
    "keys",
    "customers",
    "names",
    "emails",
    "times",
    "amounts",
    "currencies",
    "quantities",
    "products",
    "notes",
)


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
        self.ids_seen = SeenKeys()
        self.occurrences = Occurrences()
        self.customer_ids: dict[str, int] = {}
        self.erased: set[str] = set()  # keys of customers erased on request
        self.time_cache: dict[str, datetime | None] = {}
        self.amount_cache: dict[str, int | None] = {}
        self.quantity_cache: dict[str, int | None] = {}
        self.email_cache: dict[str, str | None] = {}
        self.stored_times: dict[datetime, Any] = {}
        self.by_email = "customer_id" not in self.source.columns
        self.explicit = "order_id" in self.source.columns
        orders = table_of(Order)
        self.had_orders = _has_rows(conn, orders)
        self.had_customers = _has_rows(conn, table_of(Customer))
        self.next_customer_id = self._first_free_customer_id()
        self.fresh: FreshCustomers | None = None  # met first by the fast path, not yet written
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
        if fast_path_refusal(self) is not None:
            return False
        savepoint = self.conn.begin_nested()
        try:
            self.fresh = import_fast(self)
        except NotFast:
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
            yield self.parse_batch(lines, rows)
            if self.progress is not None:
                self.progress(self.source.bytes_read(), self.source.size)

    def parse_batch(self, lines: list[int], rows: list[list[str]]) -> Columns:
        """Parse a batch column by column through caches (exports repeat dates, amounts
        and quantities a lot). Rows a fast path refuses go through `parse`, which
        accepts them or says precisely what is wrong."""
        batch = Columns()
        if not rows:
            return batch
        cols = self.source.columns
        width = len(self.source.header)
        column = (
            list(zip(*rows, strict=True))
            if all(len(row) == width for row in rows)
            else None
        )
        if (
            column is None
            or "currency" in cols
            or any(max(map(len, column[index])) > MAX_FIELD_CHARS for index in cols.values())
        ):
            for line, row in zip(lines, rows, strict=True):
                parsed = self.parse(line, row)
                if parsed is not None:
                    batch.add(parsed)
            return batch
        n = len(rows)
        nothing: list[str | None] = [None] * n
        times = _mapped(column[cols["ordered_at"]], self.time_cache, self._time_or_none)
        amounts = _mapped(column[cols["amount"]], self.amount_cache, self._amount_or_none)
        quantities: list[int | None] = (
            _mapped(column[cols["quantity"]], self.quantity_cache, _quantity_or_none)
            if "quantity" in cols
            else [1] * n
        )
        emails: list[str | None] = (
            _mapped(column[cols["customer_email"]], self.email_cache, _email_or_none)
            if "customer_email" in cols
            else [""] * n
        )
        customers: list[str] = (
            [e or "" for e in emails]
            if self.by_email
            else [c.strip() for c in column[cols["customer_id"]]]
        )
        keys = [k.strip() for k in column[cols["order_id"]]] if self.explicit else [""] * n
        bad: set[int] = set()
        if (
            None in times
            or None in amounts
            or None in quantities
            or None in emails
            or "" in customers
            or max(map(len, customers)) > 200
            or (self.explicit and ("" in keys or max(map(len, keys)) > 200))
        ):
            bad = {
                i
                for i in range(n)
                if times[i] is None
                or amounts[i] is None
                or quantities[i] is None
                or emails[i] is None
                or not customers[i]
                or len(customers[i]) > 200
                or (self.explicit and not 0 < len(keys[i]) <= 200)
            }
        batch.lines = lines
        batch.raw = rows
        batch.keys = keys
        batch.customers = customers
        batch.names = (
            [c.strip()[:300] for c in column[cols["customer_name"]]]
            if "customer_name" in cols
            else [""] * n
        )
        batch.emails = [e or None for e in emails]
        batch.times = times
        batch.amounts = amounts
        batch.currencies = [self.options.currency] * n
        batch.quantities = quantities  # type: ignore[assignment]
        batch.products = (
            [p.strip()[:300] or None for p in column[cols["product"]]]
            if "product" in cols
            else nothing
        )
        batch.notes = (
            [d.strip() or None for d in column[cols["description"]]]
            if "description" in cols
            else nothing[:]
        )
        if bad:
            careful = [self.parse(lines[i], rows[i]) for i in sorted(bad)]
            batch = batch.without(bad)
            for parsed in careful:
                if parsed is not None:
                    batch.add(parsed)
        return batch

    def _time_or_none(self, text: str) -> datetime | None:
        try:
            return self.dates.timestamp(text)
        except CellError:
            return None

    def _amount_or_none(self, text: str) -> int | None:
        try:
            amount, found = parse_money(text, currency_exponent(self.options.currency))
        except CellError:
            return None
        if found not in (None, self.options.currency) or not 0 <= amount <= MAX_AMOUNT_MINOR:
            return None
        return amount

    def parse(self, line: int, row: list[str]) -> OrderRow | None:
        """Parse one row with every check, naming the first cell that fails."""
        state = self.state
        cols = self.source.columns
        if len(row) != len(self.source.header):
            state.width_error(line, row)
            return None
        if state.oversized(line, row):
            return None
        field_name = ""
        try:
            field_name = "ordered_at"
            ordered_at = self.dates.timestamp(row[cols["ordered_at"]])
            currency = self.options.currency
            if "currency" in cols and row[cols["currency"]].strip():
                field_name = "currency"
                currency = parse_currency(row[cols["currency"]])
            field_name = "amount"
            amount, found = parse_money(row[cols["amount"]], currency_exponent(currency))
            if found is not None and found != currency:
                if "currency" in cols and row[cols["currency"]].strip():
                    raise CellError(f"amount is in {found} but the currency column says {currency}")
                currency = found
            if amount < 0:
                raise CellError(f"negative amount {row[cols['amount']]!r} (refunds are not orders)")
            if amount > MAX_AMOUNT_MINOR:
                raise CellError(f"implausibly large amount {row[cols['amount']]!r}")
            quantity = 1
            if "quantity" in cols and row[cols["quantity"]].strip():
                field_name = "quantity"
                quantity = parse_quantity(row[cols["quantity"]])
            email: str | None = None
            if "customer_email" in cols and row[cols["customer_email"]].strip():
                field_name = "customer_email"
                email = parse_email(row[cols["customer_email"]])
            if self.by_email:
                field_name = "customer_email"
                if email is None:
                    raise CellError("the customer's e-mail is empty")
                customer = email
            else:
                field_name = "customer_id"
                customer = row[cols["customer_id"]].strip()
                if not customer:
                    raise CellError("the customer id is empty")
                if len(customer) > 200:
                    raise CellError("the customer id is longer than 200 characters")
            key = ""
            if self.explicit:
                field_name = "order_id"
                key = row[cols["order_id"]].strip()
                if not key:
                    raise CellError("the order id is empty")
                if len(key) > 200:
                    raise CellError("the order id is longer than 200 characters")
        except CellError as exc:
            state.reject(line, row, field_name, str(exc))
            return None
        product = row[cols["product"]].strip()[:300] or None if "product" in cols else None
        description = row[cols["description"]].strip() or None if "description" in cols else None
        name = row[cols["customer_name"]].strip()[:300] if "customer_name" in cols else ""
        return OrderRow(
            line,
            row,
            key,
            customer,
            name,
            email,
            ordered_at,
            amount,
            currency,
            quantity,
            product,
            description,
        )

    # -- writing -------------------------------------------------------------------

    def flush(self, batch: Columns) -> None:
        if not batch:
            return
        batch = self.assign_keys(batch)
        batch = self.resolve_customers(batch)
        if not self.state.writing or not batch:
            return
        known = self.customer_ids
        cids = [known[c] for c in batch.customers]
        at = _mapped(batch.times, self.stored_times, self.store_ts)
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


def _mapped(column: Sequence[Any], cache: dict[Any, Any], parse: Callable[[Any], Any]) -> list[Any]:
    """`[parse(x) for x in column]`, parsing each distinct value once."""
    missing = set(column).difference(cache)
    if missing:
        if len(cache) + len(missing) > CACHE_LIMIT:
            cache.clear()
            missing = set(column)
        for text in missing:
            cache[text] = parse(text)
    return [cache[text] for text in column]


def _quantity_or_none(text: str) -> int | None:
    if not text.strip():
        return 1
    try:
        return parse_quantity(text)
    except CellError:
        return None


def _email_or_none(text: str) -> str | None:
    """The address, "" for an empty cell, None for one that is not an address."""
    if not text.strip():
        return ""
    try:
        return parse_email(text)
    except CellError:
        return None
