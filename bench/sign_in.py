"""Sign-in under attack: what wrong passwords cost everyone else, and whether a refusal
tells a known e-mail address from an unknown one by its time.

One command: `.venv/bin/python bench/sign_in.py [--seconds 20] [--writers 8]
[--attackers 50] [--source DIR] [--no-write]`.

Builds a small SQLite desk (bench/.work/sign_in.db: 200 customers, a member with a
password, a token per writer), starts `keepwell serve --no-scheduler` on 127.0.0.1
(believing X-Forwarded-For from loopback, so that each attempt can come from another
address), and runs, each for --seconds:

1. the writers alone: --writers clients log interactions (POST /api/interactions) over
   keep-alive connections, as fast as they are answered;
2. the writers while --attackers clients send wrong passwords for the member's e-mail
   from one address (what an outside probe did): the throttle soon makes them wait;
3. the writers while --attackers clients send wrong passwords, each attempt for a new
   unknown e-mail from a new address: nothing makes them wait, every attempt costs a
   password check — the most work sign-ins can ask of the server.

Then, alone, it times refusals: a known e-mail with a wrong password and an unknown
e-mail, alternately, each from a new address. It reports the writers' p50/p99 in each
phase, the attempts and their answers, and the refusal times; any 5xx, refused
connection or timeout is an error. It fails when there are errors or when the writers'
p99 during an attack is more than twice their p99 alone. `--source DIR` serves another
checkout's code with this one's virtualenv, and `--label TEXT` says what it is (its
figures go to a section of their own: the figures before a change). Only loopback is
used; everything stops by itself.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from api import HOST, free_port
from common import ROOT, WORK, stamp, write_section

from keepwell import db

PASSWORD = "correct horse battery staple"
EMAIL = "ana@shop.example"
CUSTOMERS = 200


def prepare(path: Path, writers: int) -> list[str]:
    """A fresh desk: customers, the member who is attacked, a token per writer."""
    from keepwell.accounts.service import add_member, add_user
    from keepwell.accounts.tokens import create_token
    from keepwell.customers.models import Customer

    for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        leftover.unlink(missing_ok=True)
    engine = db.make_engine(f"sqlite:///{path}")
    db.upgrade(engine)
    secrets = []
    with db.transaction(engine) as session:
        add_user(session, EMAIL, name="Ana", password=PASSWORD)
        for n in range(writers):
            member = add_member(session, f"writer{n}@shop.example", f"Writer {n}")
            secrets.append(create_token(session, member, "bench")[1])
        session.add_all(
            Customer(name=f"Customer {k}", tags=[], marketing_consent=False)
            for k in range(CUSTOMERS)
        )
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return secrets


def serve(path: Path, port: int, source: Path, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(source)}
    options = ["--forwarded-allow-ips", "127.0.0.1"]
    if "forwarded-allow-ips" not in (source / "keepwell" / "web" / "cli.py").read_text():
        options = []  # code from before the option: Uvicorn believes loopback anyway
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "keepwell", "serve", "--database", str(path), "--no-scheduler",
             "--host", HOST, "--port", str(port), "--log-level", "warning", *options],
            env=env, cwd=source, stdout=out, stderr=subprocess.STDOUT,
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
    raise SystemExit(f"the server did not start; see {log}")


class Tally:
    """What the clients saw, shared between their threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latencies: list[float] = []
        self.statuses: dict[int, int] = {}
        self.errors: list[str] = []

    def add(self, ms: float | None, status: int | None, error: str = "") -> None:
        with self.lock:
            if ms is not None:
                self.latencies.append(ms)
            if status is not None:
                self.statuses[status] = self.statuses.get(status, 0) + 1
            if error or (status is not None and status >= 500):
                self.errors.append(error or f"HTTP {status}")


def post(
    conn: http.client.HTTPConnection, path: str, body: dict, headers: dict[str, str]
) -> tuple[float, int, int]:
    """(milliseconds, status, Retry-After or 0)."""
    began = time.perf_counter()
    conn.request(
        "POST", path, body=json.dumps(body), headers={"Content-Type": "application/json", **headers}
    )
    response = conn.getresponse()
    response.read()
    wait = response.getheader("Retry-After") or "0"
    return (time.perf_counter() - began) * 1000, response.status, int(wait)


