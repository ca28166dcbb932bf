"""Importing orders: the CDNOW history, idempotency, atomicity and the ugly cases."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from keepwell import clock
from keepwell.errors import ImportRejected
from keepwell.ingest.importer import ImportOptions
from keepwell.ingest.orders_import import import_orders
from tests.conftest import CDNOW


def count(engine: Engine, table: str) -> int:
    with engine.connect() as conn:
        return int(conn.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one())


def write(tmp_path: Path, text: str | bytes, name: str = "orders.csv") -> Path:
    path = tmp_path / name
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8")
    else:
        path.write_bytes(text)
    return path


def rows(engine: Engine, sql: str) -> list[tuple[object, ...]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.exec_driver_sql(sql)]


def test_cdnow_imports_every_order_once(engine: Engine) -> None:
    first = import_orders(engine, CDNOW)
    assert (first.added, first.customers_added, first.rejected) == (6919, 2357, 0)
    assert count(engine, "orders") == 6919
    assert count(engine, "customers") == 2357
    again = import_orders(engine, CDNOW)
    assert (again.added, again.updated, again.unchanged, again.customers_added) == (0, 0, 6919, 0)
    assert count(engine, "orders") == 6919
    # amounts are exact integer cents: the file's total, summed as decimals, matches
    total = sum(
        int(line.rsplit(",", 1)[1].replace(".", "")) for line in CDNOW.read_text().splitlines()[1:]
    )
    assert rows(engine, "SELECT sum(amount_minor) FROM orders")[0][0] == total
    # a customer is first seen at their first order
    first_seen = rows(engine, "SELECT first_seen FROM customers WHERE external_id = '4'")[0][0]
    assert str(first_seen).startswith("1997-01-01")


def test_identical_rows_are_separate_orders_and_stay_idempotent(
    engine: Engine, tmp_path: Path
) -> None:
    path = write(tmp_path, "customer_id,order_date,amount\n7,2024-01-02,5.00\n7,2024-01-02,5.00\n")
    assert import_orders(engine, path).added == 2
    assert import_orders(engine, path).unchanged == 2
    # a third identical row appended later is one new order
    path.write_text(path.read_text() + "7,2024-01-02,5.00\n")
    summary = import_orders(engine, path)
    assert (summary.added, summary.unchanged) == (1, 2)


def test_changed_row_updates_its_order(engine: Engine, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "order_id,customer_id,order_date,amount\nA1,7,2024-01-02,5.00\nA2,8,2024-01-03,6.00\n",
    )
    import_orders(engine, path)
    path.write_text(
        "order_id,customer_id,order_date,amount\nA1,7,2024-01-02,7.50\nA2,8,2024-01-03,6.00\n"
    )
    summary = import_orders(engine, path)
    assert (summary.added, summary.updated, summary.unchanged) == (0, 1, 1)
    assert rows(engine, "SELECT amount_minor FROM orders WHERE external_id = 'A1'") == [(750,)]


def snapshot(engine: Engine) -> object:
    """The database's content: file bytes on SQLite, every row on PostgreSQL."""
    if engine.dialect.name == "sqlite":
        engine.dispose()  # close connections so the WAL is checkpointed into the file
        path = Path(engine.url.database or "")
        return hashlib.sha256(path.read_bytes()).hexdigest(), Path(f"{path}-wal").exists()
    return [
        rows(engine, f"SELECT * FROM {t} ORDER BY id") for t in ("customers", "orders", "imports")
    ]


def test_one_bad_row_rejects_the_whole_file(engine: Engine, tmp_path: Path) -> None:
    import_orders(
        engine, write(tmp_path, "customer_id,order_date,amount\n1,2024-01-01,3.00\n", "old.csv")
    )
    before = snapshot(engine)
    good = "".join(f"{i},2024-02-{1 + i % 28:02d},{i}.50\n" for i in range(2, 60))
    path = write(tmp_path, "customer_id,order_date,amount\n" + good + "99,2024-13-01,4.00\n" + good)
    with pytest.raises(ImportRejected) as caught:
        import_orders(engine, path)
    assert caught.value.total == 1
    assert str(caught.value.errors[0]) == (
        f"{path}:60: column order_date: '2024-13-01' is not a valid date"
    )
    assert snapshot(engine) == before


def test_error_list_shows_twenty_then_a_count(engine: Engine, tmp_path: Path) -> None:
    bad = "".join(f"{i},2024-01-01,-{i}.00\n" for i in range(25))
    path = write(tmp_path, "customer_id,order_date,amount\n" + bad)
    with pytest.raises(ImportRejected) as caught:
        import_orders(engine, path)
    text = caught.value.describe()
    assert caught.value.total == 24  # -0.00 is zero, not negative
    assert len(caught.value.errors) == 20
    assert "… and 4 more bad rows" in text
    assert f"{path}:2: column amount: negative amount '-0.00'" not in text  # -0 is zero
    assert f"{path}:3: column amount: negative amount '-1.00' (refunds are not orders)" in text
    assert count(engine, "orders") == 0


