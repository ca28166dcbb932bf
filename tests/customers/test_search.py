"""Customer search: the trigram indexes find exactly what reading every customer finds,
and the SQLite index follows every change, imports included."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from keepwell import db
from keepwell.customers import search
from keepwell.customers.models import Customer
from keepwell.customers.privacy import erase_customer
from keepwell.customers.service import (
    CustomerFilter,
    create_customer,
    delete_customer,
    list_customers,
    update_customer,
)
from keepwell.errors import ImportRejected
from keepwell.ingest.customers_import import import_customers
from keepwell.ingest.demo import build_world
from keepwell.ingest.orders_import import import_orders

ODD = [
    {"name": "Ana 100% Pure", "company": "Pure_Juice Ltd", "email": "ana@pure.example"},
    {"name": 'Dara O"Brien', "company": "Back\\slash & Co"},
    {"name": "Zed Quartz", "company": "Quartzite Mining", "email": "zed@quartz.example"},
]


def _found(session: db.Session, text: str) -> set[int]:
    return {c.id for c in list_customers(session, CustomerFilter(search=text, limit=200))}


def _page(session: db.Session, text: str) -> list[int]:
    """The first page of the list (200, by id) for this search."""
    return [c.id for c in list_customers(session, CustomerFilter(search=text, limit=200))]


def _expected(session: db.Session, text: str) -> set[int]:
    """What the search must find, by reading every customer in Python (ASCII lower, as
    SQLite's lower(); the texts below are ASCII)."""
    lowered = text.lower()
    found = set()
    for c in session.scalars(sa.select(Customer)):
        fields = [c.name, c.email or "", c.company or ""]
        if (
            c.external_id == text
            or c.email == lowered
            or any(lowered in value.lower() for value in fields)
        ):
            found.add(c.id)
    return found


def _queries(session: db.Session) -> list[str]:
    people = session.scalars(sa.select(Customer).order_by(Customer.id).limit(40)).all()
    texts = ["100%", "_juice", 'o"b', "\\slash", "quartz", "QUARTZ", "ana@pure.example"]
    texts += ["zz", "e", "nobody-at-all", "x" * 3]
    for c in people[::7]:
        texts.append(c.name[:3])
        texts.append(c.name.split()[-1].upper())
        if c.email:
            texts.append(c.email.upper())
            texts.append(c.email.split("@")[1])
        if c.external_id:
            texts.append(c.external_id)
    return texts


@pytest.fixture
def shop(engine: Engine) -> Engine:
    build_world(engine, customers=250, seed=11, desk=False)
    with db.transaction(engine) as session:
        for fields in ODD:
            create_customer(session, dict(fields))
    return engine


def test_search_finds_what_reading_every_customer_finds(shop: Engine) -> None:
    with db.transaction(shop) as session:
        texts = _queries(session)
        checked = 0
        for text in texts:
            expected = _expected(session, text)
            assert _page(session, text) == sorted(expected)[:200], text
            checked += bool(expected)
        assert checked > 20  # most texts find someone
        assert _found(session, "100%") == _expected(session, "100%") != set()
        assert len(_found(session, "_juice")) == 1  # `_` is no wildcard


def test_letters_beyond_a_to_z_are_found_in_any_case(engine: Engine) -> None:
    """SQLite's lower() folds A–Z only; its trigram index folds every letter."""
    with db.transaction(engine) as session:
        ids = {
            create_customer(session, {"name": name, "company": company}).id
            for name, company in [("Ángela Álvarez", "Ørsted Café"), ("Åsa ÁLVAREZ", None)]
        }
        create_customer(session, {"name": "Alvarez Plain"})  # no accent: another name
    with db.transaction(engine) as session:
        for text in ("álvarez", "ÁLVAREZ", "Álvarez"):
            assert _found(session, text) == ids, text
        assert len(_found(session, "ngela álv")) == 1
        assert len(_found(session, "ørsted café")) == 1
        assert len(_found(session, "ØRSTED")) == 1
        assert len(_found(session, "lvarez")) == 3


def test_sqlite_search_uses_its_index_and_the_common_path_agrees(
    shop: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    if shop.dialect.name != "sqlite":
        with shop.connect() as conn:
            indexes = set(
                conn.scalars(sa.text("SELECT indexname FROM pg_indexes WHERE tablename = 'customers'"))
            )
        assert set(search.PG_INDEXES) <= indexes
        return
    with db.transaction(shop) as session:
        assert search.has_index(session)
        texts = _queries(session)
        by_index = {text: _page(session, text) for text in texts}
        # a text "common" from its first match on: the list is read in its own order
        monkeypatch.setattr(search, "COMMON_MATCHES", 1)
        assert {text: _page(session, text) for text in texts} == by_index


def _integrity(engine: Engine) -> None:
    """FTS5 compares its index with the customers table (raises on any difference)."""
    with engine.begin() as conn:
        conn.exec_driver_sql(f"INSERT INTO {search.INDEX} ({search.INDEX}) VALUES ('integrity-check')")
        triggers = set(conn.scalars(sa.text("SELECT name FROM sqlite_master WHERE type = 'trigger'")))
    assert set(search.TRIGGERS) <= triggers


def test_the_sqlite_index_follows_every_change(sqlite_engine: Engine) -> None:
    engine = sqlite_engine
    with db.transaction(engine) as session:
        ana = create_customer(session, {"name": "Ana Lindqvist", "company": "Fjord Foods"})
        bo = create_customer(session, {"name": "Bo Marsh", "email": "bo@marsh.example"})
        cy = create_customer(session, {"name": "Cy Tanaka"})
        ids = ana.id, bo.id, cy.id
    _integrity(engine)
    with db.transaction(engine) as session:
        assert _found(session, "lindq") == {ids[0]}
        assert _found(session, "fjord") == {ids[0]}
        update_customer(session, session.get(Customer, ids[0]), {"name": "Ana Berg"})
        erase_customer(session, session.get(Customer, ids[1]))
        delete_customer(session, session.get(Customer, ids[2]))
    _integrity(engine)
    with db.transaction(engine) as session:
        assert _found(session, "lindq") == set()
        assert _found(session, "berg") == {ids[0]}
        assert _found(session, "marsh") == set()  # erased: not findable by what they were
        assert _found(session, "tanaka") == set()


def test_an_import_indexes_its_new_customers_and_a_rejected_one_leaves_the_index(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    engine = sqlite_engine
    good = tmp_path / "customers.csv"
    good.write_text(
        "customer_id,name,email,company\n"
        + "".join(f"K{i},Person {i:04d},p{i}@firm{i % 7}.example,Firm {i % 7}\n" for i in range(300))
    )
    summary = import_customers(engine, good)
    assert summary.added == 300
    _integrity(engine)
    with db.transaction(engine) as session:
        assert len(_found(session, "person 01")) == 100  # 0100 to 0199
        assert len(_found(session, "firm3.example")) == len(range(3, 300, 7))
    orders = tmp_path / "orders.csv"
    orders.write_text(
        "order_id,customer_id,customer_name,order_date,amount\n"
        "O1,N1,Wilhelmina Oort,2024-01-05,10.00\n"
        "O2,N2,Xavier Quill,2024-01-06,12.00\n"
        "O3,K5,,2024-01-07,9.00\n"
    )
    import_orders(engine, orders)
    _integrity(engine)
    with db.transaction(engine) as session:
        assert len(_found(session, "oort")) == 1
        assert len(_found(session, "quill")) == 1
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "customer_id,name,email\nK900,Yolanda Brandt,y@b.example\nK901,Zoltan Kerr,not-an-address\n"
    )
    with db.transaction(engine) as session:
        before = session.scalar(sa.select(sa.func.count()).select_from(Customer))
    with pytest.raises(ImportRejected, match=":3: column email: 'not-an-address' is not an e-mail"):
        import_customers(engine, bad)
    _integrity(engine)
    with db.transaction(engine) as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Customer)) == before
        assert _found(session, "brandt") == set()
