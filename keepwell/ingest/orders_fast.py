"""The fast path of `keepwell import orders`: a clean export into SQLite.

The first load of a shop's history is the big one, and re-importing a grown export
the most frequent. Here Arrow reads the file and
checks whole columns at once, by the same rules as the careful path (which reads row
by row and names each bad cell). Anything this path does not accept exactly — a
formatted amount, a date that is not plain ISO, a zone offset, an empty cell, an
unknown e-mail shape, an order id seen twice — makes it undo what it wrote and hand
the file to the careful path. A clean file goes fast; a dirty one gets precise errors;
both obey the same rules and give the same result.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import chain, repeat
from typing import TYPE_CHECKING, Any

import numpy as np
import sqlalchemy as sa

from keepwell.customers import derived
from keepwell.ingest.importer import insert_flat, insert_rows, pipelined
from keepwell.ingest.ledger import SeenKeys
from keepwell.ingest.parsing import MAX_AMOUNT_MINOR, MAX_QUANTITY, MIN_YEAR, currency_exponent

if TYPE_CHECKING:
    from keepwell.ingest.orders_import import _OrdersImport

# The subsets of the careful path's formats this path accepts (RE2 syntax).
ISO_TIME = r"^\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)?$"
QUANTITY = r"^\d{1,7}$"
EMAIL = r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$"
BLOCK_BYTES = 1 << 22
# New customers written per pass at the end: their rows as Python objects take memory.
CUSTOMERS_AT_ONCE = 50_000
# Per-customer revenue is summed in int64; a batch adds at most rows × MAX_AMOUNT_MINOR.
REVENUE_LIMIT = (1 << 62) - (1 << 22) * MAX_AMOUNT_MINOR


# A batch ready to write: into an empty table, its rows' values laid end to end in one
# tuple (see importer.insert_flat); into a table with orders, a list of row tuples.
Prepared = tuple[Any, ...] | list[tuple[Any, ...]]


class NotFast(Exception):
    """This file needs the careful path; the message says why."""


def fast_path_refusal(imp: _OrdersImport) -> str | None:
    """Why this import cannot take the fast path, or None if it can."""
    cols = imp.source.columns
    options = imp.options
    reasons = [
        (imp.conn.dialect.name != "sqlite", "not SQLite"),
        (imp.source.encoding not in ("utf-8", "utf-8-sig"), "not UTF-8"),
        ("order_id" not in cols or "customer_id" not in cols, "no order or customer ids"),
        ("currency" in cols, "a currency column"),
        (options.date_format is not None, "a date format"),
        (options.skip_invalid is not None, "--skip-invalid"),
        (not options.create_customers, "--no-create-customers"),
    ]
    for refused, reason in reasons:
        if refused:
            return reason
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return "pyarrow is not installed"
    return None


def import_fast(imp: _OrdersImport) -> FreshCustomers:
    """Import the whole file's orders, or raise NotFast having written what the caller
    undoes. Returns the customers first met in the file, still to be written (see
    FreshCustomers) once the orders' indexes are built."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    source = imp.source
    names = [f"c{i}" for i in range(len(source.header))]
    wanted = {field: names[index] for field, index in source.columns.items()}
    with source.path.open("rb") as raw:
        try:
            reader = pacsv.open_csv(
                raw,
                read_options=pacsv.ReadOptions(
                    column_names=names, skip_rows=source.header_lines, block_size=BLOCK_BYTES
                ),
                parse_options=pacsv.ParseOptions(delimiter=source.delimiter),
                convert_options=pacsv.ConvertOptions(
                    column_types=dict.fromkeys(wanted.values(), pa.string()),
                    include_columns=list(wanted.values()),
                    strings_can_be_null=False,
                    quoted_strings_can_be_null=False,
                ),
            )
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise NotFast(str(exc)) from exc
        batches = _FastBatches(imp, wanted, reader, raw)
        try:
            pipelined(batches.rows(), batches.write)
        except sa.exc.IntegrityError as exc:  # an order id twice in the file
            raise NotFast("a repeated order id") from exc
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise NotFast(str(exc)) from exc
        imp.source.rows_read = batches.rows_read
        return batches.fresh