@pytest.mark.parametrize(
    ("line", "column", "reason"),
    [
        ("5,2024-01-01,-3.00", "amount", "negative amount '-3.00' (refunds are not orders)"),
        ("5,2024-01-01,99999999999999", "amount", "implausibly large amount '99999999999999'"),
        ("5,2099-01-01,3.00", "order_date", "date '2099-01-01' is in the future"),
        ("5,1850-01-01,3.00", "order_date", "implausible date '1850-01-01' (before 1900)"),
        ("5,01/02/2024,3.00", "order_date", "'01/02/2024' is not an ISO date (YYYY-MM-DD)"),
        ("5,2024-01-01,1,234", "", "row has 4 fields but the header has 3"),
        ("5,2024-01-01,abc", "amount", "'abc' is not an amount"),
        (",2024-01-01,3.00", "customer_id", "the customer id is empty"),
        ("5,2024-01-01,", "amount", "amount is empty"),
    ],
)
def test_bad_values_are_named(
    sqlite_engine: Engine, tmp_path: Path, line: str, column: str, reason: str
) -> None:
    path = write(tmp_path, f"customer_id,order_date,amount\n1,2024-01-01,1.00\n{line}\n")
    with clock.frozen("2026-11-25"), pytest.raises(ImportRejected) as caught:
        import_orders(sqlite_engine, path)
    error = caught.value.errors[0]
    assert (error.line, error.column) == (3, column)
    assert error.reason.startswith(reason)
    assert count(sqlite_engine, "orders") == 0


def test_duplicate_order_ids_are_rejected(engine: Engine, tmp_path: Path) -> None:
    text = "order_id,customer_id,order_date,amount\nA,1,2024-01-01,1\nB,1,2024-01-01,1\nA,2,2024-01-02,1\n"
    with pytest.raises(ImportRejected) as caught:
        import_orders(engine, write(tmp_path, text))
    assert str(caught.value.errors[0]).endswith(
        ":4: column order_id: order id 'A' appears twice in the file"
    )


def test_duplicate_ids_across_batches(sqlite_engine: Engine, tmp_path: Path) -> None:
    body = "".join(f"X{i},1,2024-01-01,1\n" for i in range(30)) + "X3,1,2024-01-01,1\n"
    path = write(tmp_path, "order_id,customer_id,order_date,amount\n" + body)
    with pytest.raises(ImportRejected) as caught:
        import_orders(sqlite_engine, path, ImportOptions(batch_rows=7))
    assert caught.value.total == 1
    assert caught.value.errors[0].line == 32


def test_encodings_bom_semicolons_and_decimal_commas(engine: Engine, tmp_path: Path) -> None:
    text = (
        "Kunde;Datum;Betrag;Währung\r\n1;2024-03-01;12,50;EUR\r\n\r\n2;2024-03-02;1.234,56;EUR\r\n"
    )
    mapping = {
        "customer_id": "Kunde",
        "ordered_at": "Datum",
        "amount": "Betrag",
        "currency": "Währung",
    }
    for encoding, name in (
        ("utf-8-sig", "bom.csv"),
        ("utf-16", "utf16.csv"),
        ("utf-8", "plain.csv"),
    ):
        path = write(tmp_path, text.encode(encoding), name)
        summary = import_orders(engine, path, ImportOptions(mapping=mapping))
        assert summary.delimiter == ";"
        assert summary.rows == 2  # the blank line is not a row
    assert rows(engine, "SELECT amount_minor, currency FROM orders ORDER BY amount_minor") == [
        (1250, "EUR"),
        (123456, "EUR"),
    ]
    assert count(engine, "orders") == 2  # the three files hold the same two orders


def test_wrong_encoding_is_named_with_its_line(sqlite_engine: Engine, tmp_path: Path) -> None:
    text = "customer_id,order_date,amount,product\n1,2024-01-01,1.00,Cafe\n2,2024-01-01,1.00,Café\n"
    path = write(tmp_path, text.encode("latin-1"))
    with pytest.raises(ImportRejected) as caught:
        import_orders(sqlite_engine, path)
    message = str(caught.value.errors[0])
    assert message.startswith(f"{path}:3: not valid utf-8 text (byte 0xE9 at column 22 of the line)")
    assert "--encoding" in message
    summary = import_orders(sqlite_engine, path, ImportOptions(encoding="latin-1"))
    assert summary.added == 2
    assert rows(sqlite_engine, "SELECT product FROM orders ORDER BY id")[1] == ("Café",)


