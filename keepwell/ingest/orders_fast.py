"""The fast path of `keepwell import orders`: a clean export into SQLite.

The first load of a shop's history is the big one, and re-importing a grown export
the most frequent. Here Arrow reads the file and
checks whole columns at once, by the same rules as the careful path (which reads row
by row and names each bad cell). Anything this path does not accept exactly — a
formatted amount, a date that is not plain ISO, a zone offset, an empty cell, an
unknown e-mail shape, an order id seen twice — makes it undo what it wrote and hand
the file to the careful path. A clean file goes fast; a dirty one gets precise errors;
both obey the same rules and give the same result.

The checked batches are not bound row by row from Python: they are staged in scratch
files by a compiled writer and copied in by SQLite itself (see staging). Into a table
that has orders, SQLite also compares them with what is stored: it updates the orders
that changed, adds the new and leaves the rest.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import repeat
from typing import Any, Protocol

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from keepwell.customers import derived
from keepwell.ingest.csvfile import MAX_FIELD_CHARS, CsvFile
from keepwell.ingest.importer import (
    ImportOptions,
    ImportRunState,
    ImportSummary,
    Progress,
    Worker,
    pipelined,
)
from keepwell.ingest.ledger import SeenKeys
from keepwell.ingest.parsing import (
    MAX_AMOUNT_MINOR,
    MAX_QUANTITY,
    MIN_YEAR,
    DateParser,
    currency_exponent,
)
from keepwell.ingest.staging import Part, Staging


class FastJob(Protocol):
    """What the fast path reads of the import it works for (orders_import's job); a
    protocol, so that this module need not import the careful path that calls it."""

    conn: Connection
    state: ImportRunState
    source: CsvFile
    options: ImportOptions
    summary: ImportSummary
    run_id: int
    progress: Progress | None
    dates: DateParser
    stored_now: Any
    had_orders: bool
    had_customers: bool
    customer_ids: dict[str, int]
    next_customer_id: int

    def lookup_customers(self, keys: list[str]) -> dict[str, int]: ...


# The subsets of the careful path's formats this path accepts (RE2 syntax).
ISO_TIME = r"^\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)?$"
QUANTITY = r"^\d{1,7}$"
EMAIL = r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$"
BLOCK_BYTES = 1 << 22
# Per-customer revenue is summed in int64; a batch adds at most rows × MAX_AMOUNT_MINOR.
REVENUE_LIMIT = (1 << 62) - (1 << 22) * MAX_AMOUNT_MINOR


# A batch ready to write: an Arrow record batch for the scratch file (see staging).
Prepared = Any


class NotFast(Exception):
    """This file needs the careful path; the message says why."""


def fast_path_refusal(imp: FastJob) -> str | None:
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
        import adbc_driver_sqlite  # noqa: F401
        import pyarrow  # noqa: F401
    except ImportError as exc:  # both are dependencies; a broken install still imports
        return f"{exc.name} cannot be imported"
    return None


def import_fast(imp: FastJob) -> FreshCustomers:
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
        from adbc_driver_manager import Error as StagingError

        try:
            staging = Staging(imp.conn)
        except OSError as exc:  # no room beside the database: the careful path needs none
            raise NotFast(f"no scratch directory: {exc}") from exc
        imp.state.after_transaction.append(staging.discard)
        batches = _FastBatches(imp, wanted, reader, raw, staging)
        copier = Worker(batches.copy_in, "keepwell-import-copier")
        batches.copier = copier
        try:
            try:
                pipelined(batches.rows(), batches.write)
                batches.seal()  # the last part
            except BaseException:
                copier.stop()
                raise
            copier.close()
        except sa.exc.IntegrityError as exc:  # an order id twice in the file
            raise NotFast("a repeated order id") from exc
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise NotFast(str(exc)) from exc
        except (StagingError, OSError) as exc:  # e.g. a full disk: the careful path says so
            raise NotFast(f"staging: {exc}") from exc
        imp.source.rows_read = batches.rows_read
        return batches.fresh


class FreshCustomers:
    """The customers an import meets for the first time: numbered as they are met, and
    written at the end in one pass with their derived columns (first seen, orders,
    revenue, last order, anniversary, next check-in) computed from the file's orders —
    which are all the orders such a customer has. It gives the same values as
    `customers.derived.refresh` (a test holds it to that), without inserting each
    customer and then updating it."""

    def __init__(self, imp: FastJob, staging: Staging) -> None:
        self.imp = imp
        self.staging = staging
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
        """Insert the new customers, derived columns and all, through a scratch file."""
        import pyarrow as pa
        import pyarrow.compute as pc

        if not self.ids:
            return
        if len(self.orders) != len(self.ids) or not self.orders.all():
            raise AssertionError("a new customer without an order")  # each came with one
        days = derived.default_cadence_days(self.imp.conn)
        first = pa.array(self.first, pa.int64()).cast(pa.timestamp("us"))
        last = pa.array(self.last, pa.int64()).cast(pa.timestamp("us"))
        check_in = pc.add(first, pa.scalar(timedelta(days=days), pa.duration("us")))
        columns = {
            "id": pa.array(self.ids, pa.int64()),
            "external_id": pa.array(self.keys, pa.string()),
            "name": pa.array(self.names, pa.string()),
            "email": pa.array(self.emails, pa.string()),
            "first_seen": pc.cast(first, pa.string()),
            "order_count": pa.array(self.orders, pa.int64()),
            "revenue_minor": pa.array(self.revenue, pa.int64()),
            "last_order_at": pc.cast(last, pa.string()),
            "anniversary_md": pc.add(pc.multiply(pc.month(first), 100), pc.day(first)),
            "next_check_in_at": pc.cast(check_in, pa.string()),
        }
        self.staging.append("customers", pa.table(columns))
        part = self.staging.seal()
        assert part is not None
        schema = self.staging.attach(part)
        derived_columns = (
            "first_seen, order_count, revenue_minor, last_order_at, anniversary_md, "
            "next_check_in_at"
        )
        self.imp.conn.exec_driver_sql(
            "INSERT INTO customers (id, external_id, name, email, tags, marketing_consent, "  # noqa: S608
            f"created_at, updated_at, version, {derived_columns}) "
            f"SELECT id, external_id, name, email, '[]', 0, ?1, ?1, 1, {derived_columns} "
            f"FROM {schema}.customers ORDER BY rowid",
            (self.imp.stored_now,),
        )


class _FastBatches:
    def __init__(
        self, imp: FastJob, wanted: dict[str, str], reader: Any, raw: Any, staging: Staging
    ) -> None:
        self.imp = imp
        self.staging = staging
        self.wanted = wanted
        self.reader = reader
        self.raw = raw
        self.rows_read = 0
        exponent = currency_exponent(imp.options.currency)
        self.exponent = exponent
        self.amount_pattern = (
            rf"^\d{{1,15}}(?:\.\d{{1,{exponent}}})?$" if exponent else r"^\d{1,15}$"
        )
        self.fresh = FreshCustomers(imp, staging)
        # Orders are staged in parts of about equal size, each copied in (by `copier`)
        # while the next is written; the connection can attach a few files (one is
        # kept for the customers).
        parts = max(1, staging.limit - 2)
        expected = -(-imp.source.size // BLOCK_BYTES)
        self.part_batches = max(1, -(-expected // parts))
        self.batches_in_part = 0
        self.copier: Worker[Part] | None = None

        self.seen = SeenKeys()
        latest = imp.dates.latest.astimezone(UTC).replace(tzinfo=None)
        self.window = (datetime(MIN_YEAR, 1, 1), latest)

    def seal(self) -> None:
        """End the part being staged and hand it to the copier."""
        self.batches_in_part = 0
        part = self.staging.seal()
        if part is not None:
            assert self.copier is not None
            self.copier.put(part)

    def copy_in(self, part: Part) -> None:
        """Copy a staged part's orders in, in the file's order, by SQLite statements;
        what is the same on every row is bound once. Into a table that has orders, the
        stored orders whose values changed are updated first, the unchanged counted."""
        schema = self.staging.attach(part)
        imp = self.imp
        s = {
            column: f"s.{column}" if column in self.wanted else default
            for column, default in (("quantity", "1"), ("product", "NULL"), ("description", "NULL"))
        }
        given = f"s.customer_id, s.ordered_at, s.amount_minor, :currency, {s['quantity']}, "
        given += f"{s['product']}, {s['description']}"
        params = {"currency": imp.options.currency, "run": imp.run_id, "now": imp.stored_now}
        updated = 0
        new_only = ""
        if imp.had_orders:
            updated = imp.conn.exec_driver_sql(
                "UPDATE orders SET (customer_id, ordered_at, amount_minor, currency, "  # noqa: S608
                f"quantity, product, description, import_id) = ({given}, :run) "
                f"FROM {schema}.orders AS s WHERE orders.external_id = s.external_id "
                "AND (orders.customer_id, orders.ordered_at, orders.amount_minor, "
                "orders.currency, orders.quantity, orders.product, orders.description) "
                f"IS NOT ({given})",
                params,
            ).rowcount
            new_only = (
                "WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.external_id = s.external_id) "
            )
        added = imp.conn.exec_driver_sql(
            "INSERT INTO orders (external_id, customer_id, ordered_at, amount_minor, "  # noqa: S608
            "currency, quantity, product, description, import_id, created_at) "
            f"SELECT s.external_id, {given}, :run, :now FROM {schema}.orders AS s "
            f"{new_only}ORDER BY s.rowid",
            params,
        ).rowcount
        imp.summary.added += added
        imp.summary.updated += updated
        imp.summary.unchanged += part.rows - added - updated

    def rows(self) -> Iterator[Prepared]:
        for batch in self.reader:
            if batch.num_rows:
                yield self.prepare(batch)
                self.rows_read += batch.num_rows
            if self.imp.progress is not None:
                self.imp.progress(self.raw.tell(), self.imp.source.size)

    def write(self, batch: Any) -> None:
        """Stage a checked batch; hand the part to the copier once it is big enough."""
        self.staging.append("orders", batch)
        self.batches_in_part += 1
        room = len(self.staging.parts) + 2 < self.staging.limit  # this part, customers
        if self.batches_in_part >= self.part_batches and room:
            self.seal()

    def prepare(self, batch: Any) -> Prepared:
        import pyarrow as pa
        import pyarrow.compute as pc

        def text(field: str) -> Any:
            return pc.utf8_trim_whitespace(batch.column(self.wanted[field]))

        def require(ok: Any, reason: str) -> None:
            if not pc.all(ok).as_py():
                raise NotFast(reason)

        for column in batch.columns:
            # the careful path names the line and column of a value over the limit
            require(pc.less_equal(pc.utf8_length(column), MAX_FIELD_CHARS), "a value too long")
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
            quantities = q
        emails = None
        if "customer_email" in self.wanted:
            e = pc.utf8_lower(text("customer_email"))
            require(pc.or_(pc.equal(e, ""), pc.match_substring_regex(e, EMAIL)), "an e-mail")
            emails = pc.if_else(pc.equal(e, ""), pa.scalar(None, pa.string()), e)
        names = (
            pc.utf8_slice_codeunits(text("customer_name"), 0, 300)
            if "customer_name" in self.wanted
            else None
        )
        products = self.optional(text, "product", 300)
        notes = self.optional(text, "description", None)

        customer_ids = self.customer_ids(customers, names, emails)
        self.fresh.count(customer_ids, amounts, when)
        columns = {
            "external_id": keys,
            "customer_id": customer_ids,
            "ordered_at": pc.cast(when, pa.string()),
            "amount_minor": amounts,
        }
        optional = {"quantity": quantities, "product": products, "description": notes}
        columns.update((name, v) for name, v in optional.items() if v is not None)
        if self.imp.had_orders:
            # Into a table that has orders, the unique index no longer tells a repeated
            # id in the file from an order imported before: the file's ids are tracked.
            hashes = [hash(key) for key in keys.to_pylist()]
            if self.seen.contains(hashes).any() or len(set(hashes)) != len(hashes):
                raise NotFast("a repeated order id")
            self.seen.add(hashes)
        return pa.record_batch(columns)

    def optional(self, text: Any, field: str, limit: int | None) -> Any:
        """A trimmed optional text column (Arrow): null where empty, cut at `limit`
        characters; None if the file has no such column."""
        import pyarrow as pa
        import pyarrow.compute as pc

        if field not in self.wanted:
            return None
        values = text(field)
        if limit is not None:
            values = pc.utf8_slice_codeunits(values, 0, limit)
        return pc.if_else(pc.equal(values, ""), pa.scalar(None, pa.string()), values)

    def customer_ids(self, customers: Any, names: Any, emails: Any) -> Any:
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
            if missing and names is None and emails is None:
                found.update(self.fresh.meet(dict.fromkeys(missing, ("", None))))
            elif missing:
                # where each new customer first appears, for the name and e-mail to give them
                rows = pc.index_in(pa.array(missing, pa.string()), value_set=customers)
                given_names = names.take(rows).to_pylist() if names is not None else repeat("")
                given_emails = emails.take(rows).to_pylist() if emails is not None else repeat(None)
                details = zip(given_names, given_emails, strict=False)
                found.update(self.fresh.meet(dict(zip(missing, details, strict=False))))
            known.update(found)
            for at, key in zip(unknown, new, strict=True):
                ids[at] = found[key]
        return pa.array(ids, pa.int64()).take(encoded.indices)
