"""The demo world generator: deterministic, realistic in shape, all or nothing."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from keepwell.db import make_engine, upgrade
from keepwell.errors import InvalidInput, KeepwellError
from keepwell.ingest.demo import DemoSummary, build_world
from keepwell.models import metadata
from tests.conftest import throwaway_postgres

TODAY = date(2026, 11, 25)
MIDNIGHT = datetime(2026, 11, 25, tzinfo=UTC)
TABLES = ("team_members", "customers", "special_dates", "orders")


def fresh_engine() -> Engine:
    engine = make_engine("sqlite://")
    upgrade(engine)
    return engine


@pytest.fixture
def mem() -> Iterator[Engine]:
    """An empty, migrated in-memory SQLite database (the demo's own, not conftest's `engine`)."""
    engine = fresh_engine()
    yield engine
    engine.dispose()


def rows(engine: Engine, name: str) -> list[dict[str, Any]]:
    """Every row of a table in id order, without the wall-clock bookkeeping columns."""
    table = metadata.tables[name]
    with engine.connect() as conn:
        result = conn.execute(sa.select(table).order_by(table.c.id)).mappings().all()
    return [
        {k: v for k, v in row.items() if k not in ("created_at", "updated_at")} for row in result
    ]


def count(engine: Engine, name: str) -> int:
    with engine.connect() as conn:
        return conn.execute(
            sa.select(sa.func.count()).select_from(metadata.tables[name])
        ).scalar_one()


def world(engine: Engine, customers: int = 150, seed: int = 7) -> DemoSummary:
    return build_world(engine, customers=customers, seed=seed, today=TODAY)


def last_orders(engine: Engine) -> dict[int, datetime]:
    by_customer: dict[int, datetime] = {}
    for order in rows(engine, "orders"):
        at = order["ordered_at"]
        by_customer[order["customer_id"]] = max(at, by_customer.get(order["customer_id"], at))
    return by_customer


def next_anniversary(day: date, after: date) -> date:
    for year in (after.year, after.year + 1, after.year + 2):
        try:
            candidate = day.replace(year=year)
        except ValueError:  # 29 February in a common year
            candidate = date(year, 3, 1)
        if candidate >= after:
            return candidate
    raise AssertionError("unreachable")


# --- determinism -------------------------------------------------------------------


def test_same_seed_and_day_build_the_same_rows() -> None:
    one, two = fresh_engine(), fresh_engine()
    first, second = world(one, 120, seed=3), world(two, 120, seed=3)
    assert first == second
    for name in TABLES:
        assert rows(one, name) == rows(two, name), name
        assert rows(one, name), name


def test_another_seed_builds_another_world() -> None:
    one, two = fresh_engine(), fresh_engine()
    world(one, 80, seed=1)
    world(two, 80, seed=2)
    assert rows(one, "customers") != rows(two, "customers")
    assert rows(one, "orders") != rows(two, "orders")


# --- what was written ---------------------------------------------------------------


def test_summary_counts_are_the_table_counts(mem: Engine) -> None:
    summary = world(mem, 200)
    orders = rows(mem, "orders")
    assert summary.members == count(mem, "team_members") == 4
    assert summary.customers == count(mem, "customers") == 200
    assert summary.orders == len(orders) > 200
    assert summary.special_dates == count(mem, "special_dates") > 0
    assert summary.revenue_minor == sum(o["amount_minor"] for o in orders)
    assert summary.currency == "EUR"
    assert summary.first_order == min(o["ordered_at"] for o in orders).date()
    assert summary.last_order == max(o["ordered_at"] for o in orders).date()


def test_every_customer_has_an_owner_and_an_order(mem: Engine) -> None:
    world(mem, 150)
    members = {m["id"] for m in rows(mem, "team_members")}
    customers = rows(mem, "customers")
    buyers = {o["customer_id"] for o in rows(mem, "orders")}
    assert all(c["owner_id"] in members for c in customers)
    assert {c["id"] for c in customers} == buyers
    assert len({c["owner_id"] for c in customers}) == 4  # the work is shared
    assert [c["external_id"] for c in customers] == [f"C{n:06d}" for n in range(1, 151)]


def test_orders_are_past_positive_and_in_business_hours(mem: Engine) -> None:
    world(mem, 150)
    orders = rows(mem, "orders")
    assert [o["external_id"] for o in orders] == [f"O{n:07d}" for n in range(1, len(orders) + 1)]
    for order in orders:
        at = order["ordered_at"]
        assert at.tzinfo is not None and at.utcoffset() == timedelta(0)
        assert at < MIDNIGHT
        assert 7 <= at.hour < 18
        assert order["amount_minor"] > 0
        assert 1 <= order["quantity"] <= 5
        assert order["currency"] == "EUR"
        assert order["product"]
    assert min(o["ordered_at"] for o in orders) >= MIDNIGHT - timedelta(days=3 * 366)


def test_first_order_is_first_seen(mem: Engine) -> None:
    world(mem, 150)
    first: dict[int, datetime] = {}
    for order in rows(mem, "orders"):
        at = order["ordered_at"]
        first[order["customer_id"]] = min(at, first.get(order["customer_id"], at))
    for customer in rows(mem, "customers"):
        assert customer["first_seen"] == first[customer["id"]]


def test_recent_cohorts_are_larger(mem: Engine) -> None:
    world(mem, 300)
    seen = [c["first_seen"] for c in rows(mem, "customers")]
    assert seen == sorted(seen)  # numbered in order of arrival
    newest = sum(1 for s in seen if s >= MIDNIGHT - timedelta(days=365))
    oldest = sum(1 for s in seen if s < MIDNIGHT - timedelta(days=730))
    assert newest > oldest > 0


def test_some_birthdays_fall_in_the_coming_week(mem: Engine) -> None:
    world(mem, 60)
    birthdays = [c["birthday"] for c in rows(mem, "customers") if c["birthday"]]
    soon = [b for b in birthdays if 1 <= (next_anniversary(b, TODAY) - TODAY).days <= 7]
    assert len(soon) >= 3
    assert 0.4 < len(birthdays) / 60 < 0.85


def test_a_clear_share_of_customers_went_quiet(mem: Engine) -> None:
    world(mem, 200)
    last = last_orders(mem)
    quiet = sum(1 for at in last.values() if at < MIDNIGHT - timedelta(days=180))
    assert 0.15 < quiet / len(last) < 0.7
    recent = sum(1 for at in last.values() if at >= MIDNIGHT - timedelta(days=30))
    assert recent > 0


def test_people_look_like_people(mem: Engine) -> None:
    world(mem, 200)
    team = rows(mem, "team_members")
    assert sorted(m["role"] for m in team) == ["admin", "member", "member", "member"]
    assert all(m["email"].endswith("@keepwell.example") and " " in m["name"] for m in team)

    customers = rows(mem, "customers")
    emails = [c["email"] for c in customers]
    assert len(set(emails)) == len(emails)
    assert all(re.fullmatch(r"[a-z0-9._]+@[a-z0-9.-]+\.example", e) for e in emails)
    assert all(c["name"].count(" ") >= 1 and c["phone"].startswith("+") for c in customers)
    assert len({c["language"] for c in customers}) >= 5
    assert {c["segment"] for c in customers} == {"retail", "wholesale", "vip"}
    assert all(bool(c["company"]) == (c["segment"] == "wholesale") for c in customers)
    noted = sum(1 for c in customers if c["personal_notes"])
    assert 0.25 < noted / len(customers) < 0.55
    assert any(c["cultural_notes"] for c in customers)
    consent = sum(1 for c in customers if c["marketing_consent"])
    assert 0.55 < consent / len(customers) < 0.85
    for c in customers:
        if c["opted_out_at"] is not None:
            assert not c["marketing_consent"]
            assert c["first_seen"] < c["opted_out_at"] < MIDNIGHT
    assert all(isinstance(c["tags"], list) for c in customers)

    kinds = {d["kind"] for d in rows(mem, "special_dates")}
    assert kinds <= {"renewal", "founding", "custom"} and "renewal" in kinds


def test_cultural_notes_match_the_language(mem: Engine) -> None:
    world(mem, 400)
    for c in rows(mem, "customers"):
        note = c["cultural_notes"] or ""
        if "Ramadan" in note:
            assert c["language"] == "ar"
        if "-san" in note:
            assert c["language"] == "ja"
        if "(Sie)" in note:
            assert c["language"] == "de"


# --- refusals and atomicity ----------------------------------------------------------


def test_refuses_a_database_that_holds_customers(mem: Engine) -> None:
    world(mem, 50)
    before = {name: count(mem, name) for name in TABLES}
    with pytest.raises(KeepwellError, match="already holds 50 customers"):
        world(mem, 50, seed=8)
    assert {name: count(mem, name) for name in TABLES} == before


def test_a_failure_midway_writes_nothing(mem: Engine) -> None:
    def explode(done: int, total: int) -> None:
        raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError, match=r"^interrupted$"):
        build_world(mem, customers=1200, today=TODAY, progress=explode)
    assert {name: count(mem, name) for name in TABLES} == dict.fromkeys(TABLES, 0)


def test_reports_progress_per_chunk(mem: Engine) -> None:
    calls: list[tuple[int, int]] = []
    build_world(mem, customers=1200, today=TODAY, progress=lambda d, t: calls.append((d, t)))
    assert calls == [(500, 1200), (1000, 1200), (1200, 1200)]


def test_rejects_nonsense_sizes(mem: Engine) -> None:
    with pytest.raises(InvalidInput, match="must be at least 1") as caught:
        build_world(mem, customers=0, today=TODAY)
    assert caught.value.field == "customers"
    with pytest.raises(InvalidInput, match="must be at least 1") as caught:
        build_world(mem, customers=10, years=0, today=TODAY)
    assert caught.value.field == "years"


def test_reuses_team_members_already_there(mem: Engine) -> None:
    members = metadata.tables["team_members"]
    with mem.begin() as conn:
        conn.execute(
            sa.insert(members).values(
                email="anna@keepwell.example",
                name="Anna B.",
                role="admin",
                active=True,
                created_at=MIDNIGHT,
            )
        )
    summary = world(mem, 20)
    assert summary.members == count(mem, "team_members") == 4


# --- the default world ----------------------------------------------------------------


def test_the_default_world_is_a_believable_shop(mem: Engine) -> None:
    summary = build_world(mem, today=TODAY)  # (speed is for benchmarks, not a timed test)
    assert summary.customers == 2000
    assert 6_000 <= summary.orders <= 15_000
    last = last_orders(mem)
    quiet = sum(1 for at in last.values() if at < MIDNIGHT - timedelta(days=180))
    assert 0.20 <= quiet / len(last) <= 0.50
    vip = sum(1 for c in rows(mem, "customers") if c["segment"] == "vip")
    assert 0.02 < vip / 2000 < 0.08


# --- PostgreSQL ------------------------------------------------------------------------


@pytest.fixture
def postgres_engine() -> Iterator[Engine]:
    """A throwaway database on the test server, dropped afterwards."""
    with throwaway_postgres(f"kw_demo_{uuid.uuid4().hex[:12]}") as url:
        engine = make_engine(url)
        try:
            upgrade(engine)
            yield engine
        finally:
            engine.dispose()


@pytest.mark.postgres
def test_postgres_builds_the_same_world_as_sqlite(postgres_engine: Engine) -> None:
    lite = fresh_engine()
    summary = world(postgres_engine, 150, seed=11)
    assert summary == world(lite, 150, seed=11)
    assert summary.customers == count(postgres_engine, "customers")
    assert summary.orders == count(postgres_engine, "orders")
    assert summary.special_dates == count(postgres_engine, "special_dates")
    for name in TABLES:
        assert rows(postgres_engine, name) == rows(lite, name), name
    with pytest.raises(KeepwellError, match="already holds"):
        world(postgres_engine, 10)
