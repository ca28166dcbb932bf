"""`keepwell import orders`: order history from a shop, invoicing or payments export.

Each row is one order: who (customer id or e-mail), when, how much; optionally an
order id, currency, quantity, product. Rows without an order id get a deterministic
key from their content (and how many identical rows came before in the file), so
importing the same file twice adds nothing.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from keepwell import clock
from keepwell.customers.models import Customer
from keepwell.db import driver_sql, store_timestamp, table_of
from keepwell.ingest.csvfile import FieldSpec, open_csv
from keepwell.ingest.importer import (
    ImportOptions,
    ImportRunState,
    ImportSummary,
    Progress,
    chunks,
    run_import,
)
from keepwell.ingest.ledger import Occurrences, SeenKeys, key_hash
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
_EMAIL_OK = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$").match


class OrderRow(NamedTuple):
    line: int
    raw: list[str]
    key: str  # order id, or the content key
    explicit: bool  # whether the key is the source's own order id
    customer: str  # customer id, or e-mail when the file has no customer id
    customer_name: str
    customer_email: str | None
    ordered_at: datetime
    amount_minor: int
    currency: str
    quantity: int
    product: str | None
    description: str | None


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

        return run_import(engine, "orders", source, options, body)


class _OrdersImport:
    def __init__(
        self, conn: Connection, state: ImportRunState, run_id: int, progress: Progress | None
    ) -> None:
        self.conn = conn
        self.state = state
        self.run_id = run_id
        self.progress = progress
        self.options = state.options
        self.summary = state.summary
        self.now = clock.now()
        self.stored_now = store_timestamp(conn)(self.now)
        self.store_ts = store_timestamp(conn)
        self.dates = DateParser(self.options.date_format, future_limit(self.now))
        self.ids_seen = SeenKeys()
        self.occurrences = Occurrences()
        self.customer_ids: dict[str, int] = {}
        self.time_cache: dict[str, datetime | None] = {}
        self.amount_cache: dict[str, int | None] = {}
        self.quantity_cache: dict[str, int | None] = {}
        self.stored_times: dict[datetime, Any] = {}
        self.first_order: dict[int, datetime] = {}
        self.by_email = "customer_id" not in state.source.columns
        orders = table_of(Order)
        self.had_orders = conn.execute(
            sa.select(sa.literal(1)).select_from(orders).limit(1)
        ).first()
        self.insert_sql = driver_sql(
            conn,
            "INSERT INTO orders (external_id, customer_id, ordered_at, amount_minor, currency, "
            "quantity, product, description, import_id, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        self.customer_sql = driver_sql(
            conn,
            "INSERT INTO customers (external_id, name, email, tags, marketing_consent, "
            "created_at, updated_at, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        self.update_sql = driver_sql(
            conn,
            "UPDATE orders SET customer_id = ?, ordered_at = ?, amount_minor = ?, currency = ?, "
            "quantity = ?, product = ?, description = ?, import_id = ? WHERE external_id = ?",
        )

    # -- parsing -------------------------------------------------------------------

    def run(self) -> None:
        size = self.options.batch_rows
        lines: list[int] = []
        rows: list[list[str]] = []
        for line, row in self.source:
            lines.append(line)
            rows.append(row)
            if len(rows) >= size:
                self.flush(self.parse_batch(lines, rows))
                lines, rows = [], []
        self.flush(self.parse_batch(lines, rows))
        if self.state.writing:
            self.settle_first_seen()

    @property
    def source(self) -> Any:
        return self.state.source

    def parse_batch(self, lines: list[int], rows: list[list[str]]) -> list[OrderRow]:
        """Parse a batch column by column through caches (exports repeat dates, amounts
        and quantities a lot); a row any fast path refuses goes through `parse`, which
        accepts it or says precisely what is wrong."""
        if not rows:
            return []
        cols = self.source.columns
        width = len(self.source.header)
        simple = "currency" not in cols and all(len(row) == width for row in rows)
        if not simple:
            each = (self.parse(line, row) for line, row in zip(lines, rows, strict=True))
            return [r for r in each if r is not None]
        columns = list(zip(*rows, strict=True))
        n = len(rows)
        times = self._mapped(columns[cols["ordered_at"]], self.time_cache, self._time_or_none)
        amounts = self._mapped(columns[cols["amount"]], self.amount_cache, self._amount_or_none)
        if "quantity" in cols:
            quantities = self._mapped(
                columns[cols["quantity"]], self.quantity_cache, self._quantity_or_none
            )
        else:
            quantities = [1] * n
        if self.by_email:
            customers: list[str] = [""] * n  # the slow path handles e-mail keys
        else:
            customers = [c.strip() for c in columns[cols["customer_id"]]]
        emails: list[str | None] = [None] * n
        if "customer_email" in cols:
            emails = [e.strip().lower() or None for e in columns[cols["customer_email"]]]
        names = (
            [c.strip()[:300] for c in columns[cols["customer_name"]]]
            if "customer_name" in cols
            else [""] * n
        )
        keys = [k.strip() for k in columns[cols["order_id"]]] if "order_id" in cols else [""] * n
        products = (
            [p.strip()[:300] or None for p in columns[cols["product"]]]
            if "product" in cols
            else [None] * n
        )
        notes = (
            [d.strip() or None for d in columns[cols["description"]]]
            if "description" in cols
            else [None] * n
        )
        currency = self.options.currency
        out: list[OrderRow] = []
        for i in range(n):
            when, amount, quantity, customer = times[i], amounts[i], quantities[i], customers[i]
            email = emails[i]
            if (
                when is None
                or amount is None
                or quantity is None
                or not customer
                or len(customer) > 200
                or len(keys[i]) > 200
                or (email is not None and not _EMAIL_OK(email))
            ):
                parsed = self.parse(lines[i], rows[i])
                if parsed is not None:
                    out.append(parsed)
                continue
            out.append(
                OrderRow(
                    lines[i],
                    rows[i],
                    keys[i],
                    bool(keys[i]),
                    customer,
                    names[i],
                    email,
                    when,
                    amount,
                    currency,
                    quantity,
                    products[i],
                    notes[i],
                )
            )
        return out

    @staticmethod
    def _mapped(column: tuple[str, ...], cache: dict[str, Any], parse: Any) -> list[Any]:
        missing = set(column).difference(cache)
        if missing:
            if len(cache) + len(missing) > CACHE_LIMIT:
                cache.clear()
                missing = set(column)
            for text in missing:
                cache[text] = parse(text)
        return [cache[text] for text in column]

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

    @staticmethod
    def _quantity_or_none(text: str) -> int | None:
        if not text.strip():
            return 1
        try:
            return parse_quantity(text)
        except CellError:
            return None

    def parse(self, line: int, row: list[str]) -> OrderRow | None:
        state = self.state
        cols = self.source.columns
        if len(row) != len(self.source.header):
            state.width_error(line, row)
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
            product = row[cols["product"]].strip()[:300] or None if "product" in cols else None
            description = (
                row[cols["description"]].strip() or None if "description" in cols else None
            )
            name = row[cols["customer_name"]].strip()[:300] if "customer_name" in cols else ""
            key = row[cols["order_id"]].strip() if "order_id" in cols else ""
            if "order_id" in cols and len(key) > 200:
                field_name = "order_id"
                raise CellError("the order id is longer than 200 characters")
        except CellError as exc:
            state.reject(line, row, field_name, str(exc))
            return None
        return OrderRow(
            line,
            row,
            key,
            bool(key),
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

    def flush(self, batch: list[OrderRow]) -> None:
        if self.progress is not None:
            self.progress(self.source.bytes_read(), self.source.size)
        if not batch:
            return
        batch = self.assign_keys(batch)
        customer_ids = self.resolve_customers(batch)
        existing = self.existing_orders([r.key for r in batch]) if self.had_orders else {}
        if not self.state.writing:
            return
        stored = self.stored_times
        store_ts, run_id, now = self.store_ts, self.run_id, self.stored_now
        inserts: list[tuple[Any, ...]] = []
        updates: list[tuple[Any, ...]] = []
        first = self.first_order
        summary = self.summary
        for r in batch:
            customer_id = customer_ids.get(r.customer)
            if customer_id is None:
                continue  # rejected in resolve_customers
            when = r.ordered_at
            at = stored.get(when)
            if at is None:
                if len(stored) > CACHE_LIMIT:
                    stored.clear()
                at = stored[when] = store_ts(when)
            old = existing.get(r.key)
            if old is None:
                inserts.append(
                    (
                        r.key,
                        customer_id,
                        at,
                        r.amount_minor,
                        r.currency,
                        r.quantity,
                        r.product,
                        r.description,
                        run_id,
                        now,
                    )
                )
            elif old != (
                customer_id,
                when,
                r.amount_minor,
                r.currency,
                r.quantity,
                r.product,
                r.description,
            ):
                updates.append(
                    (
                        customer_id,
                        at,
                        r.amount_minor,
                        r.currency,
                        r.quantity,
                        r.product,
                        r.description,
                        run_id,
                        r.key,
                    )
                )
            else:
                summary.unchanged += 1
            seen = first.get(customer_id)
            if seen is None or when < seen:
                first[customer_id] = when
        if inserts:
            self.conn.exec_driver_sql(self.insert_sql, inserts)
            summary.added += len(inserts)
        if updates:
            self.conn.exec_driver_sql(self.update_sql, updates)
            summary.updated += len(updates)

    def assign_keys(self, batch: list[OrderRow]) -> list[OrderRow]:
        """Check order ids are unique in the file; give rows without one a content key."""
        explicit = [r for r in batch if r.explicit]
        keep: list[OrderRow] = []
        if explicit:
            hashes = [key_hash(r.key) for r in explicit]
            before = self.ids_seen.contains(hashes).tolist()
            in_batch: set[int] = set()
            bad: set[int] = set()
            for r, h, dup in zip(explicit, hashes, before, strict=True):
                if dup or h in in_batch:
                    self.state.reject(
                        r.line, r.raw, "order_id", f"order id {r.key!r} appears twice in the file"
                    )
                    bad.add(r.line)
                in_batch.add(h)
            self.ids_seen.add(hashes)
            keep = [r for r in explicit if r.line not in bad]
        implicit = [r for r in batch if not r.explicit]
        if implicit:
            contents = [
                f"{r.customer}|{r.ordered_at.isoformat()}|{r.amount_minor}|{r.currency}|"
                f"{r.quantity}|{r.product or ''}"
                for r in implicit
            ]
            digests = [hashlib.blake2b(c.encode(), digest_size=16).digest() for c in contents]
            numbers = self.occurrences.number([int.from_bytes(d[:8], "little") for d in digests])
            for r, d, n in zip(implicit, digests, numbers, strict=True):
                key = f"row:{d.hex()}" + (f":{n}" if n else "")
                keep.append(r._replace(key=key))
        return keep

    def resolve_customers(self, batch: list[OrderRow]) -> dict[str, int]:
        """Map each row's customer to its id, creating unknown customers if allowed."""
        known = self.customer_ids
        missing = list({r.customer for r in batch if r.customer not in known})
        if missing:
            known.update(self.lookup_customers(missing))
            new = [k for k in missing if k not in known]
            if new and self.options.create_customers and self.state.writing:
                self.create_customers(new, batch)
                known.update(self.lookup_customers(new))
        if not self.options.create_customers or not self.state.writing:
            for r in batch:
                if r.customer not in known and self.options.create_customers is False:
                    field_name = "customer_email" if self.by_email else "customer_id"
                    self.state.reject(
                        r.line,
                        r.raw,
                        field_name,
                        f"unknown customer {r.customer!r} (import customers first, or "
                        "leave out --no-create-customers)",
                    )
        return known

    def lookup_customers(self, keys: list[str]) -> dict[str, int]:
        table = table_of(Customer)
        column = table.c.email if self.by_email else table.c.external_id
        found: dict[str, int] = {}
        for part in chunks(keys):
            query = sa.select(column, table.c.id).where(column.in_(part)).order_by(table.c.id)
            for key, customer_id in self.conn.execute(query):
                found.setdefault(key, customer_id)
        return found

    def create_customers(self, keys: list[str], batch: list[OrderRow]) -> None:
        details = {r.customer: r for r in batch}
        now = self.stored_now
        rows = [
            (
                None if self.by_email else key,
                details[key].customer_name,
                details[key].customer_email,
                "[]",
                False,
                now,
                now,
                1,
            )
            for key in keys
        ]
        self.conn.exec_driver_sql(self.customer_sql, rows)
        self.summary.customers_added += len(rows)

    def existing_orders(self, keys: list[str]) -> dict[str, tuple[Any, ...]]:
        t = table_of(Order)
        columns = (
            t.c.customer_id,
            t.c.ordered_at,
            t.c.amount_minor,
            t.c.currency,
            t.c.quantity,
            t.c.product,
            t.c.description,
        )
        found: dict[str, tuple[Any, ...]] = {}
        for part in chunks(keys):
            query = sa.select(t.c.external_id, *columns).where(t.c.external_id.in_(part))
            for row in self.conn.execute(query):
                found[row[0]] = tuple(row[1:])
        return found

    def settle_first_seen(self) -> None:
        """A customer is first seen at their earliest order (never later than known)."""
        if not self.first_order:
            return
        stored, store_ts = self.stored_times, self.store_ts
        sql = driver_sql(
            self.conn,
            "UPDATE customers SET first_seen = ? "
            "WHERE id = ? AND (first_seen IS NULL OR first_seen > ?)",
        )
        rows = []
        for cid, ts in self.first_order.items():
            at = stored.get(ts) or store_ts(ts)
            rows.append((at, cid, at))
        for part in chunks(rows, 50_000):
            self.conn.exec_driver_sql(sql, part)
