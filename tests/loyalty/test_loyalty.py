"""Loyalty: points and tiers computed in SQL match a hand-computed example; tier changes
are recorded for playbooks; settings are checked; API, CLI and the customer record."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from keepwell import clock, db
from keepwell.cli import app
from keepwell.customers.models import Customer
from keepwell.customers.record import customer_record
from keepwell.errors import InvalidInput
from keepwell.loyalty.models import LoyaltyStatus, TierChange
from keepwell.loyalty.service import (
    loyalty_of,
    make_config,
    refresh,
    set_loyalty_config,
    tier_changes_since,
)
from keepwell.orders.models import Order
from tests.api.conftest import Desk

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def shop(engine: Engine) -> dict[str, int]:
    """A: 300.00 + 800.50 this year; B: 249.99; C: 5,000.00 long ago; D: nothing."""
    with db.transaction(engine) as session:
        made = {n: Customer(name=n, external_id=n, tags=[]) for n in "ABCD"}
        session.add_all(made.values())
        session.flush()
        for n, (who, when, amount) in enumerate(
            [
                ("A", "2026-01-10 10:00", 30_000),
                ("A", "2026-10-01 10:00", 80_050),
                ("B", "2026-06-01 10:00", 24_999),
                ("C", "2025-06-01 10:00", 500_000),
            ]
        ):
            session.add(
                Order(
                    external_id=f"o{n}", customer_id=made[who].id, ordered_at=at(when),
                    amount_minor=amount, currency="EUR",
                )
            )  # fmt: skip
        return {n: c.id for n, c in made.items()}


def run(engine: Engine, day: str) -> tuple[int, int, dict[str, int]]:
    moment = datetime.combine(date.fromisoformat(day), datetime.min.time(), UTC).replace(hour=23)
    with clock.frozen(moment), engine.begin() as conn:
        result = refresh(conn, date.fromisoformat(day))
    return result.customers, result.changes, result.tiers


def status(engine: Engine) -> dict[int, tuple[int, str | None, date]]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(
                LoyaltyStatus.customer_id,
                LoyaltyStatus.points,
                LoyaltyStatus.tier,
                LoyaltyStatus.tier_since,
            )
        )
        return {cid: (points, tier, since) for cid, points, tier, since in rows}


def test_points_and_tiers_by_hand(engine: Engine) -> None:
    ids = shop(engine)
    A, B, C = ids["A"], ids["B"], ids["C"]
    # 1,100.50 € → 1,100 points: Gold; 249.99 € → 249: Bronze; C's order is over a year old
    assert run(engine, "2026-11-25") == (2, 2, {"Gold": 1, "Bronze": 1})
    assert status(engine) == {
        A: (1100, "Gold", date(2026, 11, 25)),
        B: (249, "Bronze", date(2026, 11, 25)),
    }
    assert run(engine, "2026-11-25") == (2, 0, {"Gold": 1, "Bronze": 1})  # again: no change
    with db.transaction(engine) as session:
        session.add(
            Order(
                external_id="o9",
                customer_id=B,
                ordered_at=at("2026-11-26 09:00"),
                amount_minor=100,
                currency="EUR",
            )
        )
    assert run(engine, "2026-11-26")[1] == 1  # 250.99 € → 250: Silver
    assert status(engine)[A][2] == date(2026, 11, 25)  # unchanged tier keeps its date
    assert status(engine)[B] == (250, "Silver", date(2026, 11, 26))
    # on 15 January 2027 A's January order has left the 365-day window: 800 points, Silver
    assert run(engine, "2027-01-15")[1:] == (1, {"Silver": 2})
    with db.transaction(engine) as session:
        set_loyalty_config(session, points_per_unit=0.5, window_days=0)
    # all time, half a point per euro: A 550 Silver, B 125 Bronze, C 2,500 Gold
    assert run(engine, "2027-01-15") == (3, 2, {"Silver": 1, "Bronze": 1, "Gold": 1})
    with db.transaction(engine) as session:
        changes = [
            (c.customer_id, c.from_tier, c.to_tier, c.points, c.reached_on)
            for c in tier_changes_since(session, T0)
        ]
        golds = [c.customer_id for c in tier_changes_since(session, T0, to_tier="Gold")]
        later = tier_changes_since(session, at("2026-11-27 00:00"))
        loyalty = loyalty_of(session, B)
    assert changes == [
        (A, None, "Gold", 1100, date(2026, 11, 25)),
        (B, None, "Bronze", 249, date(2026, 11, 25)),
        (B, "Bronze", "Silver", 250, date(2026, 11, 26)),
        (A, "Gold", "Silver", 800, date(2027, 1, 15)),
        (B, "Silver", "Bronze", 125, date(2027, 1, 15)),
        (C, None, "Gold", 2500, date(2027, 1, 15)),
    ]
    assert golds == [A, C]
    assert [c.customer_id for c in later] == [A, B, C]  # recorded after 26 November
    assert (loyalty.tier, loyalty.points, loyalty.next_tier, loyalty.points_to_next) == (
        "Bronze",
        125,
        "Silver",
        125,
    )


def test_a_customer_without_purchases_in_the_window_leaves_the_tiers(engine: Engine) -> None:
    ids = shop(engine)
    run(engine, "2026-11-25")
    assert run(engine, "2028-01-01") == (0, 2, {})
    with db.transaction(engine) as session:
        left = [
            (c.customer_id, c.to_tier) for c in tier_changes_since(session, at("2027-01-01 00:00"))
        ]
    assert sorted(left) == sorted([(ids["A"], None), (ids["B"], None)])
    assert status(engine) == {}


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"points_per_unit": 0}, "points_per_unit"),
        ({"points_per_unit": float("nan")}, "points_per_unit"),
        ({"window_days": -1}, "window_days"),
        ({"tiers": {}}, "tiers"),
        ({"tiers": {"Gold": 100, "Silver": 100}}, "tiers"),
        ({"tiers": {"Gold": -5}}, "tiers"),
        ({"tiers": {"": 5}}, "tiers"),
        ({"tiers": {"gold": 5, "Gold": 10}}, "tiers"),
    ],
)
def test_bad_settings_are_refused(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        make_config(**kwargs)
    assert refused.value.field == field


def test_record_api_and_permissions(desk: Desk) -> None:
    ids = shop(desk.engine)
    client = desk.client
    assert client.post("/api/loyalty/refresh", headers=desk.auth("member")).status_code == 403
    with clock.frozen("2026-11-25"):
        done = client.post("/api/loyalty/refresh", headers=desk.auth("admin"))
    assert done.status_code == 200, done.text
    assert done.json()["tiers"] == {"Gold": 1, "Bronze": 1}
    mine = client.get(f"/api/customers/{ids['A']}/loyalty", headers=desk.auth("viewer")).json()
    assert (mine["points"], mine["tier"], mine["next_tier"]) == (1100, "Gold", None)
    record = client.get(f"/api/customers/{ids['A']}/record", headers=desk.auth("viewer")).json()
    assert record["profile"]["loyalty"]["tier"] == "Gold"
    changes = client.get(
        "/api/loyalty/tier-changes?since=2026-01-01T00:00:00Z&tier=Gold",
        headers=desk.auth("viewer"),
    )
    assert [c["customer_id"] for c in changes.json()] == [ids["A"]]
    bad = client.put(
        "/api/loyalty/settings",
        json={"tiers": {"Gold": 10, "Silver": 10}},
        headers=desk.auth("admin"),
    )
    assert bad.status_code == 422 and bad.json()["detail"][0]["field"] == "tiers"
    assert (
        client.put(
            "/api/loyalty/settings", json={"window_days": 30}, headers=desk.auth("member")
        ).status_code
        == 403
    )
    good = client.put(
        "/api/loyalty/settings", json={"tiers": {"Fan": 10}}, headers=desk.auth("admin")
    )
    assert good.json()["tiers"] == {"Fan": 10}
    trail = client.get("/api/audit?table=settings", headers=desk.auth("admin")).json()
    assert any((e["after"] or {}).get("key") == "loyalty.tiers" for e in trail)  # audited


def test_cli_refresh_settings_and_show(tmp_path: Path) -> None:
    runner = CliRunner()
    url = f"sqlite:///{tmp_path / 'kw.db'}"

    def cli(*args: str) -> tuple[int, str, str]:
        result = runner.invoke(app, [*args, "-d", url])
        return result.exit_code, result.stdout, result.stderr

    assert cli("init")[0] == 0
    orders = tmp_path / "orders.csv"
    orders.write_text("customer_id,order_date,amount\nC1,2026-11-01,1200.00\nC2,2026-11-02,30.00\n")
    assert cli("import", "orders", str(orders))[0] == 0, cli("import", "orders", str(orders))
    bad = cli("loyalty", "settings", "--tier", "Gold")
    assert bad[0] != 0
    with clock.frozen("2026-11-25"):
        code, out, err = cli("loyalty", "refresh", "--json")
        assert code == 0, err
        assert json.loads(out)["tiers"] == {"Gold": 1, "Bronze": 1}
        shown = json.loads(cli("loyalty", "show", "C1")[1])
        assert (shown["tier"], shown["points"]) == ("Gold", 1200)
        changes = json.loads(cli("loyalty", "changes", "--since", "2026-01-01", "--json")[1])
        assert sorted(c["to_tier"] for c in changes) == ["Bronze", "Gold"]
        assert "loyalty: Gold, 1,200 points" in cli("show", "C1")[1]
        assert cli("loyalty", "settings", "--tier", "Star=5000")[0] == 0
        assert json.loads(cli("loyalty", "refresh", "--json")[1])["tiers"] == {}


def test_record_shows_loyalty(engine: Engine) -> None:
    ids = shop(engine)
    run(engine, "2026-11-25")
    with db.transaction(engine) as session:
        c = session.get(Customer, ids["B"])
        assert c is not None
        profile = customer_record(session, c).profile
    assert profile["loyalty"]["tier"] == "Bronze" and profile["loyalty"]["points"] == 249
    assert TierChange.__tablename__ == "loyalty_tier_changes"
