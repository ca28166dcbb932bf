"""Importing customers: matching by id or e-mail, partial updates, owners, ugly cells."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from keepwell import clock, db
from keepwell.accounts.service import add_member
from keepwell.customers.models import Customer
from keepwell.errors import ImportRejected
from keepwell.ingest.customers_import import import_customers
from keepwell.ingest.importer import ImportOptions
from keepwell.ingest.orders_import import import_orders
from tests.ingest.test_orders_import import count, write

HEADER = "Customer ID,First Name,Last Name,Email,Phone,Company,Segment,Tags,Owner,Birthday,Accepts Marketing,Language,Notes\n"


def customer(engine: Engine, external_id: str) -> Customer:
    with db.transaction(engine) as session:
        found = session.query(Customer).filter_by(external_id=external_id).one()
        session.expunge(found)
        return found


def test_import_then_reimport_is_idempotent(engine: Engine, tmp_path: Path) -> None:
    with db.transaction(engine) as session:
        add_member(session, "Anna@keepwell.example", "Anna")
    text = HEADER + (
        'C1,Ana,Silva,ANA@example.com,+351 555,Silva Lda,VIP,"coffee, gifts",anna@keepwell.example,1980-02-29,yes,pt,"Two kids; loves hiking"\n'
        "C2,Ben,,ben@example.com,,,retail,,,,no,,\n"
    )
    path = write(tmp_path, text, "customers.csv")
    first = import_customers(engine, path)
    assert (first.added, first.updated, first.unchanged) == (2, 0, 0)
    again = import_customers(engine, path)
    assert (again.added, again.updated, again.unchanged) == (0, 0, 2)
    ana = customer(engine, "C1")
    assert (ana.name, ana.email, ana.segment, ana.tags) == (
        "Ana Silva",
        "ana@example.com",
        "vip",
        ["coffee", "gifts"],
    )
    assert ana.birthday == date(1980, 2, 29)
    assert ana.marketing_consent is True
    assert ana.personal_notes == "Two kids; loves hiking"
    assert ana.owner_id is not None


def test_empty_cells_keep_what_is_known_and_changes_bump_the_version(
    engine: Engine, tmp_path: Path
) -> None:
    import_customers(engine, write(tmp_path, "id,name,phone\nC1,Ana,+1 555\n", "a.csv"))
    summary = import_customers(
        engine, write(tmp_path, "id,name,phone,company\nC1,Ana Silva,,Acme\n", "b.csv")
    )
    assert summary.updated == 1
    ana = customer(engine, "C1")
    assert (ana.name, ana.phone, ana.company, ana.version) == ("Ana Silva", "+1 555", "Acme", 2)


def test_orders_then_customers_fill_in_the_same_people(engine: Engine, tmp_path: Path) -> None:
    import_orders(
        engine, write(tmp_path, "customer_id,order_date,amount\nC9,2024-01-01,5\n", "o.csv")
    )
    summary = import_customers(engine, write(tmp_path, "customer_id,name\nC9,Zoe\n", "c.csv"))
    assert (summary.added, summary.updated) == (0, 1)
    assert count(engine, "customers") == 1


def test_match_by_email_when_there_is_no_id(engine: Engine, tmp_path: Path) -> None:
    path = write(tmp_path, "E-mail;Name\nzoe@example.com;Zoe\n", "c.csv")
    assert import_customers(engine, path).added == 1
    path.write_text("E-mail;Name\nZOE@example.com;Zoe Q\n")
    assert import_customers(engine, path).updated == 1
    assert count(engine, "customers") == 1


@pytest.mark.parametrize(
    ("row", "column", "reason"),
    [
        ("C1,x,not-an-email,,,", "email", "'not-an-email' is not an e-mail address"),
        ("C1,x,,nobody@x.com,,", "owner", "no team member with e-mail 'nobody@x.com'"),
        ("C1,x,,,2090-01-01,", "birthday", "date '2090-01-01' is in the future"),
        ("C1,x,,,,maybe", "consent", "'maybe' is not yes/no"),
        (",x,,,,", "id", "the customer id is empty"),
    ],
)
def test_bad_cells_are_named(
    sqlite_engine: Engine, tmp_path: Path, row: str, column: str, reason: str
) -> None:
    path = write(tmp_path, f"id,name,email,owner,birthday,consent\nC0,ok,,,,\n{row}\n", "c.csv")
    with clock.frozen("2026-11-25"), pytest.raises(ImportRejected) as caught:
        import_customers(sqlite_engine, path)
    error = caught.value.errors[0]
    assert (error.line, error.column) == (3, column)
    assert error.reason.startswith(reason)
    assert count(sqlite_engine, "customers") == 0


def test_duplicate_customers_in_one_file(sqlite_engine: Engine, tmp_path: Path) -> None:
    path = write(tmp_path, "id,name\nC1,Ana\nC2,Ben\nC1,Ana again\n", "c.csv")
    with pytest.raises(ImportRejected) as caught:
        import_customers(sqlite_engine, path)
    assert str(caught.value.errors[0]).endswith(
        ":4: column id: customer 'C1' appears twice in the file"
    )


def test_opt_out_wins_and_is_stable(sqlite_engine: Engine, tmp_path: Path) -> None:
    path = write(tmp_path, "id,accepts marketing,unsubscribed\nC1,yes,yes\n", "c.csv")
    import_customers(sqlite_engine, path)
    first = customer(sqlite_engine, "C1")
    assert first.marketing_consent is False and first.opted_out_at is not None
    assert import_customers(sqlite_engine, path).unchanged == 1
    assert customer(sqlite_engine, "C1").opted_out_at == first.opted_out_at


def test_skip_invalid_and_dry_run(sqlite_engine: Engine, tmp_path: Path) -> None:
    path = write(tmp_path, "id,email\nC1,a@x.com\nC2,broken\n", "c.csv")
    assert (
        import_customers(
            sqlite_engine, path, ImportOptions(dry_run=True, skip_invalid=tmp_path / "r.csv")
        ).added
        == 1
    )
    assert count(sqlite_engine, "customers") == 0
    summary = import_customers(sqlite_engine, path, ImportOptions(skip_invalid=tmp_path / "r.csv"))
    assert (summary.added, summary.rejected) == (1, 1)
    assert "C2,broken,3,column email:" in (tmp_path / "r.csv").read_text()


def test_a_value_over_the_field_size_limit_is_refused_with_its_line_and_column(
    engine: Engine, tmp_path: Path
) -> None:
    from keepwell.ingest.csvfile import MAX_FIELD_CHARS

    notes = "n" * (MAX_FIELD_CHARS + 1)
    path = write(
        tmp_path,
        f"customer_id,name,personal_notes\nC1,Ann,short\nC2,Bob,{notes}\n",
        "customers.csv",
    )
    with pytest.raises(ImportRejected) as caught:
        import_customers(engine, path)
    assert [str(e) for e in caught.value.errors] == [
        f"{path}:3: column personal_notes: 100,001 characters; a value may hold at most 100,000"
    ]
    assert count(engine, "customers") == 0
