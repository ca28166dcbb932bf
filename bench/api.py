"""API benchmark: requests/s and latency of `keepwell serve` on loopback.

One command: `.venv/bin/python bench/api.py [--customers N] [--requests R]`.
Builds (once) a desk of N customers with bench/agenda.py's `build()`, makes an API token
for one member, starts `keepwell serve` in its own process on 127.0.0.1, and times
`GET /api/agenda` (that member's day) and `GET /api/customers/{id}` (random customers),
and the pages `GET /` (Today) and `GET /customers/{id}`, with 1 and 4 concurrent clients, each a keep-alive HTTP connection; R requests per run,
after a warm-up. Writes the figures to docs/benchmarks.md ("api").
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from agenda import MEMBERS, TODAY, build
from common import WORK, stamp, write_section

from keepwell import db

HOST = "127.0.0.1"  # loopback only


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def prepare(customers: int) -> tuple[Path, str]:
    """The desk's SQLite file (built when missing) and a fresh token for member 1."""
    from keepwell.accounts.models import ApiToken, TeamMember
    from keepwell.accounts.tokens import create_token
    from keepwell.playbooks.service import install_builtins

    path = WORK / f"api_{customers}.db"
    built = WORK / f"agenda_{customers}.db"  # bench/agenda.py's desk: the same build()
    if not path.exists() and built.exists() and not Path(f"{built}-wal").exists():
        print(f"copying {built.name} …", flush=True)
        shutil.copyfile(built, path)
    engine = db.make_engine(f"sqlite:///{path}")
    if db.current_revision(engine) is None:
        print(f"building {customers:,} customers …", flush=True)
        db.upgrade(engine)
        started = time.perf_counter()
        build(engine, customers)
        print(f"  built in {time.perf_counter() - started:.0f} s", flush=True)
    db.upgrade(engine)
    with db.transaction(engine) as session:
        install_builtins(session)  # as `keepwell init` does: the playbooks' admin page lists them
        session.query(ApiToken).filter(ApiToken.name == "bench").delete()
        member = session.get(TeamMember, 1)
        assert member is not None
        member.role = "admin"  # the admin pages are measured too
        _, secret = create_token(session, member, "bench")
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path, secret


def searches(path: Path, rng: random.Random, count: int = 500) -> dict[str, list[str]]:
    """Texts to search for, taken from random customers of the desk: what people type."""
    engine = db.make_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        top = conn.exec_driver_sql("SELECT max(id) FROM customers").scalar() or 1
        ids = [rng.randrange(1, top + 1) for _ in range(count)]
        rows = conn.exec_driver_sql(
            f"SELECT name, email FROM customers WHERE id IN ({', '.join(map(str, ids))})"
        ).all()
    engine.dispose()
    letters = "abcdefghijklmnopqrstuvwxyz"
    return {
        "name": [name for name, _ in rows],  # first and last name: a few hundred customers
        "last": [name.split()[-1] for name, _ in rows],  # a last name: thousands
        "email": [email.upper() for _, email in rows],  # a whole address, in any case
        "fragment": [email.split("@")[0][-6:] for _, email in rows],  # part of an address
        "short": [rng.choice(letters) + rng.choice(letters) for _ in rows],  # 2 letters
    }


def serve(path: Path, port: int) -> subprocess.Popen[bytes]:
    """`keepwell serve` without its scheduler: the figures are of serving requests, not of
    the hourly playbook run that a fresh desk's first minute would otherwise start."""
    env = {**os.environ, "KEEPWELL_NOW": f"{TODAY.isoformat()}T09:00:00"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "keepwell", "serve", "--database", str(path), "--no-scheduler",
         "--host", HOST, "--port", str(port), "--log-level", "warning"],
        env=env,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=2)
            conn.request("GET", "/api/health")
            if conn.getresponse().status == 200:
                conn.close()
                return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("the server did not start")