def test_aliases_map_and_date_format(engine: Engine, tmp_path: Path) -> None:
    text = (
        "Order Number,Customer ID,Created at,Total,Qty,Lineitem name\n"
        '#1001,C-1,05/03/2024,"$1,234.50",2,"Grinder, ""Pro"""\n'
    )
    summary = import_orders(engine, write(tmp_path, text), ImportOptions(date_format="%d/%m/%Y"))
    assert summary.added == 1
    assert rows(
        engine, "SELECT external_id, amount_minor, currency, quantity, product FROM orders"
    ) == [("#1001", 123450, "USD", 2, 'Grinder, "Pro"')]
    assert str(rows(engine, "SELECT ordered_at FROM orders")[0][0]).startswith("2024-03-05")


def test_map_override_and_unknown_columns(sqlite_engine: Engine, tmp_path: Path) -> None:
    text = "who,when,gross\n1,2024-01-01,3.00\n"
    with pytest.raises(ImportRejected) as caught:
        import_orders(sqlite_engine, write(tmp_path, text))
    assert "no column for ordered_at" in caught.value.describe()
    options = ImportOptions(mapping={"customer_id": "WHO", "ordered_at": "when", "amount": "gross"})
    assert import_orders(sqlite_engine, write(tmp_path, text), options).added == 1
    with pytest.raises(ImportRejected) as caught:
        import_orders(
            sqlite_engine, write(tmp_path, text), ImportOptions(mapping={"price": "gross"})
        )
    assert "--map names an unknown field 'price'" in caught.value.describe()


def test_no_create_customers_rejects_unknown_ones(engine: Engine, tmp_path: Path) -> None:
    import_orders(
        engine, write(tmp_path, "customer_id,order_date,amount\nK,2024-01-01,1\n", "a.csv")
    )
    path = write(tmp_path, "customer_id,order_date,amount\nK,2024-01-02,1\nNEW,2024-01-02,1\n")
    with pytest.raises(ImportRejected) as caught:
        import_orders(engine, path, ImportOptions(create_customers=False))
    assert str(caught.value.errors[0]).endswith(
        ":3: column customer_id: unknown customer 'NEW' "
        "(import customers first, or leave out --no-create-customers)"
    )
    assert count(engine, "orders") == 1


def test_skip_invalid_imports_the_good_rows(engine: Engine, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "customer_id,order_date,amount\n1,2024-01-01,1.00\n2,2024-01-01,x\n3,2024-01-01,2.00\n",
    )
    rejects = tmp_path / "rejects.csv"
    summary = import_orders(engine, path, ImportOptions(skip_invalid=rejects))
    assert (summary.added, summary.rejected) == (2, 1)
    assert rejects.read_text().splitlines() == [
        "customer_id,order_date,amount,line,reason",
        "2,2024-01-01,x,3,column amount: 'x' is not an amount",
    ]


def test_dry_run_writes_nothing(engine: Engine, tmp_path: Path) -> None:
    summary = import_orders(engine, CDNOW, ImportOptions(dry_run=True))
    assert (summary.added, summary.customers_added, summary.dry_run) == (6919, 2357, True)
    assert count(engine, "orders") == count(engine, "customers") == count(engine, "imports") == 0


def test_email_keyed_orders_and_quoted_newlines(engine: Engine, tmp_path: Path) -> None:
    text = 'email,date,amount,notes\nAna@Example.com,2024-01-01,1,"two\nlines"\nana@example.com,2024-01-09,2,\nbad-address,2024-01-09,2,\n'
    with pytest.raises(ImportRejected) as caught:
        import_orders(engine, write(tmp_path, text))
    assert str(caught.value.errors[0]).endswith(
        ":5: column email: 'bad-address' is not an e-mail address"
    )
    summary = import_orders(engine, write(tmp_path, text.rsplit("bad", 1)[0]))
    assert (summary.added, summary.customers_added) == (2, 1)
    assert rows(engine, "SELECT email, external_id FROM customers") == [("ana@example.com", None)]


def test_empty_and_missing_files(sqlite_engine: Engine, tmp_path: Path) -> None:
    with pytest.raises(ImportRejected, match="the file is empty"):
        import_orders(sqlite_engine, write(tmp_path, "\n\n"))
    with pytest.raises(ImportRejected, match="no such file"):
        import_orders(sqlite_engine, tmp_path / "nope.csv")
    summary = import_orders(sqlite_engine, write(tmp_path, "customer_id,order_date,amount\n"))
    assert summary.added == 0


