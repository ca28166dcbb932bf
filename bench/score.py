"""Scoring benchmark: `keepwell score` end to end on a large desk, SQLite and PostgreSQL.

One command: `.venv/bin/python bench/score.py [--customers N] [--orders-per-customer K]
[--postgres URL] [--runs R]`. Builds once per backend (kept in bench/.work and in a
PostgreSQL database of its own): the agenda benchmark's desk of N customers (members,
promises, cases, tasks, touches) plus about K orders per customer drawn by a BG/NBD
process over three years, written in bulk. Then it times the command a person runs,
`keepwell score --date 2026-11-25`, as a subprocess (the median of R runs), and writes
the figures to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from agenda import TODAY, own_database
from agenda import build as build_desk
from common import VENV_BIN, WORK, median, run_timed, stamp, write_section

from keepwell import db
from keepwell.analytics.simulate import bgnbd_orders
from keepwell.customers import derived

HISTORY_DAYS = 3 * 365.0
BATCH = 500_000


def add_orders(engine: db.Engine, customers: int, per_customer: float, seed: int = 5) -> int:  # type: ignore[name-defined]
    """About `per_customer` orders per customer, by a BG/NBD process; returns the count."""
    # b sets how long customers stay: tuned so the mean number of orders is as asked
    b = max(2.0, 1.55 * per_customer + 1.5)
    sim = bgnbd_orders(
        customers, r=0.9, alpha=25.0, a=1.0, b=b, history_days=HISTORY_DAYS, seed=seed
    )
    start = datetime.combine(TODAY, datetime.min.time(), UTC) - timedelta(days=HISTORY_DAYS)
    moments = np.datetime64(start.replace(tzinfo=None), "us") + (sim.days * 86_400e6).astype(
        "timedelta64[us]"
    )
    amounts = np.round(sim.amounts * 100).astype(np.int64)
    n = sim.customer_ids.shape[0]
    dialect = engine.dialect.name
    created = db.sqlite_timestamp(datetime.now(UTC))
    with engine.begin() as conn:
        if dialect == "sqlite":
            sql = (
                "INSERT INTO orders (id, external_id, customer_id, ordered_at, amount_minor,"
                " currency, quantity, created_at) VALUES (?, ?, ?, ?, ?, 'EUR', 1, ?)"
            )
            for lo in range(0, n, BATCH):
                hi = min(n, lo + BATCH)
                stamps = np.char.replace(moments[lo:hi].astype(str), "T", " ")
                rows = zip(
                    range(lo + 1, hi + 1),
                    (f"O{i:09d}" for i in range(lo + 1, hi + 1)),
                    sim.customer_ids[lo:hi].tolist(),
                    stamps.tolist(),
                    amounts[lo:hi].tolist(),
                    [created] * (hi - lo),
                    strict=True,
                )
                conn.exec_driver_sql(sql, list(rows))
                print(f"  orders: {hi:,}", flush=True)
        else:
            raw = conn.connection.driver_connection
            assert raw is not None
            now = datetime.now(UTC)
            with (
                raw.cursor() as cur,
                cur.copy(
                    "COPY orders (id, external_id, customer_id, ordered_at, amount_minor, currency,"
                    " quantity, created_at) FROM STDIN"
                ) as copy,
            ):
                for lo in range(0, n, BATCH):
                    hi = min(n, lo + BATCH)
                    stamps = moments[lo:hi].astype(str)
                    ids = sim.customer_ids[lo:hi].tolist()
                    values = amounts[lo:hi].tolist()
                    for k in range(hi - lo):
                        i = lo + k + 1
                        copy.write_row(
                            (i, f"O{i:09d}", ids[k], stamps[k] + "+00", values[k], "EUR", 1, now)
                        )
                    print(f"  orders: {hi:,}", flush=True)
            conn.exec_driver_sql("SELECT setval('orders_id_seq', (SELECT max(id) FROM orders))")
        print("  derived columns …", flush=True)
        derived.refresh(conn)
    if dialect == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    else:
        with engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
    return n


def build(url: str, customers: int, per_customer: float) -> None:
    engine = db.make_engine(url)
    db.upgrade(engine)
    started = time.perf_counter()
    print(f"building the desk: {customers:,} customers …", flush=True)
    build_desk(engine, customers)
    n = add_orders(engine, customers, per_customer)
    print(f"built {n:,} orders in {time.perf_counter() - started:.0f} s", flush=True)
    engine.dispose()


def counts(url: str) -> tuple[int, int]:
    engine = db.make_engine(url)
    with engine.connect() as conn:
        c = conn.exec_driver_sql("SELECT count(*) FROM customers").scalar_one()
        o = conn.exec_driver_sql("SELECT count(*) FROM orders").scalar_one()
    engine.dispose()
    return int(c), int(o)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--orders-per-customer", type=float, default=10.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--postgres", default="", help="also on PostgreSQL (a database of its own)")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument(
        "--build-only", action="store_true", help="build the databases, time nothing"
    )
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    tag = f"{args.customers}_{args.orders_per_customer:g}"
    targets = [("SQLite", f"sqlite:///{WORK / f'score_{tag}.db'}")]
    if args.postgres:
        targets.append(("PostgreSQL", own_database(args.postgres, f"keepwell_bench_score_{tag}")))
    rows = []
    for name, url in targets:
        engine = db.make_engine(url)
        fresh = db.current_revision(engine) is None
        engine.dispose()
        if fresh:
            build(url, args.customers, args.orders_per_customer)
        if args.build_only:
            continue
        customers, orders = counts(url)
        env = dict(os.environ, KEEPWELL_NOW=TODAY.isoformat())
        cmd = [str(VENV_BIN / "keepwell"), "score", "--date", TODAY.isoformat(), "-d", url]
        timings = []
        for run in range(args.runs):
            timing = run_timed(cmd, env=env)
            print(f"{name}: run {run + 1}: {timing.seconds:.1f} s", flush=True)
            timings.append(timing)
        best = median(timings)
        rows.append((name, customers, orders, best))
    body = [
        "## Scoring: `keepwell score` end to end (bench/score.py)",
        "",
        stamp(),
        "The desk of the agenda benchmark (members, promises, cases, tasks, touches) with "
        "orders drawn by a BG/NBD process over three years. One run of `keepwell score "
        "--date 2026-11-25` reads the orders (the per-customer summary is one SQL "
        "statement), fits BG/NBD and Gamma-Gamma, predicts, computes RFM, health and "
        "lifecycle stage for every customer and replaces that date's rows of `scores` in "
        f"one transaction; the median of {args.runs} runs, each a new process.",
        "",
        "| database | customers | orders | seconds | peak memory |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, customers, orders, best in rows:
        body.append(
            f"| {name} | {customers:,} | {orders:,} | {best.seconds:.1f} | "
            f"{best.peak_rss_mib:,.0f} MiB |"
        )
    if args.build_only:
        return
    text = "\n".join(body)
    print(text)
    if not args.no_write:
        write_section("score", text)


if __name__ == "__main__":
    main()
