"""Playbooks benchmark: `keepwell playbooks run` for one day, and a week caught up, on a
desk of 1,000,000 customers.

One command: `.venv/bin/python bench/playbooks.py [--customers N] [--postgres URL]`.
Builds the agenda benchmark's desk (bench/agenda.py: customers with owners, birthdays,
last contacts; promises, cases, tasks, special dates, touches) plus 2,000 orders a day
for the last 45 days, loads the built-in playbooks, then times a run for today and a
run catching up the 7 days before it (each playbook, each day), and writes the figures
to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from agenda import TODAY, build, own_database, ts
from common import WORK, stamp, write_section

from keepwell import clock, db
from keepwell.customers import derived

ORDERS_PER_DAY = 2_000
DAYS = 45


def add_orders(engine: db.Engine, customers: int, seed: int = 12) -> None:  # type: ignore[name-defined]
    rng = random.Random(seed)
    dialect = engine.dialect.name
    start = datetime.combine(TODAY, datetime.min.time(), UTC)
    with engine.begin() as conn:
        sql = db.driver_sql(
            conn,
            "INSERT INTO orders (external_id, customer_id, ordered_at, amount_minor, currency, "
            "quantity, product, created_at) VALUES (?, ?, ?, ?, 'EUR', 1, ?, ?)",
        )
        rows = []
        for day in range(DAYS):
            moment = start - timedelta(days=day, hours=-10)
            for k in range(ORDERS_PER_DAY):
                rows.append(
                    (
                        f"B{day}-{k}",
                        rng.randrange(1, customers + 1),
                        ts(moment, dialect),
                        rng.randrange(500, 50_000),
                        rng.choice(["Grinder Pro", "Beans 1kg", "Kettle", None]),
                        ts(moment, dialect),
                    )
                )
        conn.exec_driver_sql(sql, rows)
        derived.refresh(conn)


def measure(engine: db.Engine) -> dict[str, float]:  # type: ignore[name-defined]
    import sqlalchemy as sa

    from keepwell.outreach.models import Message
    from keepwell.playbooks.engine import run
    from keepwell.playbooks.models import JobRun, PlaybookRun
    from keepwell.playbooks.service import install_builtins
    from keepwell.tasks.models import Task

    with clock.frozen(datetime.combine(TODAY, datetime.min.time(), UTC) + timedelta(hours=6)):
        with db.transaction(engine) as session:
            install_builtins(session)
            session.execute(sa.delete(PlaybookRun))  # an earlier measurement's work undone
            session.execute(sa.delete(JobRun))
            session.execute(sa.delete(Message))
            session.execute(sa.delete(Task).where(Task.source.startswith("playbook:")))
        started = time.perf_counter()
        with db.transaction(engine) as session:
            today = run(session, through=TODAY - timedelta(days=8))
        one_day = time.perf_counter() - started
        started = time.perf_counter()
        with db.transaction(engine) as session:
            week = run(session, through=TODAY - timedelta(days=1))
        seven_days = time.perf_counter() - started
        started = time.perf_counter()
        with db.transaction(engine) as session:
            again = run(session, through=TODAY - timedelta(days=1))
        nothing = time.perf_counter() - started
    assert again.tasks == 0 and again.messages == 0
    return {
        "one_day": one_day,
        "one_day_tasks": today.tasks,
        "one_day_messages": today.messages,
        "week": seven_days,
        "week_tasks": week.tasks,
        "week_messages": week.messages,
        "again": nothing,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--postgres", default="", help="also on this PostgreSQL server")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    targets = [("SQLite", f"sqlite:///{WORK / f'playbooks_{args.customers}.db'}")]
    if args.postgres:
        targets.append(("PostgreSQL", own_database(args.postgres, f"bench_playbooks_{args.customers}")))
    rows = []
    for name, url in targets:
        engine = db.make_engine(url)
        fresh = db.current_revision(engine) is None
        db.upgrade(engine)
        if fresh:
            print(f"building {args.customers:,} customers on {name} …", flush=True)
            started = time.perf_counter()
            build(engine, args.customers)
            add_orders(engine, args.customers)
            print(f"  built in {time.perf_counter() - started:.0f} s", flush=True)
        result = measure(engine)
        print(name, result, flush=True)
        rows.append((name, result))
        engine.dispose()
    lines = [
        "## Playbooks: the daily run on a desk of 1,000,000 customers (bench/playbooks.py)",
        "",
        stamp(),
        f"{args.customers:,} customers (the agenda benchmark's desk) and {ORDERS_PER_DAY:,} orders "
        f"a day for {DAYS} days; the 11 built-in playbooks (no SMTP: e-mails are queued). One day; "
        "then the 7 days after it caught up in one run; then the same run again (nothing to do).",
        "",
        "| database | one day | tasks, messages | 7 days caught up | tasks, messages | again |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, r in rows:
        lines.append(
            f"| {name} | {r['one_day']:.1f} s | {r['one_day_tasks']:,.0f}, {r['one_day_messages']:,.0f} "
            f"| {r['week']:.1f} s | {r['week_tasks']:,.0f}, {r['week_messages']:,.0f} | {r['again']:.2f} s |"
        )
    body = "\n".join(lines)
    print(body)
    if not args.no_write:
        write_section("playbooks", body)


if __name__ == "__main__":
    main()
