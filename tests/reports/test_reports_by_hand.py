"""The monthly reports on a small shop whose every figure is worked out by hand here,
from the rules in docs/reports.md, docs/promises.md and docs/cases.md — not from what
the code printed. Through `keepwell report NAME --json`, on SQLite and PostgreSQL.

The shop, April to June 2026 (the report's day: 30 June; three months):

    orders        March  April        May      June              July
    Ana (A)              10.00, 5.00  20.00
    Ben (B)              7.00                  3.00
    Cy  (C)                           12.00    4.00 (30th, 23:00)
    Dee (D)                                    9.00              9.00 (1st, 00:30)
    Eve (E)       8.00                6.00
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from keepwell import clock, db
from keepwell.accounts.models import TeamMember
from keepwell.accounts.service import add_member
from keepwell.cases.service import open_case, reopen, resolve, respond
from keepwell.cli import app
from keepwell.customers.models import Customer
from keepwell.feedback.answers import record_feedback
from keepwell.ingest.orders_import import import_orders
from keepwell.promises.service import (
    break_promise,
    cancel_promise,
    complete_promise,
    make_promise,
    progress_update,
)

ORDERS = """customer_id,customer_name,created_at,amount
E,Eve,2026-03-20 10:00:00,8.00
A,Ana,2026-04-03 10:00:00,10.00
B,Ben,2026-04-15 10:00:00,7.00
A,Ana,2026-04-20 10:00:00,5.00
C,Cy,2026-05-05 10:00:00,12.00
A,Ana,2026-05-10 10:00:00,20.00
E,Eve,2026-05-25 10:00:00,6.00
B,Ben,2026-06-02 10:00:00,3.00
D,Dee,2026-06-10 10:00:00,9.00
C,Cy,2026-06-30 23:00:00,4.00
D,Dee,2026-07-01 00:30:00,9.00
"""


def at(text: str) -> datetime:
    return datetime.fromisoformat(text + "+00:00")


def customer(session: Session, external_id: str) -> Customer:
    return session.scalars(sa.select(Customer).where(Customer.external_id == external_id)).one()


def member(session: Session, name: str) -> TeamMember:
    return session.scalars(sa.select(TeamMember).where(TeamMember.name == name)).one()


@pytest.fixture
def shop(engine: Engine, tmp_path: Path) -> Iterator[str]:
    orders = tmp_path / "orders.csv"
    orders.write_text(ORDERS)
    with clock.frozen("2026-07-02"):
        import_orders(engine, orders)
    with clock.frozen("2026-04-01T09:00:00"), db.transaction(engine) as s:
        add_member(s, "joao@shop.example", "Joao")
        add_member(s, "rita@shop.example", "Rita")
    promises(engine)
    cases(engine)
    feedback(engine)
    yield engine.url.render_as_string(hide_password=False)


def promises(engine: Engine) -> None:
    """Joao: kept on time and kept late in May; broken and still open in June. Rita: one
    moved from 10 to 15 June and kept on the 15th (on time, one slip), one cancelled, one
    due in July."""
    with clock.frozen("2026-04-01T09:00:00"), db.transaction(engine) as s:
        joao, rita = member(s, "Joao"), member(s, "Rita")
        for who, whom, due in (
            (joao, "A", "2026-05-10 17:00"),
            (joao, "B", "2026-05-20 17:00"),
            (joao, "C", "2026-06-05 17:00"),
            (joao, "D", "2026-06-28 17:00"),
            (rita, "E", "2026-06-10 17:00"),
            (rita, "A", "2026-06-20 17:00"),
            (rita, "B", "2026-07-03 17:00"),
        ):
            make_promise(s, customer(s, whom), what=f"due {due}", due_at=at(due), member=who)

    def act(when: str, what: str, do: Any) -> None:
        with clock.frozen(at(when)), db.transaction(engine) as s:
            from keepwell.promises.models import Promise

            promise = s.scalars(sa.select(Promise).where(Promise.what == what)).one()
            do(s, promise)

    act("2026-05-09 12:00", "due 2026-05-10 17:00", lambda s, p: complete_promise(s, p))
    act("2026-05-22 12:00", "due 2026-05-20 17:00", lambda s, p: complete_promise(s, p))
    act("2026-06-06 09:00", "due 2026-06-05 17:00", lambda s, p: break_promise(s, p, outcome="no"))
    act("2026-06-01 09:00", "due 2026-06-20 17:00", lambda s, p: cancel_promise(s, p))
    act(
        "2026-06-08 09:00",
        "due 2026-06-10 17:00",
        lambda s, p: progress_update(s, p, note="by the 15th", new_due_at=at("2026-06-15 17:00")),
    )
    act("2026-06-15 10:00", "due 2026-06-10 17:00", lambda s, p: complete_promise(s, p))


def cases(engine: Engine) -> None:
    """C1 answered in 4 h, resolved in 24 h. C2 answered in 24 h, resolved on 12 May,
    reopened, resolved again on 2 June (552 h after opening). C3 opened late on 31 May,
    answered in June after 10 h, still open. C4 opened in June, resolved in 6 h."""

    def step(when: str, do: Any) -> None:
        with clock.frozen(at(when)), db.transaction(engine) as s:
            do(s)

    def case_of(s: Session, whom: str) -> Any:
        from keepwell.cases.models import Case

        return s.scalars(sa.select(Case).where(Case.customer_id == customer(s, whom).id)).one()

    for whom, opened in (
        ("A", "2026-05-04 09:00"),
        ("B", "2026-05-10 10:00"),
        ("C", "2026-05-31 22:00"),
        ("D", "2026-06-10 09:00"),
    ):
        step(opened, lambda s, w=whom, o=opened: open_case(
            s, customer(s, w), title=f"case of {w}", opened_at=at(o)))  # fmt: skip
    step("2026-05-04 13:00", lambda s: respond(s, case_of(s, "A"), summary="on it"))
    step("2026-05-05 09:00", lambda s: resolve(
        s, case_of(s, "A"), resolution="fixed", root_cause_category="product"))  # fmt: skip
    step("2026-05-11 10:00", lambda s: respond(s, case_of(s, "B"), summary="on it"))
    step("2026-05-12 10:00", lambda s: resolve(
        s, case_of(s, "B"), resolution="sent", root_cause_category="delivery"))  # fmt: skip
    step("2026-05-13 10:00", lambda s: reopen(s, case_of(s, "B"), reason="not here"))
    step("2026-06-02 10:00", lambda s: resolve(
        s, case_of(s, "B"), resolution="sent again", root_cause_category="delivery"))  # fmt: skip
    step("2026-06-01 08:00", lambda s: respond(s, case_of(s, "C"), summary="looking"))
    step("2026-06-10 15:00", lambda s: resolve(
        s, case_of(s, "D"), resolution="fixed", root_cause_category="product"))  # fmt: skip


def feedback(engine: Engine) -> None:
    """NPS: Eve 0 in May; Ana 10, Ben 9, Cy 7, Dee 3 in June; Ana 10 on 1 July (outside).
    CSAT in June: Ana 5, Ben 2."""
    with clock.frozen("2026-07-02"), db.transaction(engine) as s:
        for whom, kind, score, when in (
            ("E", "nps", 0, "2026-05-20 10:00"),
            ("A", "nps", 10, "2026-06-03 10:00"),
            ("A", "csat", 5, "2026-06-04 10:00"),
            ("B", "nps", 9, "2026-06-05 10:00"),
            ("B", "csat", 2, "2026-06-06 10:00"),
            ("C", "nps", 7, "2026-06-07 10:00"),
            ("D", "nps", 3, "2026-06-20 10:00"),
            ("A", "nps", 10, "2026-07-01 00:30"),
        ):
            record_feedback(s, customer(s, whom), kind, score=score, answered_at=at(when))


def report(url: str, name: str) -> dict[str, Any]:
    result = CliRunner().invoke(
        app, ["report", name, "--date", "2026-06-30", "--months", "3", "-d", url, "--json"]
    )
    assert result.exit_code == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def test_retention_by_hand(shop: str) -> None:
    """April: Ana and Ben, both new; of March's one buyer (Eve) none came back: 0 %.
    May: Ana (also in April), Cy (new), Eve (back from March): retention 1 of April's 2;
    repeat rate 2 of 3 (Ana and Eve had bought before). June: Ben, Cy (also in May), Dee
    (new; her July order is after the day): retention 1 of May's 3, repeat rate 2 of 3.
    Ever bought in two or more months: Ana, Ben, Cy and Eve, 4 of 5."""
    data = report(shop, "retention")
    assert [list(row.values()) for row in data["rows"]] == [
        ["2026-04", 2, 2, 0, 0.0, 1.0, 0.0],
        ["2026-05", 3, 1, 1, 0.5, 0.5, 0.6667],
        ["2026-06", 3, 1, 1, 0.3333, 0.6667, 0.6667],
    ]
    assert data["columns"] == [
        "month", "active", "new", "retained", "retention", "churn", "repeat_rate",
    ]  # fmt: skip
    assert data["overall_repeat_rate"] == 0.8


def test_cohorts_by_hand(shop: str) -> None:
    """April's cohort (Ana, Ben): Ana back in May, Ben in June, half each. May's (Cy):
    back in June. June's (Dee): nothing after yet. Eve's March cohort is before the
    three months. Revenue per cell in cents: April 10 + 5 + 7, May 20, June 3; Cy 12,
    then 4 (the 30th, 23:00 UTC, is still June); Dee 9 (1 July is after the day)."""
    data = report(shop, "cohorts")
    assert [list(row.values()) for row in data["rows"]] == [
        ["2026-04", 2, 1.0, 0.5, 0.5],
        ["2026-05", 1, 1.0, 1.0, None],
        ["2026-06", 1, 1.0, None, None],
    ]
    assert data["revenue_minor"] == {
        "2026-04": [2200, 2000, 300],
        "2026-05": [1200, 400, None],
        "2026-06": [900, None, None],
    }


def test_promises_by_hand(shop: str) -> None:
    """By the due date in force. May: Joao's two, one on time, one late: 50 %. June:
    Joao's broken one and his open one (0 %); Rita's moved to the 15th and kept then (on
    time, one slip: 100 %); her cancelled one is left out, her July one is not yet due.
    The team in June: 1 of 3."""
    rows = report(shop, "promises")["rows"]
    got = [
        (r["month"], r["member"], r["due"], r["kept_on_time"], r["kept_late"], r["broken"],
         r["still_open"], r["slips"], r["kept_rate"])
        for r in rows
    ]  # fmt: skip
    assert got == [
        ("2026-04", "(team)", 0, 0, 0, 0, 0, 0, None),
        ("2026-05", "joao@shop.example", 2, 1, 1, 0, 0, 0, 0.5),
        ("2026-05", "(team)", 2, 1, 1, 0, 0, 0, 0.5),
        ("2026-06", "joao@shop.example", 2, 0, 0, 1, 1, 0, 0.0),
        ("2026-06", "rita@shop.example", 1, 1, 0, 0, 0, 1, 1.0),
        ("2026-06", "(team)", 3, 1, 0, 1, 1, 1, 0.3333),
    ]


def test_cases_by_hand(shop: str) -> None:
    """May: C1, C2, C3 opened; first answers after 4, 24 and 10 h (C3's came in June: it
    counts with its opening month): median 10, mean 38 / 3; resolved and still resolved
    in May: C1 only (C2's latest resolution is in June), 24 h; reopened: C2. June: C4
    opened, not answered; resolved: C2 (552 h after opening) and C4 (6 h): median and
    mean 279. Root causes of the three months: product 2 (C1, C4), delivery 1 (C2)."""
    data = report(shop, "cases")
    assert [list(row.values()) for row in data["rows"]] == [
        ["2026-04", 0, None, None, 0, None, None, 0],
        ["2026-05", 3, 10.0, 12.7, 1, 24.0, 24.0, 1],
        ["2026-06", 1, None, None, 2, 279.0, 279.0, 0],
    ]
    assert data["root_causes"] == [
        {"category": "product", "cases": 2},
        {"category": "delivery", "cases": 1},
    ]


def test_nps_by_hand(shop: str) -> None:
    """May: Eve's 0, a detractor: NPS -100. June: 10 and 9 promote, 7 is passive, 3
    detracts: (2 - 1) / 4 = 25. CSAT in June: 5 and 2, mean 3.5, one of two satisfied.
    The 1 July answer is after the day."""
    data = report(shop, "nps")
    assert [list(row.values()) for row in data["rows"]] == [
        ["2026-04", 0, 0, 0, 0, None, 0, None, None],
        ["2026-05", 1, 0, 0, 1, -100.0, 0, None, None],
        ["2026-06", 4, 2, 1, 1, 25.0, 2, 3.5, 0.5],
    ]