class FreshCustomers:
    """The customers an import meets for the first time: numbered as they are met, and
    written at the end in one pass with their derived columns (first seen, orders,
    revenue, last order, anniversary, next check-in) computed from the file's orders —
    which are all the orders such a customer has. It gives the same values as
    `customers.derived.refresh` (a test holds it to that), without inserting each
    customer and then updating it."""

    def __init__(self, imp: _OrdersImport) -> None:
        self.imp = imp
        self.first_id = imp.next_customer_id
        self.ids: list[int] = []
        self.keys: list[str] = []
        self.names: list[str] = []
        self.emails: list[str | None] = []
        # per new customer (index: id - first_id): orders, revenue, first and last order
        # (microseconds since the epoch), grown as customers are met
        self.orders = np.zeros(0, np.int64)
        self.revenue = np.zeros(0, np.int64)
        self.first = np.zeros(0, np.int64)
        self.last = np.zeros(0, np.int64)

    def covers(self, customer_id: int) -> bool:
        return customer_id >= self.first_id

    def meet(self, details: dict[str, tuple[str, str | None]]) -> dict[str, int]:
        """Number these new customers (key -> name, e-mail); returns key -> id."""
        imp = self.imp
        first = imp.next_customer_id
        imp.next_customer_id += len(details)
        imp.summary.customers_added += len(details)
        ids = range(first, first + len(details))
        self.ids.extend(ids)
        self.keys.extend(details)
        for name, email in details.values():
            self.names.append(name)
            self.emails.append(email)
        return dict(zip(details, ids, strict=True))

    def count(self, customer_ids: Any, amounts: Any, when: Any) -> None:
        """Add a batch's orders to the running totals of the new customers."""
        import pyarrow as pa

        if not self.ids:
            return
        size = len(self.ids)
        if len(self.orders) < size:
            grow = size - len(self.orders)
            self.orders = np.concatenate([self.orders, np.zeros(grow, np.int64)])
            self.revenue = np.concatenate([self.revenue, np.zeros(grow, np.int64)])
            self.first = np.concatenate([self.first, np.full(grow, np.iinfo(np.int64).max)])
            self.last = np.concatenate([self.last, np.full(grow, np.iinfo(np.int64).min)])
        at = customer_ids.to_numpy() - self.first_id
        money = amounts.to_numpy()
        moments = when.cast(pa.int64()).to_numpy()
        mine = at >= 0
        if not mine.all():
            at, money, moments = at[mine], money[mine], moments[mine]
        self.orders += np.bincount(at, minlength=len(self.orders))
        np.add.at(self.revenue, at, money)
        if self.revenue.max(initial=0) > REVENUE_LIMIT:  # before int64 could wrap around
            raise NotFast("a customer's revenue beyond what the database sums")
        np.minimum.at(self.first, at, moments)
        np.maximum.at(self.last, at, moments)

    def write(self) -> None:
        """Insert the new customers, a hundred to a statement, derived columns and all."""
        import pyarrow as pa
        import pyarrow.compute as pc

        if not self.ids:
            return
        if len(self.orders) != len(self.ids) or not self.orders.all():
            raise AssertionError("a new customer without an order")  # each came with one
        imp = self.imp
        days = derived.default_cadence_days(imp.conn)
        first = pa.array(self.first, pa.int64()).cast(pa.timestamp("us"))
        last = pa.array(self.last, pa.int64()).cast(pa.timestamp("us"))
        anniversary = pc.add(pc.multiply(pc.month(first), 100), pc.day(first))
        check_in = pc.add(first, pa.scalar(timedelta(days=days), pa.duration("us")))
        stamp = str(imp.stored_now)
        assert all(c in "0123456789-:. " for c in stamp)  # a literal of our own making
        head = (
            "INSERT INTO customers (id, external_id, name, email, tags, marketing_consent, "
            "created_at, updated_at, version, first_seen, order_count, revenue_minor, "
            "last_order_at, anniversary_md, next_check_in_at)"
        )
        values = f"(?, ?, ?, ?, '[]', 0, '{stamp}', '{stamp}', 1, ?, ?, ?, ?, ?, ?)"
        first_text, last_text = pc.cast(first, pa.string()), pc.cast(last, pa.string())
        check_in_text = pc.cast(check_in, pa.string())
        for start in range(0, len(self.ids), CUSTOMERS_AT_ONCE):  # memory: a chunk's rows
            end = start + CUSTOMERS_AT_ONCE
            rows = list(
                zip(
                    self.ids[start:end],
                    self.keys[start:end],
                    self.names[start:end],
                    self.emails[start:end],
                    first_text[start:end].to_pylist(),
                    self.orders[start:end].tolist(),
                    self.revenue[start:end].tolist(),
                    last_text[start:end].to_pylist(),
                    anniversary[start:end].to_pylist(),
                    check_in_text[start:end].to_pylist(),
                    strict=True,
                )
            )
            insert_rows(imp.conn, head, values, rows)