def writer(
    port: int, token: str, seed: int, until: float, start: threading.Barrier, tally: Tally
) -> None:
    rng = random.Random(seed)
    conn = http.client.HTTPConnection(HOST, port, timeout=60)
    headers = {"Authorization": f"Bearer {token}"}
    start.wait()
    n = 0
    while time.monotonic() < until:
        n += 1
        body = {"customer_id": 1 + rng.randrange(CUSTOMERS), "channel": "call",
                "summary": f"bench {seed}:{n}"}  # fmt: skip
        try:
            ms, status, _ = post(conn, "/api/interactions", body, headers)
        except (OSError, http.client.HTTPException) as exc:
            tally.add(None, None, f"writer: {exc!r}")
            conn.close()
            conn = http.client.HTTPConnection(HOST, port, timeout=60)
            continue
        tally.add(ms, status, "" if status == 201 else f"writer: HTTP {status}")
    conn.close()


def attacker(
    port: int, kind: str, seed: int, until: float, start: threading.Barrier, tally: Tally
) -> None:
    """Wrong passwords until the deadline: `one` — the member's e-mail from this one
    address; `many` — a new unknown e-mail from a new address each time."""
    conn = http.client.HTTPConnection(HOST, port, timeout=60)
    start.wait()
    n = 0
    while time.monotonic() < until:
        n += 1
        if kind == "one":
            body, headers = {"email": EMAIL, "password": f"guess {seed}:{n}"}, {}
        else:
            body = {"email": f"probe{seed}.{n}@elsewhere.example", "password": "guess"}
            headers = {"X-Forwarded-For": f"10.{seed}.{n // 250 % 250}.{n % 250 + 1}"}
        try:
            ms, status, wait = post(conn, "/api/session", body, headers)
        except (OSError, http.client.HTTPException) as exc:
            tally.add(None, None, f"sign-in: {exc!r}")
            conn.close()
            conn = http.client.HTTPConnection(HOST, port, timeout=60)
            continue
        tally.add(ms, status)
        if status == 429:  # asking during the wait tells a guesser nothing: it waits
            conn.close()  # (longer than the server keeps an idle connection open)
            time.sleep(max(0.0, min(wait, until - time.monotonic())))
            conn = http.client.HTTPConnection(HOST, port, timeout=60)
    conn.close()