def run(port: int, token: str, paths: list[str], clients: int) -> dict[str, float]:
    """Send `paths` (split among `clients` keep-alive connections); latencies in ms."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    shares = [paths[i::clients] for i in range(clients)]
    start = threading.Barrier(clients + 1)

    def client(share: list[str]) -> None:
        conn = http.client.HTTPConnection(HOST, port, timeout=30)
        headers = {"Authorization": f"Bearer {token}"}
        mine = []
        start.wait()
        for path in share:
            began = time.perf_counter()
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            mine.append((time.perf_counter() - began) * 1000)
            if response.status != 200:
                with lock:
                    errors.append(f"{path}: {response.status}")
        conn.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(share,)) for share in shares]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    if errors:
        raise SystemExit(f"{len(errors)} failed requests, e.g. {errors[:3]}")
    ordered = sorted(latencies)
    return {
        "requests": len(latencies),
        "rps": len(latencies) / elapsed,
        "p50": statistics.median(ordered),
        "p99": ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))],
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=2000, help="per endpoint and run")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    path, token = prepare(args.customers)
    port = free_port()
    proc = serve(path, port)
    rng = random.Random(5)
    typed = searches(path, rng)

    def q(kind: str) -> str:
        return "/customers?" + urllib.parse.urlencode({"q": rng.choice(typed[kind])})

    endpoints = {
        "GET /api/agenda": lambda: "/api/agenda",
        "GET /api/customers/{id}": lambda: f"/api/customers/{rng.randrange(1, args.customers + 1)}",
        # the pages (HTML): Today and the customer page, with the same bearer token
        "GET / (Today page)": lambda: "/",
        "GET /customers/{id} (page)": lambda: f"/customers/{rng.randrange(1, args.customers + 1)}",
        # the lists, dashboards and admin pages (keepwell/*/list_pages.py, pages.py)
        "GET /customers (list)": lambda: "/customers",
        "GET /customers?segment=vip&sort=-revenue": lambda: "/customers?segment=vip&sort=-revenue",
        "GET /customers?owner=…&health=poor&sort=health": lambda: (
            f"/customers?owner={rng.randrange(1, MEMBERS + 1)}&health=poor&sort=health"
        ),
        "GET /customers?sort=name&offset=5000": lambda: "/customers?sort=name&offset=5000",
        "GET /customers?q=… (an external id)": lambda: f"/customers?q=C{rng.randrange(1, args.customers + 1):08d}",
        "GET /customers?q=… (first and last name)": lambda: q("name"),
        "GET /customers?q=… (a last name)": lambda: q("last"),
        "GET /customers?q=… (an e-mail address)": lambda: q("email"),
        "GET /customers?q=… (part of an address)": lambda: q("fragment"),
        "GET /customers?q=… (2 letters)": lambda: q("short"),
        "GET /promises?owner=anyone": lambda: "/promises?owner=anyone",
        "GET /cases?owner=anyone": lambda: "/cases?owner=anyone",
        "GET /tasks?owner=anyone": lambda: "/tasks?owner=anyone",
        "GET /dashboards": lambda: "/dashboards",
        "GET /admin/audit": lambda: "/admin/audit",
        "GET /admin/playbooks": lambda: "/admin/playbooks",
        "GET /admin/smtp": lambda: "/admin/smtp",
    }
    rows = []
    try:
        for name, make in endpoints.items():
            run(port, token, [make() for _ in range(min(200, args.requests))], 1)  # warm-up
            for clients in (1, 4):
                result = run(port, token, [make() for _ in range(args.requests)], clients)
                print(name, clients, result, flush=True)
                rows.append((name, clients, result))
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    lines = [
        f"## API: `keepwell serve` on a desk of {args.customers:,} customers (bench/api.py)",
        "",
        stamp(),
        f"SQLite, {args.customers:,} customers shared by {MEMBERS} members (bench/agenda.py's desk); "
        "one `keepwell serve` process (Uvicorn, one worker) on 127.0.0.1, a bearer token; "
        f"{args.requests:,} requests per run after a warm-up, from keep-alive connections in "
        "another process on the same 2 cores. `/api/agenda` is member 1's whole day "
        "(promises, cases, tasks, the 25 longest-silent customers, special dates, each with "
        "its personal context); `/api/customers/{id}` a random customer's profile. `/` and "
        "`/customers/{id}` are the same as HTML pages: Today, and a random customer's page "
        "(profile, scores, special dates, the timeline's newest 60 events of each kind). "
        "The lists are one page (50 rows) of customers, promises, cases and tasks with the "
        "filters shown; `/customers?q=` searches what people type, taken from random "
        "customers of the desk (names drawn from the demo's few hundred first and last names): "
        "an external id, a first and last name (a few hundred matches), a last name "
        "(thousands), a whole e-mail address in capitals, the last 6 characters before the @ "
        "of an address (a handful), and 2 random letters (too short for the trigram index: "
        "the list is read in its order until the page is full); `/dashboards` is measured after "
        "its warm-up, from the 10-minute report cache (building the reports reads every "
        "order: see `keepwell report`); `/admin/audit` the newest 50 changes; `/admin/playbooks` "
        "every playbook with its last run and what it made in 30 days; `/admin/smtp` the mail "
        "settings and the outbox.",
        "",
        "One server process runs Python one thread at a time, so more concurrent clients "
        "share about the same requests/s with longer waits; more throughput needs more "
        "server processes (Uvicorn workers) or PostgreSQL behind several app servers.",
        "",
        "| request | concurrent clients | requests/s | p50 | p99 |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, clients, r in rows:
        lines.append(
            f"| `{name}` | {clients} | {r['rps']:,.0f} | {r['p50']:.1f} ms | {r['p99']:.1f} ms |"
        )
    body = "\n".join(lines)
    print(body)
    if not args.no_write:
        write_section("api", body)


if __name__ == "__main__":
    main()