class _FastBatches:
    def __init__(self, imp: _OrdersImport, wanted: dict[str, str], reader: Any, raw: Any) -> None:
        self.imp = imp
        self.wanted = wanted
        self.reader = reader
        self.raw = raw
        self.rows_read = 0
        exponent = currency_exponent(imp.options.currency)
        self.exponent = exponent
        self.amount_pattern = (
            rf"^\d{{1,15}}(?:\.\d{{1,{exponent}}})?$" if exponent else r"^\d{1,15}$"
        )
        self.insert_sql = self._insert_sql()
        self.width = 0  # values per row written (into an empty table: see prepare)
        self.fresh = FreshCustomers(imp)

        self.seen = SeenKeys()
        latest = imp.dates.latest.astimezone(UTC).replace(tzinfo=None)
        self.window = (datetime(MIN_YEAR, 1, 1), latest)

    def _insert_sql(self) -> tuple[str, str]:
        """The INSERT's head and one row's values. Values that are the same on every row
        are written into the statement once (checked literals: a currency code, an id, a
        timestamp), so each row binds only what varies — the driver's binding is most of
        an insert's cost."""
        imp = self.imp
        currency = imp.options.currency
        assert currency.isalpha() and len(currency) == 3
        stamp = str(imp.stored_now)
        assert all(c in "0123456789-:. " for c in stamp)
        present = {f: "?" if f in self.wanted else "NULL" for f in ("product", "description")}
        quantity = "?" if "quantity" in self.wanted else "1"
        head = (
            "INSERT INTO orders (external_id, customer_id, ordered_at, amount_minor, "
            "currency, quantity, product, description, import_id, created_at)"
        )
        values = (
            f"(?, ?, ?, ?, '{currency}', {quantity}, {present['product']}, "
            f"{present['description']}, {int(imp.run_id)}, '{stamp}')"
        )
        return head, values

    def rows(self) -> Iterator[Prepared]:
        for batch in self.reader:
            if batch.num_rows:
                yield self.prepare(batch)
                self.rows_read += batch.num_rows
            if self.imp.progress is not None:
                self.imp.progress(self.raw.tell(), self.imp.source.size)

    def write(self, rows: Prepared) -> None:
        imp = self.imp
        if isinstance(rows, tuple):  # into an empty table: every row is new
            head, values = self.insert_sql
            insert_flat(imp.conn, head, values, rows, self.width)
            imp.summary.added += len(rows) // self.width
            return
        rows = imp.split_existing(rows)  # updates the changed, counts the unchanged
        if rows:
            imp.conn.exec_driver_sql(imp.insert_sql, rows)
        imp.summary.added += len(rows)

    def prepare(self, batch: Any) -> Prepared:
        import pyarrow as pa
        import pyarrow.compute as pc

        n = batch.num_rows

        def text(field: str) -> Any:
            return pc.utf8_trim_whitespace(batch.column(self.wanted[field]))

        def require(ok: Any, reason: str) -> None:
            if not pc.all(ok).as_py():
                raise NotFast(reason)

        keys, customers = text("order_id"), text("customer_id")
        for ids, what in ((keys, "order id"), (customers, "customer id")):
            lengths = pc.utf8_length(ids)
            require(pc.and_(pc.greater(lengths, 0), pc.less_equal(lengths, 200)), what)
        when_text = text("ordered_at")
        require(pc.match_substring_regex(when_text, ISO_TIME), "a date that is not plain ISO")
        when = pc.cast(when_text, pa.timestamp("us"))  # ArrowInvalid on 2024-02-30
        earliest, latest = pc.min_max(when).values()
        if earliest.as_py() < self.window[0] or latest.as_py() > self.window[1]:
            raise NotFast("a date out of range")
        amount_text = text("amount")
        require(pc.match_substring_regex(amount_text, self.amount_pattern), "a formatted amount")
        scale = 10**self.exponent
        amounts = pc.cast(
            pc.multiply(
                pc.cast(amount_text, pa.decimal128(20, self.exponent)),
                pa.scalar(scale, pa.decimal128(max(1, len(str(scale))), 0)),
            ),
            pa.int64(),
        )
        if pc.max(amounts).as_py() > MAX_AMOUNT_MINOR:
            raise NotFast("a huge amount")
        quantities = None
        if "quantity" in self.wanted:
            q_text = text("quantity")
            q_text = pc.if_else(pc.equal(q_text, ""), "1", q_text)
            require(pc.match_substring_regex(q_text, QUANTITY), "a quantity that is not a count")
            q = pc.cast(q_text, pa.int64())
            if pc.max(q).as_py() > MAX_QUANTITY:
                raise NotFast("a huge quantity")
            quantities = q.to_numpy().tolist()
        emails: list[str | None] = [None] * n
        if "customer_email" in self.wanted:
            e = pc.utf8_lower(text("customer_email"))
            require(pc.or_(pc.equal(e, ""), pc.match_substring_regex(e, EMAIL)), "an e-mail")
            emails = pc.if_else(pc.equal(e, ""), pa.scalar(None, pa.string()), e).to_pylist()
        names = (
            pc.utf8_slice_codeunits(text("customer_name"), 0, 300).to_pylist()
            if "customer_name" in self.wanted
            else None
        )
        products = self.optional(text, "product", 300)
        notes = self.optional(text, "description", None)

        customer_ids = self.customer_ids(customers, names, emails)
        self.fresh.count(customer_ids, amounts, when)
        key_list = keys.to_pylist()
        columns = [
            key_list,
            customer_ids.to_numpy().tolist(),
            pc.cast(when, pa.string()).to_pylist(),
            amounts.to_numpy().tolist(),
        ]
        if not self.imp.had_orders:  # the short statement: constants are in its text
            columns += [values for values in (quantities, products, notes) if values is not None]
            self.width = len(columns)
            return tuple(chain.from_iterable(zip(*columns, strict=True)))
        # Into a table that has orders: the unique index no longer tells a repeated id
        # in the file from an order imported before, so the file's ids are tracked.
        hashes = [hash(key) for key in key_list]
        if self.seen.contains(hashes).any() or len(set(hashes)) != len(hashes):
            raise NotFast("a repeated order id")
        self.seen.add(hashes)
        imp = self.imp
        return list(
            zip(
                *columns,
                repeat(imp.options.currency),
                quantities if quantities is not None else repeat(1),
                products if products is not None else repeat(None),
                notes if notes is not None else repeat(None),
                repeat(imp.run_id),
                repeat(imp.stored_now),
                strict=False,
            )
        )

    def optional(self, text: Any, field: str, limit: int | None) -> Any:
        """A trimmed optional text column: None where empty, cut at `limit` characters."""
        import pyarrow as pa
        import pyarrow.compute as pc

        if field not in self.wanted:
            return None
        values = text(field)
        if limit is not None:
            values = pc.utf8_slice_codeunits(values, 0, limit)
        return pc.if_else(pc.equal(values, ""), pa.scalar(None, pa.string()), values).to_pylist()

    def customer_ids(
        self, customers: Any, names: list[str] | None, emails: list[str | None]
    ) -> Any:
        """Each row's customer id; customers not known yet are numbered (FreshCustomers).

        Arrow encodes the batch's customer column as a dictionary (its distinct keys, in
        order of first appearance) and indices into it, so Python maps each distinct key
        once and Arrow spreads the ids over the rows.
        """
        import pyarrow as pa
        import pyarrow.compute as pc

        imp = self.imp
        known = imp.customer_ids
        encoded = pc.dictionary_encode(customers)
        keys = encoded.dictionary.to_pylist()
        ids = list(map(known.get, keys))
        unknown = [at for at, i in enumerate(ids) if i is None]
        if unknown:
            new = [keys[at] for at in unknown]
            found = imp.lookup_customers(new) if imp.had_customers else {}
            missing = [key for key in new if key not in found]
            if missing and imp.had_customers and not imp.options.allow_erased:
                from keepwell.customers.privacy import erased_keys

                if erased_keys(imp.conn, missing):
                    raise NotFast("a customer erased on request")  # the careful path says so
            if missing and names is None and "customer_email" not in self.wanted:
                found.update(self.fresh.meet(dict.fromkeys(missing, ("", None))))
            elif missing:
                # where each new customer first appears, for the name and e-mail to give them
                rows = pc.index_in(pa.array(missing, pa.string()), value_set=customers)
                found.update(
                    self.fresh.meet(
                        {
                            key: (names[row] if names else "", emails[row])
                            for key, row in zip(missing, rows.to_pylist(), strict=True)
                        }
                    )
                )
            known.update(found)
            for at, key in zip(unknown, new, strict=True):
                ids[at] = found[key]
        return pa.array(ids, pa.int64()).take(encoded.indices)