def test_time_zones_are_converted_to_utc(engine: Engine, tmp_path: Path) -> None:
    text = "order_id,customer_id,created_at,amount\nA,1,2024-03-05T14:30:00+01:00,1\nB,1,2024-03-05T14:30:00Z,1\nC,1,2024-03-05 14:30:00,1\n"
    import_orders(engine, write(tmp_path, text))
    with engine.connect() as conn:
        from keepwell.db import table_of
        from keepwell.orders.models import Order

        table = table_of(Order)
        got = dict(
            conn.execute(
                table.select().with_only_columns(table.c.external_id, table.c.ordered_at)
            ).all()
        )
    assert [got[k].isoformat() for k in "ABC"] == [
        "2024-03-05T13:30:00+00:00",
        "2024-03-05T14:30:00+00:00",
        "2024-03-05T14:30:00+00:00",
    ]


@pytest.mark.parametrize(
    ("cell", "reason"),
    [
        ("-2", "negative quantity '-2'"),
        ("2.5", "quantity '2.5' is not a whole number"),
        ("5000000", "implausible quantity '5000000'"),
        ("lots", "'lots' is not a whole number"),
    ],
)
def test_bad_quantities(sqlite_engine: Engine, tmp_path: Path, cell: str, reason: str) -> None:
    path = write(tmp_path, f"customer_id,order_date,amount,qty\n1,2024-01-01,1.00,{cell}\n")
    with pytest.raises(ImportRejected) as caught:
        import_orders(sqlite_engine, path)
    assert (caught.value.errors[0].column, caught.value.errors[0].reason[: len(reason)]) == (
        "qty",
        reason,
    )


def test_an_oversized_field_is_named_and_rejected(sqlite_engine: Engine, tmp_path: Path) -> None:
    huge = "x" * 200_000
    path = write(
        tmp_path,
        f'customer_id,order_date,amount,notes\n1,2024-01-01,1.00,ok\n2,2024-01-01,1.00,"{huge}"\n',
    )
    with pytest.raises(ImportRejected) as caught:
        import_orders(sqlite_engine, path)
    assert [str(e) for e in caught.value.errors] == [
        f"{path}:3: column notes: 200,000 characters; a value may hold at most 100,000"
    ]
    assert count(sqlite_engine, "orders") == 0


def test_an_encoding_error_far_into_a_big_file_names_its_line(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    good = "".join(f"{i},2024-01-01,1.00\n" for i in range(20_000))  # well past the sniffed sample
    data = ("customer_id,order_date,amount\n" + good).encode() + b"7,2024-01-01,1.00,\xff\n"
    with pytest.raises(ImportRejected) as caught:
        import_orders(sqlite_engine, write(tmp_path, data))
    assert caught.value.errors[0].line == 20_002
    assert "byte 0xFF" in caught.value.errors[0].reason
    assert count(sqlite_engine, "orders") == 0


def test_a_large_file_in_small_batches_matches_one_batch(engine: Engine, tmp_path: Path) -> None:
    """Batching (and the writer thread) must not change what is imported."""
    import random

    rng = random.Random(3)
    body = "".join(
        f"{rng.randrange(300)},2024-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d},{rng.randrange(1, 9999) / 100:.2f}\n"
        for _ in range(5000)
    )
    path = write(tmp_path, "customer_id,order_date,amount\n" + body)
    summary = import_orders(engine, path, ImportOptions(batch_rows=333))
    assert summary.added == 5000
    assert import_orders(engine, path).unchanged == 5000  # one batch finds the same keys
    first_seen = rows(
        engine,
        "SELECT count(*) FROM customers c WHERE first_seen = (SELECT min(ordered_at) FROM orders o WHERE o.customer_id = c.id)",
    )
    assert first_seen[0][0] == count(engine, "customers")


def test_small_caches_give_the_same_result(
    sqlite_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Caches of parsed values are bounded; emptying them mid-file changes nothing."""
    import keepwell.ingest.order_rows as order_rows

    monkeypatch.setattr(order_rows, "CACHE_LIMIT", 50)
    body = "".join(
        f"O{i},{i % 70},2024-01-{1 + i % 28:02d} 10:{i % 60:02d}:00,{i % 97}.25\n"
        for i in range(3000)
    )
    path = write(tmp_path, "order_id,customer_id,created_at,amount\n" + body)
    assert import_orders(sqlite_engine, path, ImportOptions(batch_rows=400)).added == 3000
    assert rows(sqlite_engine, "SELECT amount_minor FROM orders WHERE external_id = 'O2999'") == [
        (2999 % 97 * 100 + 25,)
    ]