def phase(
    port: int, tokens: list[str], attackers: int, kind: str, seconds: float, pooled: dict
) -> None:
    """One phase: the writers (and the attackers) for `seconds`; adds to `pooled`."""
    writes, signs = pooled.setdefault("writes", Tally()), pooled.setdefault("signs", Tally())
    start = threading.Barrier(len(tokens) + attackers)
    until = time.monotonic() + seconds
    threads = [
        threading.Thread(target=writer, args=(port, t, i, until, start, writes))
        for i, t in enumerate(tokens)
    ] + [
        threading.Thread(target=attacker, args=(port, kind, i, until, start, signs))
        for i in range(attackers)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def summary(pooled: dict) -> dict:
    writes, signs = pooled["writes"], pooled["signs"]
    lat = sorted(writes.latencies)
    return {
        "writes": len(lat),
        "p50": statistics.median(lat) if lat else float("nan"),
        "p99": lat[int(0.99 * (len(lat) - 1))] if lat else float("nan"),
        "max": lat[-1] if lat else float("nan"),
        "write_errors": writes.errors,
        "attempts": sum(signs.statuses.values()),
        "answers": dict(sorted(signs.statuses.items())),
        "sign_in_errors": signs.errors,
        "sign_in_p50": statistics.median(signs.latencies) if signs.latencies else float("nan"),
    }


def refusal_times(port: int, rounds: int) -> dict[str, list[float]]:
    """Known e-mail + wrong password, and unknown e-mail, alternately; each attempt from
    a new address (so none waits on the throttle)."""
    conn = http.client.HTTPConnection(HOST, port, timeout=60)
    found: dict[str, list[float]] = {"known": [], "unknown": []}
    for n in range(rounds):
        for kind in ("known", "unknown"):
            email = EMAIL if kind == "known" else f"nobody{n}@shop.example"
            headers = {"X-Forwarded-For": f"192.0.2.{n % 250 + 1}" if kind == "known"
                       else f"198.51.100.{n % 250 + 1}"}  # fmt: skip
            ms, status, _ = post(
                conn, "/api/session", {"email": email, "password": "wrong guess"}, headers
            )
            if status != 401:
                raise SystemExit(f"a refusal answered {status}, not 401")
            found[kind].append(ms)
    conn.close()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=20, help="per phase and round")
    parser.add_argument("--repeat", type=int, default=2, help="rounds of the three phases")
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--attackers", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=30, help="refusals timed, of each kind")
    parser.add_argument("--source", type=Path, default=ROOT, help="the checkout to serve")
    parser.add_argument(
        "--label", default="", help="what --source is (its figures go to their own section)"
    )
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    path = WORK / "sign_in.db"
    tokens = prepare(path, args.writers)
    port = free_port()
    source = args.source.resolve()
    proc = serve(path, port, source, WORK / "sign_in_serve.log")
    phases = {"alone": (0, ""), "one address": (args.attackers, "one"),
              "many addresses": (args.attackers, "many")}  # fmt: skip
    pooled: dict[str, dict] = {name: {} for name in phases}
    try:
        for round_ in range(args.repeat):  # alternated, so that a slow minute hits all
            for name, (attackers, kind) in phases.items():
                print(f"round {round_ + 1}: writers, {name} …", flush=True)
                phase(port, tokens, attackers, kind, args.seconds, pooled[name])
        print("refusal times …", flush=True)
        times = refusal_times(port, args.rounds)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    alone, one, many = (summary(pooled[name]) for name in phases)
    results = {"alone": alone, "one address": one, "many addresses": many}
    print(json.dumps({**results, "refusals": {k: sorted(v) for k, v in times.items()}}, indent=1))
    commit = args.label or subprocess.run(
        ["git", "-C", str(source), "rev-parse", "--short", "HEAD"],
        capture_output=True, text=True, check=False,
    ).stdout.strip()  # fmt: skip
    known, unknown = statistics.median(times["known"]), statistics.median(times["unknown"])
    lines = [
        "## Sign-in under attack: writers' latency, and refusal times (bench/sign_in.py)"
        + (f" — before: {args.label}" if args.label else ""),
        "",
        stamp(),
        f"Code at {commit or 'this checkout'}. One `keepwell serve` process on SQLite, 127.0.0.1; "
        f"{args.writers} clients log interactions (POST /api/interactions, keep-alive): alone, "
        f"beside {args.attackers} clients sending wrong passwords for one member's e-mail from one "
        "address (they wait out Retry-After: asking during the wait tells a guesser nothing), and "
        f"beside {args.attackers} clients sending wrong passwords for a new unknown e-mail from a "
        "new address each time (every attempt a password check); "
        f"{args.seconds:g} s each, {args.repeat} rounds alternated, figures pooled. "
        "All clients are threads on the same 2 cores as the server.",
        "",
        "| writers … | writes | p50 | p99 | max | write errors | sign-in attempts | their answers | sign-in errors |",
        "|---|---:|---:|---:|---:|---:|---:|---|---:|",
    ]
    for name, r in results.items():
        answers = ", ".join(f"{n}× {s}" for s, n in r["answers"].items()) or "—"
        lines.append(
            f"| {name if name == 'alone' else 'with sign-ins, ' + name} | {r['writes']:,} "
            f"| {r['p50']:.0f} ms | {r['p99']:.0f} ms | {r['max']:.0f} ms | {len(r['write_errors'])} "
            f"| {r['attempts']:,} | {answers} | {len(r['sign_in_errors'])} |"
        )
    lines += [
        "",
        f"Writers' p99 beside the sign-ins: {one['p99'] / alone['p99']:.2f}× (one address) and "
        f"{many['p99'] / alone['p99']:.2f}× (new addresses) their p99 alone.",
        "",
        f"Refusals, {args.rounds} of each, alternately, each from a new address: a known e-mail "
        f"with a wrong password {known:.0f} ms (median; p90 "
        f"{sorted(times['known'])[int(0.9 * (len(times['known']) - 1))]:.0f} ms), an unknown "
        f"e-mail {unknown:.0f} ms (p90 {sorted(times['unknown'])[int(0.9 * (len(times['unknown']) - 1))]:.0f} ms).",
    ]
    body = "\n".join(lines)
    print(body)
    if not args.no_write:
        write_section("sign-in-before" if args.label else "sign-in", body)
    errors = [e for r in results.values() for e in r["write_errors"] + r["sign_in_errors"]]
    if errors:
        raise SystemExit(f"{len(errors)} errors, e.g. {errors[:5]}")
    worst = max(one["p99"], many["p99"])
    if worst > 2 * alone["p99"]:
        raise SystemExit(f"writers' p99 {worst:.0f} ms beside sign-ins > 2 × {alone['p99']:.0f} ms")


if __name__ == "__main__":
    main()
