"""The columnar fast path gives exactly what the careful path gives, or steps aside."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

import keepwell.ingest.orders_fast as orders_fast
from keepwell import clock
from keepwell.errors import ImportRejected
from keepwell.ingest.importer import ImportOptions
from keepwell.ingest.orders_import import import_orders
from tests.ingest.test_orders_import import count, rows, write

HEADER = "Order ID;Customer ID;Customer Name;Email;Created at;Qty;Total;Product\n"


def shop_export(n: int, seed: int = 5) -> str:
    rng = random.Random(seed)
    lines = []
    for i in range(n):
        c = rng.randrange(n // 4 + 1)
        email = f"c{c}@example.com" if c % 3 else ""
        lines.append(
            f"#{i};C{c};Customer {c};{email};2024-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}"
            f" {rng.randrange(24):02d}:{rng.randrange(60):02d}:{rng.randrange(60):02d};{rng.randint(1, 4)};"
            f"{rng.randrange(0, 99999) / 100:.2f};{'Grinder' if i % 7 else ''}\n"
        )
    return HEADER + "".join(lines)


def everything(engine: Engine) -> list[object]:
    return [
        rows(
            engine,
            "SELECT external_id, customer_id, ordered_at, amount_minor, currency, quantity, product, description FROM orders ORDER BY external_id",
        ),
        rows(
            engine,
            "SELECT id, external_id, name, email, first_seen, tags, marketing_consent, order_count, "
            "revenue_minor, last_order_at, anniversary_md, next_check_in_at FROM customers ORDER BY id",
        ),
    ]


def careful(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(orders_fast, "fast_path_refusal", lambda imp: "the test says so")


@pytest.mark.parametrize("known", [False, True], ids=["new desk", "customers known"])
@pytest.mark.parametrize("block", [orders_fast.BLOCK_BYTES, 2048], ids=["one batch", "many"])
def test_fast_and_careful_paths_agree(
    sqlite_engine: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    sqlite_template: Path,
    block: int,
    known: bool,
) -> None:
    """Also when the file is read in many small batches (a customer met again in a later
    batch keeps its id) and its new customers are written a few at a time, and when some
    of its customers are in the database already."""
    import shutil

    from keepwell.db import make_engine
    from keepwell.ingest.customers_import import import_customers

    other = tmp_path / "other"
    other.mkdir()
    shutil.copy(sqlite_template, other / "kw.db")
    second = make_engine(f"sqlite:///{other / 'kw.db'}")
    if known:  # the same moment for both: a customer with no order is due a check-in from it
        people = write(
            tmp_path,
            "customer_id,name\n" + "".join(f"C{c},Known {c}\n" for c in range(0, 750, 3)),
            "people.csv",
        )
        for desk in (sqlite_engine, second):
            with clock.frozen("2026-11-25T10:00:00"):
                import_customers(desk, people)
    monkeypatch.setattr(orders_fast, "BLOCK_BYTES", block)
    path = write(tmp_path, shop_export(3000))
    fast = import_orders(sqlite_engine, path)
    assert fast.fast_path and fast.added == 3000
    fast_rows = everything(sqlite_engine)
    careful(monkeypatch)
    slow = import_orders(second, path, ImportOptions(batch_rows=700))
    assert not slow.fast_path
    assert (slow.added, slow.customers_added, slow.rows) == (
        fast.added,
        fast.customers_added,
        fast.rows,
    )
    assert everything(second) == fast_rows
    second.dispose()


@pytest.mark.parametrize(
    ("bad_line", "message"),
    [
        (
            "#new;C1;x;;2024-01-01 10:00:00;1;$5.00;",
            None,
        ),  # formatted, but valid: careful path takes it
        (
            "#new;C1;x;;2024-02-30 10:00:00;1;5.00;",
            "column Created at: '2024-02-30 10:00:00' is not a valid date",
        ),
        (
            "#1;C1;x;;2024-01-01 10:00:00;1;5.00;",
            "column Order ID: order id '#1' appears twice in the file",
        ),
        (
            "#new;C1;x;;2024-01-01 10:00:00;1;-5.00;",
            "column Total: negative amount '-5.00' (refunds are not orders)",
        ),
        (
            "#new;C1;x;not-mail;2024-01-01 10:00:00;1;5.00;",
            "column Email: 'not-mail' is not an e-mail address",
        ),
        (
            "#new;C1;x;;2099-01-01 10:00:00;1;5.00;",
            "column Created at: date '2099-01-01 10:00:00' is in the future",
        ),
        ("#new;C1;x;;2024-01-01T10:00:00Z;1;5.00;", None),  # a zone: careful path converts it
    ],
)
def test_dirty_files_step_aside_to_the_careful_path(
    engine: Engine, tmp_path: Path, bad_line: str, message: str | None
) -> None:
    text = shop_export(400).splitlines(keepends=True)
    text.insert(200, bad_line + "\n")
    path = write(tmp_path, "".join(text))
    if message is None:
        summary = import_orders(engine, path)
        assert summary.added == 401 and not summary.fast_path
        return
    with clock.frozen("2026-11-25"), pytest.raises(ImportRejected) as caught:
        import_orders(engine, path)
    assert str(caught.value.errors[0]) == f"{path}:201: {message}"
    assert count(engine, "orders") == count(engine, "customers") == 0


def test_fast_path_joins_customers_already_known(sqlite_engine: Engine, tmp_path: Path) -> None:
    import_orders(
        sqlite_engine,
        write(tmp_path, "customer_id,order_date,amount\nC1,2020-01-01,1\n", "old.csv"),
    )
    orders_table_emptied = "DELETE FROM orders"
    with sqlite_engine.begin() as conn:
        conn.exec_driver_sql(orders_table_emptied)
    summary = import_orders(sqlite_engine, write(tmp_path, shop_export(200)))
    assert summary.fast_path
    assert rows(sqlite_engine, "SELECT count(*) FROM customers WHERE external_id = 'C1'") == [(1,)]
    # C1 was first seen in 2020 (its first order then), earlier than anything in the new file
    assert str(
        rows(sqlite_engine, "SELECT first_seen FROM customers WHERE external_id = 'C1'")[0][0]
    ).startswith("2020-01-01")


def test_fast_path_reimport_counts_unchanged_and_updates_changes(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    text = shop_export(1000)
    path = write(tmp_path, text)
    import_orders(sqlite_engine, path)
    before = everything(sqlite_engine)
    again = import_orders(sqlite_engine, path)
    assert again.fast_path and (again.added, again.updated, again.unchanged) == (0, 0, 1000)
    assert everything(sqlite_engine) == before
    lines = text.splitlines(keepends=True)
    lines[10] = (
        lines[10].replace("Grinder", "Kettle")
        if "Grinder" in lines[10]
        else lines[10].rstrip("\n") + "Kettle\n"
    )
    lines.append("#extra;C1;x;;2024-05-05 10:00:00;1;5.00;\n")
    summary = import_orders(sqlite_engine, write(tmp_path, "".join(lines), "grown.csv"))
    assert summary.fast_path and (summary.added, summary.updated, summary.unchanged) == (1, 1, 999)
    assert rows(sqlite_engine, "SELECT product FROM orders WHERE external_id = '#9'") == [
        ("Kettle",)
    ]


def _changed(text: str, seed: int) -> str:
    """The same export a month later: some orders changed in each column, some new."""
    rng = random.Random(seed)
    lines = text.splitlines(keepends=True)
    for at in rng.sample(range(1, len(lines)), 120):
        cells = lines[at].rstrip("\n").split(";")
        which = rng.randrange(6)
        if which == 0:
            cells[1] = f"C{rng.randrange(600)}"  # another customer
        elif which == 1:
            cells[4] = cells[4].replace("2024-", "2023-")  # another date
        elif which == 2:
            cells[6] = f"{rng.randrange(100, 99999) / 100:.2f}"  # another amount
        elif which == 3:
            cells[5] = str(int(cells[5]) % 4 + 1)  # another quantity
        elif which == 4:
            cells[7] = "" if cells[7] else "Kettle"  # a product gone, or come
        lines[at] = ";".join(cells) + "\n"  # (5: unchanged after all)
    grown = shop_export(len(lines) + 299, seed + 1).splitlines(keepends=True)[len(lines) :]
    return "".join(lines) + "".join(line.replace(";C", ";N", 1) for line in grown)


@pytest.mark.parametrize("columns", ["all", "no quantity or product"])
def test_fast_and_careful_reimports_agree(
    sqlite_engine: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    sqlite_template: Path,
    columns: str,
) -> None:
    """A changed, grown export into a desk that has its orders: the same updates, the
    same new orders and customers, the same counts, by either path."""
    import shutil

    from keepwell.db import make_engine

    def drop(text: str) -> str:
        if columns == "all":
            return text
        return "".join(
            ";".join(c for i, c in enumerate(line.rstrip("\n").split(";")) if i not in (5, 7))
            + "\n"
            for line in text.splitlines()
        )

    other = tmp_path / "other"
    other.mkdir()
    shutil.copy(sqlite_template, other / "kw.db")
    second = make_engine(f"sqlite:///{other / 'kw.db'}")
    monkeypatch.setattr(orders_fast, "BLOCK_BYTES", 4096)  # many parts
    first = write(tmp_path, drop(shop_export(2000)), "first.csv")
    later = write(tmp_path, drop(_changed(shop_export(2000), 11)), "later.csv")
    with clock.frozen("2026-11-25T10:00:00"):
        for desk in (sqlite_engine, second):
            import_orders(desk, first)
        fast = import_orders(sqlite_engine, later)
        careful(monkeypatch)
        slow = import_orders(second, later)
    assert fast.fast_path and not slow.fast_path
    counts = ("added", "updated", "unchanged", "customers_added", "rows")
    assert [getattr(fast, c) for c in counts] == [getattr(slow, c) for c in counts]
    assert fast.added == 300 and 40 < fast.updated < 120  # fewer without those columns
    assert everything(sqlite_engine) == everything(second)
    stamped = "SELECT external_id, import_id FROM orders ORDER BY external_id"
    assert rows(sqlite_engine, stamped) == rows(second, stamped)
    second.dispose()


def test_repeated_id_across_batches_into_a_table_with_orders(
    sqlite_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import_orders(
        sqlite_engine,
        write(tmp_path, "order_id,customer_id,order_date,amount\nOLD,1,2024-01-01,1\n", "old.csv"),
    )
    monkeypatch.setattr(orders_fast, "BLOCK_BYTES", 4096)  # many small batches
    body = (
        "".join(f"N{i},1,2024-01-01 10:00:00,1.00\n" for i in range(2000))
        + "N5,1,2024-01-02 10:00:00,2.00\n"
    )
    with pytest.raises(ImportRejected) as caught:
        import_orders(
            sqlite_engine, write(tmp_path, "order_id,customer_id,created_at,amount\n" + body)
        )
    assert str(caught.value.errors[0]).endswith(
        ":2002: column order_id: order id 'N5' appears twice in the file"
    )
    assert count(sqlite_engine, "orders") == 1


DERIVED = (
    "SELECT id, external_id, first_seen, order_count, revenue_minor, last_order_at, "
    "anniversary_md, next_check_in_at, birthday_md, last_contact_at, last_outbound_at, "
    "updated_at FROM customers ORDER BY id"
)


def test_new_customers_arrive_with_the_columns_a_refresh_derives(
    sqlite_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fast path writes the customers it meets first with their derived columns
    already computed (from the file, across many batches); a full refresh afterwards
    must find nothing to change — for them, and for the known customers it refreshed."""
    import_orders(
        sqlite_engine,
        write(
            tmp_path, "customer_id,order_date,amount\nC1,2020-01-01,1\nC2,2020-03-04,2\n", "old.csv"
        ),
    )
    with sqlite_engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM cadences")
        conn.exec_driver_sql("INSERT INTO cadences (segment, days) VALUES ('*', 30), ('vip', 10)")
        conn.exec_driver_sql("UPDATE customers SET segment = 'vip' WHERE external_id = 'C1'")
        conn.exec_driver_sql(
            "INSERT INTO touches (customer_id, channel, direction, happened_at, summary, created_at)"
            " SELECT id, 'call', 'inbound', '2024-06-01 09:00:00.000000', 'hello', "
            "'2024-06-01 09:00:00.000000' FROM customers WHERE external_id = 'C2'"
        )
    monkeypatch.setattr(orders_fast, "BLOCK_BYTES", 8192)  # many batches, customers met in each
    summary = import_orders(sqlite_engine, write(tmp_path, shop_export(3000)))
    assert summary.fast_path and summary.customers_added > 700
    after_import = rows(sqlite_engine, DERIVED)
    with sqlite_engine.begin() as conn:
        from keepwell.customers import derived

        derived.refresh(conn)
    assert rows(sqlite_engine, DERIVED) == after_import
    by_key = {r[1]: r for r in after_import}
    # the known customers: C1 first seen in 2020 still, C2's touch counted
    assert str(by_key["C1"][2]).startswith("2020-01-01")
    assert str(by_key["C2"][9]).startswith("2024-06-01")
    # and the figures are the orders' own
    assert rows(
        sqlite_engine,
        "SELECT count(*) FROM customers c WHERE order_count != "
        "(SELECT count(*) FROM orders o WHERE o.customer_id = c.id) OR revenue_minor != "
        "(SELECT sum(amount_minor) FROM orders o WHERE o.customer_id = c.id)",
    ) == [(0,)]
    # new customers fall under the default cadence of 30 days after their first order
    new = [r for r in after_import if r[1] not in ("C1", "C2")]
    assert all(r[7] is not None and r[7][:10] > r[2][:10] for r in new)


