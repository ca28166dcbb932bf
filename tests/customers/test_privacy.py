"""Export a person's data; erase it everywhere; an old file does not bring it back."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from keepwell import clock, db
from keepwell.customers.models import Customer
from keepwell.customers.privacy import erase_customer, export_customer
from keepwell.customers.service import find_customer
from keepwell.errors import ImportRejected, InvalidInput
from keepwell.ingest.customers_import import import_customers
from keepwell.ingest.importer import ImportOptions
from keepwell.ingest.orders_import import import_orders
from keepwell.promises.service import make_promise
from keepwell.touches.service import log_touch

NOW = datetime(2026, 11, 25, 10, tzinfo=UTC)
SECRET = "Lives at Rua das Flores 12"


def setup(engine: Engine, tmp_path: Path) -> tuple[Path, Path]:
    customers = tmp_path / "customers.csv"
    customers.write_text(
        f"id,name,email,phone,notes,birthday\nC1,Ana Silva,ana@example.com,+351 555,{SECRET},1980-02-29\nC2,Ben,ben@example.com,,,\n"
    )
    orders = tmp_path / "orders.csv"
    orders.write_text(
        "order_id,customer_id,created_at,amount\nO1,C1,2026-01-10 10:00:00,49.00\nO2,C2,2026-02-10 10:00:00,20.00\nO3,C1,2026-03-10 10:00:00,15.00\n"
    )
    import_customers(engine, customers)
    import_orders(engine, orders)
    with clock.frozen(NOW), db.transaction(engine) as session:
        ana = find_customer(session, "C1")
        log_touch(session, ana, channel="call", summary=f"Talked about moving; {SECRET}")
        make_promise(session, ana, what="send the catalogue to Ana at home", due_at=NOW)
    return customers, orders


def test_export_has_everything_about_one_person(engine: Engine, tmp_path: Path) -> None:
    setup(engine, tmp_path)
    with db.transaction(engine) as session:
        data = export_customer(session, find_customer(session, "C1"))
    assert data["customer"]["name"] == "Ana Silva" and data["customer"]["personal_notes"] == SECRET
    assert [o["external_id"] for o in data["orders"]] == ["O1", "O3"]
    assert SECRET in data["interactions"][0]["summary"]
    assert data["promises"][0]["what"] == "send the catalogue to Ana at home"
    json.dumps(data)  # plain JSON


def test_erase_removes_personal_data_everywhere_and_keeps_revenue(
    engine: Engine, tmp_path: Path
) -> None:
    setup(engine, tmp_path)
    with clock.frozen(NOW), db.transaction(engine) as session:
        done = erase_customer(session, find_customer(session, "C1"))
    assert (done.orders_kept, done.interactions, done.promises) == (2, 1, 1)
    with engine.connect() as conn:
        dump = json.dumps(
            [
                list(map(str, row))
                for table in (
                    "customers",
                    "touches",
                    "promises",
                    "orders",
                    "special_dates",
                    "audit_entries",  # the trail keeps that changes happened, not what they said
                )
                for row in conn.exec_driver_sql(f"SELECT * FROM {table}")
            ]
        )
        revenue = conn.exec_driver_sql("SELECT sum(amount_minor) FROM orders").scalar()
    for personal in ("Ana", "ana@example.com", "+351 555", SECRET, "1980-02-29", "catalogue"):
        assert personal not in dump, personal
    assert revenue == 8400  # the orders stay, anonymous: revenue reports stay true
    with db.transaction(engine) as session:
        ben = find_customer(session, "C2")
        assert ben.name == "Ben"  # nobody else touched
        with pytest.raises(InvalidInput, match="erased already"):
            erase_customer(
                session,
                session.scalars(sa.select(Customer).where(Customer.name == "(erased)")).one(),
            )


def test_an_old_file_does_not_bring_an_erased_customer_back(engine: Engine, tmp_path: Path) -> None:
    customers, _ = setup(engine, tmp_path)
    with clock.frozen(NOW), db.transaction(engine) as session:
        erase_customer(session, find_customer(session, "C1"))
    with pytest.raises(ImportRejected) as caught:
        import_customers(engine, customers)
    assert "column id: customer 'C1' was erased at their request" in caught.value.describe()
    new_orders = tmp_path / "more.csv"
    new_orders.write_text(
        "order_id,customer_id,created_at,amount\nO9,C1,2026-04-10 10:00:00,5.00\n"
    )
    with pytest.raises(ImportRejected, match="customer 'C1' was erased at their request"):
        import_orders(engine, new_orders)
    by_email = tmp_path / "by_email.csv"
    by_email.write_text("email,name\nANA@example.com,Ana again\n")
    with pytest.raises(ImportRejected, match=r"'ana@example\.com' was erased"):
        import_customers(engine, by_email)
    # confirmed: they come back as a new customer, the tombstone untouched
    assert import_customers(engine, customers, ImportOptions(allow_erased=True)).added == 1
    with engine.connect() as conn:
        names = sorted(r[0] for r in conn.exec_driver_sql("SELECT name FROM customers"))
    assert names == ["(erased)", "Ana Silva", "Ben"]


def test_cli_export_and_erase(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from keepwell.cli import app

    url = f"sqlite:///{tmp_path / 'kw.db'}"
    monkeypatch.setenv("KEEPWELL_DATABASE_URL", url)
    runner = CliRunner()
    assert runner.invoke(app, ["init"]).exit_code == 0
    engine = db.make_engine(url)
    setup(engine, tmp_path)
    engine.dispose()
    exported = runner.invoke(app, ["customer", "export", "C1"])
    assert (
        exported.exit_code == 0 and json.loads(exported.stdout)["customer"]["name"] == "Ana Silva"
    )
    refused = runner.invoke(app, ["customer", "erase", "C1"], input="n\n")
    assert refused.exit_code == 1
    erased = runner.invoke(app, ["customer", "erase", "C1", "--yes"])
    assert erased.exit_code == 0 and "orders 2 kept anonymous" in erased.stdout
    assert runner.invoke(app, ["customer", "export", "C1"]).exit_code == 1  # no such customer now
