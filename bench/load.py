"""Load and soak: 32 clients reading and writing through `keepwell serve` for 5 minutes.

One command: `.venv/bin/python bench/load.py [--minutes 5] [--clients 32] [--customers N]
[--postgres URL]`. Builds a desk (bench/agenda.py's `build()`, 100,000 customers by
default) on SQLite — and on PostgreSQL in a database of its own when --postgres names a
server — starts `keepwell serve` on 127.0.0.1, and runs the clients: 70 % reads (a
member's agenda, a customer, a search), 30 % writes (an interaction, a task), each write
carrying a unique marker. Afterwards it counts the markers in the database: every write
that was answered 201 must be there. Reports throughput, p50/p99 per kind, and errors
(any 5xx, refused connection or timeout), which must be 0. Bounded: the clients stop by
themselves at the deadline; only loopback is used.
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from agenda import MEMBERS, build, own_database
from api import HOST, free_port, serve
from common import WORK, stamp, write_section

from keepwell import db


def prepare(url: str, customers: int) -> str:
    """Build the desk if it is not there; return a fresh API token of member 1."""
    from keepwell.accounts.models import ApiToken, TeamMember
    from keepwell.accounts.tokens import create_token

    engine = db.make_engine(url)
    if db.current_revision(engine) is None:
        print(f"building {customers:,} customers …", flush=True)
        db.upgrade(engine)
        build(engine, customers)
    db.upgrade(engine)
    with db.transaction(engine) as session:
        session.query(ApiToken).filter(ApiToken.name == "load").delete()
        member = session.get(TeamMember, 1)
        assert member is not None
        _, secret = create_token(session, member, "load")
    engine.dispose()
    return secret


def client(
    port: int, token: str, deadline: float, customers: int, marker: str, seed: int, out: dict
) -> None:
    rng = random.Random(seed)
    conn = http.client.HTTPConnection(HOST, port, timeout=60)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    n = 0
    while time.monotonic() < deadline:
        n += 1
        roll = rng.random()
        body = None
        if roll < 0.25:
            kind, method, path = "agenda", "GET", f"/api/agenda?owner={1 + rng.randrange(MEMBERS)}"
        elif roll < 0.55:
            kind, method, path = "customer", "GET", f"/api/customers/{1 + rng.randrange(customers)}"
        elif roll < 0.70:
            kind, method, path = (
                "search",
                "GET",
                f"/api/customers?q=Customer%20{rng.randrange(1000)}&limit=20",
            )
        elif roll < 0.90:
            kind, method, path = "interaction", "POST", "/api/interactions"
            body = {
                "customer_id": 1 + rng.randrange(customers),
                "channel": "call",
                "summary": f"{marker}:{seed}:{n}",
            }
        else:
            kind, method, path = "task", "POST", "/api/tasks"
            body = {
                "customer_id": 1 + rng.randrange(customers),
                "kind": "follow_up",
                "reason": f"{marker}:{seed}:{n}",
            }
        started = time.perf_counter()
        try:
            conn.request(method, path, body=json.dumps(body) if body else None, headers=headers)
            response = conn.getresponse()
            response.read()
            status = response.status
        except (OSError, http.client.HTTPException) as exc:
            out["errors"].append(f"{kind}: {exc!r}")
            conn.close()
            conn = http.client.HTTPConnection(HOST, port, timeout=60)
            continue
        out["latency"].setdefault(kind, []).append((time.perf_counter() - started) * 1000)
        if status >= 500 or status in (401, 403):
            out["errors"].append(f"{kind}: HTTP {status}")
        elif method == "POST" and status == 201:
            out["written"][kind] = out["written"].get(kind, 0) + 1
        elif method == "POST":
            out["refused"][kind] = out["refused"].get(kind, 0) + 1
    conn.close()


def count_markers(url: str, marker: str) -> dict[str, int]:
    engine = db.make_engine(url)
    with engine.connect() as conn:
        found = {
            "interaction": conn.exec_driver_sql(
                db.driver_sql(conn, "SELECT count(*) FROM touches WHERE summary LIKE ?"),
                (f"{marker}:%",),
            ).scalar_one(),
            "task": conn.exec_driver_sql(
                db.driver_sql(conn, "SELECT count(*) FROM tasks WHERE reason LIKE ?"),
                (f"{marker}:%",),
            ).scalar_one(),
        }
    engine.dispose()
    return found


def run(name: str, url: str, args: argparse.Namespace) -> dict[str, object]:
    token = prepare(url, args.customers)
    port = free_port()
    proc = serve(url, port)  # type: ignore[arg-type]  (a URL does as well as a path)
    marker = f"load-{uuid.uuid4().hex[:8]}"
    out: dict = {"latency": {}, "errors": [], "written": {}, "refused": {}}
    deadline = time.monotonic() + args.minutes * 60
    print(f"{name}: {args.clients} clients for {args.minutes} min …", flush=True)
    threads = [
        threading.Thread(
            target=client, args=(port, token, deadline, args.customers, marker, seed, out)
        )
        for seed in range(args.clients)
    ]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    proc.terminate()
    proc.wait(timeout=30)
    stored = count_markers(url, marker)
    total = sum(len(v) for v in out["latency"].values())
    result = {
        "name": name,
        "requests": total,
        "rps": total / elapsed,
        "errors": len(out["errors"]),
        "error_samples": out["errors"][:5],
        "written": out["written"],
        "refused": out["refused"],
        "stored": stored,
        "lost": {k: out["written"].get(k, 0) - stored.get(k, 0) for k in stored},
        "p50": {k: statistics.median(v) for k, v in out["latency"].items()},
        "p99": {k: sorted(v)[int(0.99 * (len(v) - 1))] for k, v in out["latency"].items()},
    }
    print(json.dumps(result, indent=1), flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=5)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--postgres", default="")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    targets = [("SQLite", f"sqlite:///{WORK / f'load_{args.customers}.db'}")]
    if args.postgres:
        targets.append(
            ("PostgreSQL", own_database(args.postgres, f"keepwell_bench_load_{args.customers}"))
        )
    results = [run(name, url, args) for name, url in targets]
    lines = [
        "## Load and soak: 32 clients through `keepwell serve` (bench/load.py)",
        "",
        stamp(),
        f"{args.customers:,} customers (bench/agenda.py's desk), one `keepwell serve` process on 127.0.0.1, "
        f"{args.clients} clients (threads with keep-alive connections, on the same 2 cores) for {args.minutes:g} "
        "minutes: 25 % a member's agenda, 30 % a customer, 15 % a search, 20 % logging an interaction, "
        "10 % adding a task. Every write carries a marker; afterwards the markers are counted in the database.",
        "",
        "| database | requests | requests/s | errors | writes answered 201 | writes refused (4xx) | writes stored | lost | p50 agenda | p99 agenda | p50 customer | p99 customer | p50 write | p99 write |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        written = sum(r["written"].values())  # type: ignore[union-attr]
        stored = sum(r["stored"].values())  # type: ignore[union-attr]
        p50, p99 = r["p50"], r["p99"]
        lines.append(
            f"| {r['name']} | {r['requests']:,} | {r['rps']:.0f} | {r['errors']} | {written:,} | {sum(r['refused'].values()):,} | {stored:,} | {written - stored} "  # type: ignore[union-attr]
            f"| {p50['agenda']:.0f} ms | {p99['agenda']:.0f} ms | {p50['customer']:.0f} ms | {p99['customer']:.0f} ms "  # type: ignore[index]
            f"| {p50['interaction']:.0f} ms | {p99['interaction']:.0f} ms |"  # type: ignore[index]
        )
    body = "\n".join(lines)
    print(body)
    if not args.no_write:
        write_section("load", body)
    if any(r["errors"] or any(r["lost"].values()) for r in results):  # type: ignore[union-attr]
        raise SystemExit("errors or lost writes: see above")
    if any(sum(r["refused"].values()) > sum(r["written"].values()) / 100 for r in results):  # type: ignore[union-attr]
        raise SystemExit("writes were refused: is the desk the size the clients assume?")


if __name__ == "__main__":
    main()
