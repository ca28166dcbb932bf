"""What is wrong with a file is named exactly: the byte that is not text, with its line
and column (also after a BOM, and across the reader's 64 KiB chunks); a header that
names a column Keepwell reads twice — for orders and customers, on the fast path and the
careful one. Nothing is written."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from keepwell.errors import ImportRejected
from keepwell.ingest.customers_import import import_customers
from keepwell.ingest.importer import ImportOptions
from keepwell.ingest.orders_import import import_orders
from tests.ingest.test_orders_import import count, write

HEADER = b"order_id,customer_id,order_date,amount\n"


def refusal(engine: Engine, path: Path, options: ImportOptions | None = None) -> str:
    with pytest.raises(ImportRejected) as caught:
        import_orders(engine, path, options)
    [error] = caught.value.errors
    assert count(engine, "orders") == 0 and count(engine, "customers") == 0
    return str(error)


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"], ids=["plain", "bom"])
def test_the_byte_that_is_not_text_is_named_with_its_line_and_column(
    sqlite_engine: Engine, tmp_path: Path, bom: bytes
) -> None:
    data = bom + HEADER + b"A1,1,2024-01-01,1.00\nA2,2,2024-01-01,1.0\xff\n"
    path = write(tmp_path, data)
    encoding = "utf-8-sig" if bom else "utf-8"
    assert refusal(sqlite_engine, path).startswith(
        f"{path}:3: not valid {encoding} text (byte 0xFF at column 20 of the line)"
    )


def test_a_bad_byte_after_a_character_cut_between_chunks(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    """The reader takes the file 64 KiB at a time: here an "é" is cut by that boundary
    and the bad byte follows it; the byte and its place are still the right ones."""
    head = HEADER + b"".join(b"A%d,1,2024-01-01,1.00\n" % i for i in range(2000))
    line = b"B1,2,2024-01-01,"
    pad = 65536 - len(head) - len(line) - 1  # the "é" (C3 A9) starts at byte 65535
    assert pad > 0
    data = head + line + b"9" * pad + "é".encode() + b"\x80x\n"
    path = write(tmp_path, data)
    assert data.index("é".encode()) == 65535
    column = len(line) + pad + 2  # after the "é"
    assert refusal(sqlite_engine, path).startswith(
        f"{path}:2002: not valid utf-8 text (byte 0x80 at column {column} of the line)"
    )


ORDERS = "order_id,customer_id,order_date,amount,{twin}\nA1,C1,2024-01-02,10.00,{value}\n"


@pytest.mark.parametrize(
    ("twin", "value", "options"),
    [
        ("Amount", "99.00", None),  # clean otherwise: the fast path would take it
        ("amount", "99.00", ImportOptions(date_format="%Y-%m-%d")),  # the careful path
        ("Customer ID", "C2", None),
    ],
)
def test_a_column_named_twice_is_refused(
    engine: Engine, tmp_path: Path, twin: str, value: str, options: ImportOptions | None
) -> None:
    path = write(tmp_path, ORDERS.format(twin=twin, value=value).encode())
    first = "amount" if twin.lower() == "amount" else "customer_id"
    position = 4 if first == "amount" else 2
    names = f"{first!r} twice" if twin == first else f"{first!r} and {twin!r}"
    assert refusal(engine, path, options) == (
        f"{path}:1: the header has {names} (columns {position} and 5): which one is "
        f"{first}? Rename or remove one"
    )


def test_the_same_file_without_its_twin_takes_the_path_the_case_says(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    """(So the cases above are refused on the path they name.)"""
    path = write(tmp_path, b"order_id,customer_id,order_date,amount\nA1,C1,2024-01-02,10.00\n")
    assert (
        import_orders(sqlite_engine, path, ImportOptions(date_format="%Y-%m-%d")).fast_path is False
    )
    path.write_bytes(path.read_bytes().replace(b"A1,C1", b"A2,C2"))
    assert import_orders(sqlite_engine, path).fast_path is True


def test_a_customers_file_with_a_column_named_twice_is_refused(
    engine: Engine, tmp_path: Path
) -> None:
    path = write(tmp_path, b"id,email,name,Email\nC1,a@x.example,Ana,b@x.example\n")
    with pytest.raises(ImportRejected) as caught:
        import_customers(engine, path)
    assert [str(e) for e in caught.value.errors] == [
        f"{path}:1: the header has 'email' and 'Email' (columns 2 and 4): which one is "
        "email? Rename or remove one"
    ]
    assert count(engine, "customers") == 0


def test_a_column_keepwell_does_not_read_may_come_twice(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    path = write(tmp_path, ORDERS.format(twin="Tag,Tag", value="a,b").encode())
    summary = import_orders(sqlite_engine, path)
    assert summary.added == 1 and summary.ignored_columns == ["Tag", "Tag"]
