"""`keepwell serve` as a user starts it: a desk made by `keepwell init`, an admin made by
`keepwell user add`, a token from `keepwell token create`, then the server in its own
process on a free loopback port."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from tests.conftest import postgres_required, postgres_url
from tests.smoke.process import KEEPWELL, environment, keepwell

ADMIN = "ada@shop.example"
PASSWORD = "a long and unguessable sign-in phrase"
TOKEN_NAME = "smoke"
STARTUP = 300  # seconds the server may take to answer its first request (a loaded machine)


@dataclass
class Served:
    url: str  # http://127.0.0.1:PORT
    token: str  # an admin's API token
    database: str
    env: dict[str, str]
    log: Path

    def client(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {self.token}"}, timeout=60
        )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(
    database: str, home: Path, *, fresh: bool = True, options: tuple[str, ...] = ()
) -> Iterator[Served]:
    """Serve `database`: made by `keepwell init` when `fresh`, else already a desk;
    `options` go to `keepwell serve` (e.g. --no-scheduler)."""
    env = environment(home, database)
    if fresh:
        assert "Created" in keepwell("init", env=env).out
    keepwell(
        "user",
        "add",
        ADMIN,
        "--role",
        "admin",
        "--name",
        "Ada",
        "--password-stdin",
        env=env,
        stdin=PASSWORD + "\n",
    )
    token = keepwell("token", "create", ADMIN, "--name", TOKEN_NAME, env=env).out.splitlines()[1]
    port = free_port()
    log = home / "serve.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [str(KEEPWELL), "serve", "--port", str(port), "--log-level", "warning", *options],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**env, "PYTHONUNBUFFERED": "1"},
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP
        while True:
            try:
                if httpx.get(f"{url}/api/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None:
                pytest.fail(f"keepwell serve exited {proc.returncode}:\n{log.read_text()}")
            if time.monotonic() > deadline:
                pytest.fail(f"keepwell serve did not answer in {STARTUP} s:\n{log.read_text()}")
            time.sleep(0.1)
        yield Served(url, token, database, env, log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    assert "Traceback" not in log.read_text(), log.read_text()


@contextmanager
def empty_postgres_database(label: str) -> Iterator[str]:
    """A new, empty PostgreSQL database (no schema: `keepwell init` makes it)."""
    admin_url = postgres_url()
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID", "")[:8] or f"p{os.getpid()}"
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = f"keepwell_smoke_{label}_{run}_{worker}".lower()
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except sa.exc.OperationalError as exc:
        admin.dispose()
        message = f"PostgreSQL is unreachable: {exc.orig}"
        if postgres_required():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    url = sa.make_url(admin_url).set(drivername="postgresql", database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