@pytest.mark.parametrize("path_taken", ["fast", "careful"])
def test_one_field_size_rule_on_both_paths(
    sqlite_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, path_taken: str
) -> None:
    from keepwell.ingest.csvfile import MAX_FIELD_CHARS

    if path_taken == "careful":
        careful(monkeypatch)
    longest = "y" * MAX_FIELD_CHARS
    text = ["Order ID,Customer ID,Created at,Total,Notes\n"]
    text += [f"#{i},C{i % 50},2024-01-01 10:00:00,5.00,note {i}\n" for i in range(400)]
    text.insert(100, f"#ok,C1,2024-01-01 10:00:00,5.00,{longest}\n")
    summary = import_orders(sqlite_engine, write(tmp_path, "".join(text), "ok.csv"))
    assert summary.added == 401 and summary.fast_path is (path_taken == "fast")
    stored = "SELECT length(description) FROM orders WHERE external_id = '#ok'"
    assert rows(sqlite_engine, stored) == [(MAX_FIELD_CHARS,)]

    text.insert(200, f"#long,C1,2024-01-01 10:00:00,5.00,{longest}y\n")
    path = write(tmp_path, "".join(text), "long.csv")
    before = everything(sqlite_engine)
    with pytest.raises(ImportRejected) as caught:
        import_orders(sqlite_engine, path)
    assert [str(e) for e in caught.value.errors] == [
        f"{path}:201: column Notes: 100,001 characters; a value may hold at most 100,000"
    ]
    assert everything(sqlite_engine) == before
