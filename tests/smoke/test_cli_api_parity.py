"""A record reads the same at the command line and over HTTP: `keepwell … --json`, each
in its own process, against a real `keepwell serve` on the same desk, on SQLite and
PostgreSQL. The same fields with the same values — not only the same names — for the
same promises, cases, tasks and customers (docs/api.md, "The same JSON at the command
line")."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.smoke.process import Result, keepwell
from tests.smoke.server import Served, empty_postgres_database, serving

ANA = "ana@shop.example"


@dataclass
class Desk:
    served: Served
    api: httpx.Client

    def run(self, *args: str) -> Result:
        return keepwell(*args, env=self.served.env)

    def cli(self, *args: str) -> Any:
        return self.run(*args, "--json").json()

    def get(self, path: str, **params: Any) -> Any:
        answer = self.api.get(path, params=params)
        assert answer.status_code == 200, answer.text
        return answer.json()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def desk(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Desk]:
    """A desk served without its scheduler (nothing changes between two reads), with a
    few records made at the command line."""
    home = tmp_path_factory.mktemp(f"parity-{request.param}")
    database = (
        empty_postgres_database("parity")
        if request.param == "postgresql"
        else nullcontext(f"sqlite:///{home / 'keepwell.db'}")
    )
    with (
        database as url,
        serving(url, home, options=("--no-scheduler",)) as served,
        served.client() as api,
    ):
        made = Desk(served, api)
        _records(made, home)
        yield made


def _records(desk: Desk, home: Path) -> None:
    desk.run("member", "add", ANA, "--name", "Ana Lima")
    customers = home / "customers.csv"
    customers.write_text(
        "customer_id,name,email,segment,owner,birthday\n"
        f"C1,Rui Costa,rui@example.com,vip,{ANA},1980-02-29\n"
        "C2,Eva Nowak,eva@example.com,retail,,\n"
    )
    desk.run("import", "customers", str(customers))
    desk.run("promise", "add", "C1", "Send the invoice copy", "--due", "2026-11-27")
    desk.run("promise", "add", "C2", "Call back", "--due", "2026-11-26T10:00", "--by", ANA)
    desk.run("case", "open", "C1", "Grinder arrived broken", "--severity", "high")
    desk.run("case", "respond", "1", "A new one ships today")
    desk.run("task", "add", "C2", "Ask how the first bag was.", "--due", "+2")


def test_promises(desk: Desk) -> None:
    api = desk.get("/api/promises")
    assert len(api) == 2 and {"member_id", "version"} <= set(api[0])
    assert desk.cli("promise", "list") == api
    ana = next(m["id"] for m in desk.get("/api/members") if m["email"] == ANA)
    mine = desk.get("/api/promises", owner=ana, status="open")
    assert [p["what"] for p in mine] == ["Call back", "Send the invoice copy"]
    assert desk.cli("promise", "list", "--owner", ANA, "--status", "open") == mine


def test_cases(desk: Desk) -> None:
    api = desk.get("/api/cases")
    assert [c["title"] for c in api] == ["Grinder arrived broken"]
    assert desk.cli("case", "list") == api
    shown = desk.get(f"/api/cases/{api[0]['id']}")
    assert shown["interactions"] and shown["tasks"] == []
    assert desk.cli("case", "show", str(api[0]["id"])) == shown


def test_tasks(desk: Desk) -> None:
    api = desk.get("/api/tasks", status="all")
    assert [t["reason"] for t in api] == ["Ask how the first bag was."]
    assert desk.cli("task", "list", "--status", "all") == api


def test_customers(desk: Desk) -> None:
    page = desk.get("/api/customers")
    assert [c["name"] for c in page["items"]] == ["Rui Costa", "Eva Nowak"]
    assert desk.cli("customer", "list") == page["items"]
    vip = desk.get("/api/customers", segment="vip", sort="-revenue")
    assert desk.cli("customer", "list", "--segment", "vip", "--sort", "-revenue") == vip["items"]
    record = desk.get("/api/customers/1/record", limit=30)
    assert "A new one ships today" in str(record["timeline"])
    assert desk.cli("show", "#1") == record  # its timeline: 30 entries by default
