"""Agenda benchmark: `agenda_for` one member on a desk of 1,000,000 customers.

One command: `.venv/bin/python bench/agenda.py [--customers N] [--postgres URL]`.
Builds the desk once per backend with bulk SQL (20 members; customers with owners,
segments, birthdays, last contacts; promises, cases, tasks, special dates, touches),
then times today's agenda for one member, cold and warm, and writes the figures to
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import WORK, stamp, write_section

from keepwell import clock, db
from keepwell.customers import derived
from keepwell.ingest.demo_data import COMPANY_WORDS, FIRST_NAMES, LAST_NAMES, MAIL_DOMAINS

MEMBERS = 20
TODAY = date(2026, 11, 25)


def ts(moment: datetime, dialect: str) -> object:
    return db.sqlite_timestamp(moment) if dialect == "sqlite" else moment


def person(i: int, rng: random.Random) -> tuple[str, str, str | None]:
    """A customer's name, e-mail and company (one in five), drawn from the demo's names:
    what a search meets on a real desk (a few hundred first and last names, shared)."""
    language = rng.choice(sorted(FIRST_NAMES))
    first = rng.choice(FIRST_NAMES[language])
    last = rng.choice(LAST_NAMES[language])
    slug = "".join(ch for ch in f"{first}.{last}".lower() if ch.isascii() and (ch.isalnum() or ch == "."))
    email = f"{slug}{i}@{rng.choice(MAIL_DOMAINS)}"
    company = f"{last} {rng.choice(COMPANY_WORDS)}" if rng.random() < 0.2 else None
    return f"{first} {last}", email, company


def build(engine: db.Engine, customers: int, seed: int = 11) -> None:  # type: ignore[name-defined]
    rng = random.Random(seed)
    dialect = engine.dialect.name
    now = datetime.combine(TODAY, datetime.min.time(), UTC)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            db.driver_sql(
                conn,
                "INSERT INTO team_members (id, email, name, role, active, created_at) VALUES (?, ?, ?, 'member', ?, ?)",
            ),
            [
                (m, f"m{m}@keepwell.example", f"Member {m:02d}", True, ts(now, dialect))
                for m in range(1, MEMBERS + 1)
            ],
        )
        sql = db.driver_sql(
            conn,
            "INSERT INTO customers (id, external_id, name, email, company, segment, tags, owner_id, first_seen, "
            "birthday, marketing_consent, created_at, updated_at, version, last_contact_at, order_count, "
            "revenue_minor) VALUES (?, ?, ?, ?, ?, ?, '[]', ?, ?, ?, ?, ?, ?, 1, ?, ?, ?)",
        )
        batch = []
        for i in range(1, customers + 1):
            first = now - timedelta(days=rng.randrange(1, 5 * 365))
            contact = first + timedelta(days=rng.randrange(0, max(1, (now - first).days)))
            birthday = (
                date(rng.randrange(1950, 2004), rng.randrange(1, 13), rng.randrange(1, 29))
                if rng.random() < 0.6
                else None
            )
            batch.append(
                (
                    i,
                    f"C{i:08d}",
                    *person(i, rng),
                    "vip" if rng.random() < 0.05 else "retail",
                    1 + i % MEMBERS,
                    ts(first, dialect),
                    birthday,
                    rng.random() < 0.7,
                    ts(first, dialect),
                    ts(first, dialect),
                    ts(contact, dialect) if rng.random() < 0.7 else None,
                    rng.randrange(1, 40),
                    rng.randrange(1000, 500000),
                )
            )
            if len(batch) == 50_000:
                conn.exec_driver_sql(sql, batch)
                batch = []
                print(f"  customers: {i:,}", flush=True)
        if batch:
            conn.exec_driver_sql(sql, batch)
        per_member = range(1, MEMBERS + 1)
        promise_sql = db.driver_sql(
            conn,
            "INSERT INTO promises (customer_id, member_id, what, made_at, due_at, original_due_at, status, outcome, slips, version) VALUES (?, ?, ?, ?, ?, ?, ?, '', 0, 1)",
        )
        promises = []
        for m in per_member:
            for k in range(40):
                due = now + timedelta(days=rng.randrange(-10, 20), hours=17)
                status = "open" if k < 25 else "kept"
                promises.append(
                    (
                        m + MEMBERS * rng.randrange(customers // MEMBERS - 1),
                        m,
                        "Send the quote",
                        ts(due - timedelta(days=5), dialect),
                        ts(due, dialect),
                        ts(due, dialect),
                        status,
                    )
                )
        conn.exec_driver_sql(promise_sql, promises)
        case_sql = db.driver_sql(
            conn,
            "INSERT INTO cases (customer_id, member_id, title, description, severity, status, opened_at, first_response_at, root_cause, prevention, resolution, reopened_count, version) VALUES (?, ?, 'Late delivery', '', 'normal', ?, ?, ?, '', '', '', 0, 1)",
        )
        cases = []
        for m in per_member:
            for k in range(15):
                opened = now - timedelta(days=rng.randrange(0, 30))
                cases.append(
                    (
                        m + MEMBERS * rng.randrange(customers // MEMBERS - 1),
                        m,
                        "open" if k < 8 else "resolved",
                        ts(opened, dialect),
                        None if k < 4 else ts(opened + timedelta(hours=3), dialect),
                    )
                )
        conn.exec_driver_sql(case_sql, cases)
        task_sql = db.driver_sql(
            conn,
            "INSERT INTO tasks (customer_id, member_id, kind, due_on, reason, context, source, dedupe_key, status, created_at, outcome, version) VALUES (?, ?, 'check_in', ?, 'Check in after the purchase', '', 'playbook', ?, 'open', ?, '', 1)",
        )
        tasks = []
        for m in per_member:
            for k in range(200):
                tasks.append(
                    (
                        m + MEMBERS * rng.randrange(customers // MEMBERS - 1),
                        m,
                        TODAY + timedelta(days=rng.randrange(-20, 40)),
                        f"bench:{m}:{k}",
                        ts(now, dialect),
                    )
                )
        conn.exec_driver_sql(task_sql, tasks)
        dates_sql = db.driver_sql(
            conn,
            "INSERT INTO special_dates (customer_id, kind, label, on_date, yearly, on_md, gesture) VALUES (?, 'renewal', 'Contract renewal', ?, ?, ?, 'a call')",
        )
        dates = []
        for _ in range(customers // 20):
            day = date(2020 + rng.randrange(6), rng.randrange(1, 13), rng.randrange(1, 29))
            dates.append((rng.randrange(1, customers + 1), day, True, day.month * 100 + day.day))
        conn.exec_driver_sql(dates_sql, dates)
        touch_sql = db.driver_sql(
            conn,
            "INSERT INTO touches (customer_id, member_id, channel, direction, happened_at, summary, created_at) VALUES (?, ?, 'call', 'outbound', ?, 'Talked about the new grinder; wants a quote', ?)",
        )
        touches = [
            (
                rng.randrange(1, customers + 1),
                1 + rng.randrange(MEMBERS),
                ts(now - timedelta(days=rng.randrange(1, 400)), dialect),
                ts(now, dialect),
            )
            for _ in range(customers // 5)
        ]
        conn.exec_driver_sql(touch_sql, touches)
        print("  derived columns …", flush=True)
        derived.refresh(conn)
    if dialect == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    else:
        with engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")


def measure(engine: db.Engine, runs: int) -> dict[str, float]:  # type: ignore[name-defined]
    from keepwell.accounts.models import TeamMember
    from keepwell.agenda.service import agenda_for

    times = []
    items = 0
    with clock.frozen(TODAY):
        for run in range(runs + 1):
            start = time.perf_counter()
            with db.transaction(engine) as session:
                member = session.get(TeamMember, 1 + run % MEMBERS)
                assert member is not None
                agenda = agenda_for(session, member, TODAY)
            elapsed = time.perf_counter() - start
            items = len(agenda.items)
            if run:  # the first run warms the caches
                times.append(elapsed * 1000)
    return {
        "p50": statistics.median(times),
        "p95": sorted(times)[int(0.95 * (len(times) - 1))],
        "max": max(times),
        "items": items,
        "quiet_total": agenda.more_quiet + agenda.counts()["quiet"],
    }


def own_database(server_url: str, name: str) -> str:
    """A database of the benchmark's own on that server (created if missing)."""
    import sqlalchemy as sa

    url = sa.make_url(server_url.replace("postgresql://", "postgresql+psycopg://", 1))
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.exec_driver_sql(
            "SELECT 1 FROM pg_database WHERE datname = %s", (name,)
        ).first()
        if not exists:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument(
        "--postgres", default="", help="also on this PostgreSQL database (it is emptied)"
    )
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    targets = [("SQLite", f"sqlite:///{WORK / f'agenda_{args.customers}.db'}")]
    if args.postgres:
        targets.append(
            ("PostgreSQL", args.postgres.replace("postgresql://", "postgresql+psycopg://", 1))
        )
    rows = []
    for name, url in targets:
        engine = db.make_engine(url)
        fresh = True
        if url.startswith("sqlite"):
            path = Path(url.removeprefix("sqlite:///"))
            fresh = not path.exists()
        else:
            fresh = db.current_revision(engine) is None
        if not fresh:
            db.upgrade(engine)  # a desk built by an older Keepwell
        if fresh:
            print(f"building {args.customers:,} customers on {name} …", flush=True)
            db.upgrade(engine)
            started = time.perf_counter()
            build(engine, args.customers)
            print(f"  built in {time.perf_counter() - started:.0f} s", flush=True)
        result = measure(engine, args.runs)
        print(name, result, flush=True)
        rows.append((name, result))
        engine.dispose()
    lines = [
        "## Agenda: one member's day on a desk of 1,000,000 customers (bench/agenda.py)",
        "",
        stamp(),
        f"{args.customers:,} customers shared by {MEMBERS} members (about {args.customers // MEMBERS:,} each), "
        "with promises, cases, tasks, special dates and touches; `agenda_for` one member, "
        f"{args.runs} runs after a warm-up, each in a new session (items shown: overdue and due "
        "promises, cases, due tasks, the 25 longest-silent customers with the count of the rest, "
        "and the next 7 days' special dates, each with its personal context).",
        "",
        "| database | p50 | p95 | max | items on the agenda | quiet customers counted |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, r in rows:
        lines.append(
            f"| {name} | {r['p50']:.1f} ms | {r['p95']:.1f} ms | {r['max']:.1f} ms | {r['items']:.0f} | {r['quiet_total']:,.0f} |"
        )
    body = "\n".join(lines)
    print(body)
    if not args.no_write:
        write_section("agenda", body)


if __name__ == "__main__":
    main()
