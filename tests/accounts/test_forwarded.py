"""`keepwell serve` believes X-Forwarded-For only from the proxies the admin names
(--forwarded-allow-ips). Before, Uvicorn believed it from 127.0.0.1 by default, so a
client on the desk's own host (or behind a proxy there that passes the header on) could
name a new address for each sign-in attempt and never be slowed down."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from keepwell import db
from keepwell.accounts import auth
from keepwell.accounts.models import SignInThrottle
from keepwell.accounts.service import add_user

ANA = "ana@shop.example"
ATTEMPTS = 8  # wrong passwords, each claiming another address


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(engine: Engine, log: Path, *options: str) -> Iterator[str]:
    """`keepwell serve` on the test's database in its own process, on loopback, its
    clock fixed (KEEPWELL_NOW: a wait never runs out during the test): its base URL."""
    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "KEEPWELL_NOW": "2026-11-25T09:00:00"}
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "keepwell", "serve", "--no-scheduler", "--port", str(port),
             "--database", engine.url.render_as_string(hide_password=False),
             "--log-level", "warning", *options],
            stdout=out, stderr=subprocess.STDOUT, env=env,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/api/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def attempts(base: str) -> list[int]:
    """ATTEMPTS wrong passwords, each with another X-Forwarded-For: their statuses."""
    with httpx.Client(base_url=base, timeout=30) as client:
        return [
            client.post(
                "/api/session",
                json={"email": ANA, "password": "not the password"},
                headers={"X-Forwarded-For": f"203.0.113.{n + 1}"},
            ).status_code
            for n in range(ATTEMPTS)
        ]


def throttled_addresses(engine: Engine) -> set[str]:
    """The addresses the throttle counted failures of (its keys are hashes)."""
    with db.transaction(engine) as session:
        keys = set(session.scalars(sa.select(SignInThrottle.key)))
    candidates = ["127.0.0.1", *(f"203.0.113.{n + 1}" for n in range(ATTEMPTS))]
    return {ip for ip in candidates if auth.throttle_key(ANA, ip) in keys}


def with_ana(engine: Engine) -> None:
    with db.transaction(engine) as session:
        add_user(session, ANA, password="correct horse battery")


def test_a_forwarded_for_from_loopback_is_not_believed_by_default(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    with_ana(sqlite_engine)
    with serving(sqlite_engine, tmp_path / "serve.log") as base:
        statuses = attempts(base)
    free = auth.FREE_FAILURES
    assert statuses == [401] * free + [429] * (ATTEMPTS - free)
    assert throttled_addresses(sqlite_engine) == {"127.0.0.1"}


def test_the_proxies_named_are_believed(sqlite_engine: Engine, tmp_path: Path) -> None:
    """Behind a reverse proxy on 127.0.0.1, the address it forwards is the client's:
    eight clients, eight counts (none made to wait yet)."""
    with_ana(sqlite_engine)
    with serving(
        sqlite_engine, tmp_path / "serve.log", "--forwarded-allow-ips", "127.0.0.1"
    ) as base:
        statuses = attempts(base)
    assert statuses == [401] * ATTEMPTS
    assert throttled_addresses(sqlite_engine) == {f"203.0.113.{n + 1}" for n in range(ATTEMPTS)}


def test_a_proxy_address_that_is_no_address_is_refused(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "keepwell", "serve", "--forwarded-allow-ips", "proxy.lan",
         "--database", f"sqlite:///{tmp_path / 'kw.db'}"],
        capture_output=True, text=True, timeout=60, check=False,
        env={**os.environ, "COLUMNS": "300"},  # the message on one line
    )  # fmt: skip
    assert done.returncode == 2
    assert "'proxy.lan' is not an IP address or network" in done.stderr
    assert "Traceback" not in done.stderr
