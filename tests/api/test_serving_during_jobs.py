"""The app keeps answering other people while an import or a scoring run holds its
transaction open.

No stopwatch: the fault hook (keepwell/faults.py) stops each job (SIGSTOP) at the
point where it holds the most, every row written and nothing committed, and it stays
stopped until the test lets it go. Reads that are answered meanwhile did not wait for
the job; a read that waited for it would never be answered before the job is let go
(the server's own timeouts turn that into an error the test sees)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from sqlalchemy.engine import Engine

from keepwell import db, faults
from keepwell.accounts.service import add_member
from keepwell.accounts.tokens import create_token
from keepwell.customers.models import Customer
from tests.api.test_concurrency import server, writer  # noqa: F401 - the fixture, shared
from tests.conftest import CDNOW_CUSTOMERS, CDNOW_ORDERS, write_cdnow_orders

READS = 5


@contextmanager
def stopped_before_commit(command: list[str], table: str, out: Path) -> Iterator[None]:
    """Run `command` until it is about to commit its rows of `table`, stopped there for
    the body of the `with`; then let it finish, and check it did."""
    env = {**os.environ, faults.BEFORE_COMMIT: f"{table}:stop"}
    with out.open("w") as log:  # a file, not a pipe: a full pipe would hold the job up
        job = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, text=True)
    try:
        _, status = os.waitpid(job.pid, os.WUNTRACED)  # until it stops (or ends)
        assert os.WIFSTOPPED(status), f"the job ended before its commit: {out.read_text()}"
        yield
        os.kill(job.pid, signal.SIGCONT)
        assert job.wait(timeout=600) == 0, out.read_text()
    finally:
        if job.poll() is None:
            job.kill()  # a failed test leaves no stopped job holding the database
            job.wait()


def read(client: httpx.Client) -> None:
    response = client.get("/api/customers", params={"q": "Bea"})
    assert response.status_code == 200, response.text
    assert [c["name"] for c in response.json()["items"]] == ["Bea"]


def test_reads_are_answered_while_an_import_and_a_scoring_run_hold_their_writes(
    engine: Engine,
    server: tuple[str, Path],  # noqa: F811 - the fixture imported above
    tmp_path: Path,
) -> None:
    base, log = server
    with db.transaction(writer(engine)) as session:
        member = add_member(session, "ana@shop.example", "Ana", "member")
        _, token = create_token(session, member, "t")
        session.add(Customer(name="Bea", external_id="B1", tags=[]))
    headers = {"Authorization": f"Bearer {token}"}
    database = engine.url.render_as_string(hide_password=False)
    orders = write_cdnow_orders(tmp_path / "orders.csv")
    importing = [sys.executable, "-m", "keepwell", "import", "orders", str(orders),
                 "--database", database]  # fmt: skip
    scoring = [sys.executable, "-m", "keepwell", "score", "--date", "1998-06-30",
               "--database", database]  # fmt: skip
    with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
        out = tmp_path / "import.out"
        with stopped_before_commit(importing, "orders", out):
            for _ in range(READS):
                read(client)
        assert f"orders: {CDNOW_ORDERS:,} added" in out.read_text()
        out = tmp_path / "score.out"
        with stopped_before_commit(scoring, "scores", out):
            for _ in range(READS):
                read(client)
        assert f"Scored {CDNOW_CUSTOMERS + 1:,} customers" in out.read_text()
        if engine.dialect.name == "sqlite":  # the reads could not note the token's use
            assert last_used(engine) is None
        read(client)  # the lock is free again: this one notes it
    assert last_used(engine) is not None
    assert "database is locked" not in log.read_text()


def last_used(engine: Engine) -> object:
    with engine.connect() as conn:
        return conn.exec_driver_sql("SELECT last_used_at FROM api_tokens").scalar_one()
