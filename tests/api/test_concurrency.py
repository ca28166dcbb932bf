"""Eight clients write at once to a running `keepwell serve` (a real server on loopback),
on SQLite and on PostgreSQL: every write is accounted for, none is lost or doubled, no
"database is locked", no 5xx."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from keepwell import db
from keepwell.accounts.service import add_member
from keepwell.accounts.tokens import create_token
from keepwell.customers.models import Customer
from keepwell.tasks.models import Task
from keepwell.tasks.service import create_task
from keepwell.touches.models import Touch

CLIENTS = 8
INTERACTIONS = 12  # per client
OWN_TASKS = 6  # per client
CONTESTED = 6  # tasks every client tries to complete
CUSTOMERS = 4  # shared by all clients: their rows are written by everyone at once


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def server(engine: Engine, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """`keepwell serve` on the test database, in its own process: (base URL, its log)."""
    port = free_port()
    url = engine.url.render_as_string(hide_password=False)
    log = tmp_path / "server.log"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("KEEPWELL_NOW", None)
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "keepwell", "serve", "--database", url, "--port", str(port),
             "--log-level", "warning"],
            stdout=out, stderr=subprocess.STDOUT, env=env,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/api/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.1)
        yield base, log
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def writer(engine: Engine) -> Engine:
    """The test's own writes beside the running server (whose scheduler writes too):
    on SQLite they queue for the writer's lock from the start (BEGIN IMMEDIATE), instead
    of failing when the server committed since they began reading."""
    return engine.execution_options(**{db.SQLITE_WRITE: True})


def test_eight_clients_writing_at_once_lose_nothing(
    engine: Engine, server: tuple[str, Path]
) -> None:
    base, log = server
    secrets: list[str] = []
    customers: list[int] = []
    own: dict[int, list[int]] = {}
    contested: list[int] = []
    with db.transaction(writer(engine)) as session:
        for c in range(CLIENTS):
            member = add_member(session, f"c{c}@shop.example", f"Client {c}", "member")
            secrets.append(create_token(session, member, "load")[1])
        for k in range(CUSTOMERS):
            row = Customer(name=f"Customer {k}", tags=[], marketing_consent=False)
            session.add(row)
            session.flush()
            customers.append(row.id)
        rows = {row.id: row for row in session.scalars(sa.select(Customer))}

        def task(reason: str, k: int) -> int:
            made = create_task(
                session, rows[customers[k % CUSTOMERS]], kind="follow_up",
                due_on=date(2026, 11, 25), reason=reason, context="",
            )  # fmt: skip
            return made.id

        for c in range(CLIENTS):
            own[c] = [task(f"client {c} task {i}", c + i) for i in range(OWN_TASKS)]
        contested = [task(f"contested {i}", i) for i in range(CONTESTED)]

    results: dict[int, list[tuple[str, int, str]]] = {c: [] for c in range(CLIENTS)}
    start = threading.Barrier(CLIENTS, timeout=30)

    def client(c: int) -> None:
        headers = {"Authorization": f"Bearer {secrets[c]}"}
        with httpx.Client(base_url=base, headers=headers, timeout=30) as http:
            start.wait()
            for i in range(INTERACTIONS):
                r = http.post(
                    "/api/interactions",
                    json={"customer_id": customers[(c + i) % CUSTOMERS], "channel": "call",
                          "summary": f"client {c} call {i}"},
                )  # fmt: skip
                results[c].append(("interaction", r.status_code, r.text))
                if i < OWN_TASKS:
                    r = http.post(f"/api/tasks/{own[c][i]}/complete", json={"outcome": f"own {c}"})
                    results[c].append(("own task", r.status_code, r.text))
                if i < CONTESTED:
                    r = http.post(f"/api/tasks/{contested[i]}/complete", json={})
                    results[c].append((f"contested {contested[i]}", r.status_code, r.text))

    threads = [threading.Thread(target=client, args=(c,)) for c in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)

    everything = [r for rs in results.values() for r in rs]
    assert all(status < 500 for _, status, _ in everything), [r for r in everything if r[1] >= 500]
    interactions = [r for r in everything if r[0] == "interaction"]
    assert [s for _, s, _ in interactions] == [201] * CLIENTS * INTERACTIONS
    own_done = [r for r in everything if r[0] == "own task"]
    assert [s for _, s, _ in own_done] == [200] * CLIENTS * OWN_TASKS
    # each contested task: completed by exactly one client; the others told it is done
    by_task = Counter(
        what for what, status, _ in everything if what.startswith("contested") and status == 200
    )
    assert sorted(by_task.values()) == [1] * CONTESTED
    refused = [r for r in everything if r[0].startswith("contested") and r[1] != 200]
    assert len(refused) == CONTESTED * (CLIENTS - 1)
    assert all(s in (409, 422) and ("done" in t or "meanwhile" in t) for _, s, t in refused)

    with db.transaction(engine) as session:
        summaries = Counter(session.scalars(sa.select(Touch.summary)))
        statuses = Counter(session.scalars(sa.select(Task.status)))
        last_contacts = session.scalars(sa.select(Customer.last_contact_at)).all()
    calls = {f"client {c} call {i}" for c in range(CLIENTS) for i in range(INTERACTIONS)}
    assert {s: summaries[s] for s in calls} == dict.fromkeys(calls, 1)  # each once
    # every completed task logged its touch too, exactly once
    assert sum(summaries.values()) == len(calls) + CLIENTS * OWN_TASKS + CONTESTED
    assert statuses == {"done": CLIENTS * OWN_TASKS + CONTESTED}
    assert all(moment is not None for moment in last_contacts)
    text = log.read_text()
    assert "database is locked" not in text
    assert "Traceback" not in text, text
