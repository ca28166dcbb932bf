"""An orders file's fields and rows: the header names each field is known by, and the
parser that turns rows into typed columns (a batch at a time, through caches), naming
the first bad cell of every bad row. keepwell/ingest/orders_import.py writes them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from keepwell.ingest.csvfile import MAX_FIELD_CHARS, FieldSpec
from keepwell.ingest.importer import (
    ImportRunState,
)
from keepwell.ingest.parsing import (
    MAX_AMOUNT_MINOR,
    CellError,
    DateParser,
    currency_exponent,
    parse_currency,
    parse_email,
    parse_money,
    parse_quantity,
)

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


class RowParser:
    """Parses an orders file's rows into columns, naming the first bad cell of each bad
    row to the import's run state (which counts it, and writes it out with
    --skip-invalid)."""

    def __init__(self, state: ImportRunState, dates: DateParser) -> None:
        self.state = state
        self.source = state.source
        self.options = state.options
        self.dates = dates
        self.time_cache: dict[str, datetime | None] = {}
        self.amount_cache: dict[str, int | None] = {}
        self.quantity_cache: dict[str, int | None] = {}
        self.email_cache: dict[str, str | None] = {}
        self.by_email = "customer_id" not in self.source.columns
        self.explicit = "order_id" in self.source.columns

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
        times = cached_map(column[cols["ordered_at"]], self.time_cache, self._time_or_none)
        amounts = cached_map(column[cols["amount"]], self.amount_cache, self._amount_or_none)
        quantities: list[int | None] = (
            cached_map(column[cols["quantity"]], self.quantity_cache, _quantity_or_none)
            if "quantity" in cols
            else [1] * n
        )
        emails: list[str | None] = (
            cached_map(column[cols["customer_email"]], self.email_cache, _email_or_none)
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


def cached_map(
    column: Sequence[Any], cache: dict[Any, Any], parse: Callable[[Any], Any]
) -> list[Any]:
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
