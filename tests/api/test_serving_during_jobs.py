"""The app keeps answering other people while a large import or a scoring run goes on."""

from __future__ import annotations

import random
import subprocess
import sys
import time
from pathlib import Path

import httpx
from sqlalchemy.engine import Engine

from keepwell import db
from keepwell.accounts.service import add_member
from keepwell.accounts.tokens import create_token
from keepwell.customers.models import Customer
from tests.api.test_concurrency import server  # noqa: F401 - the fixture, shared

ROWS = 150_000


def big_file(tmp_path: Path) -> Path:
    rng = random.Random(2)
    path = tmp_path / "orders.csv"
    with path.open("w") as f:
        f.write("order_id,customer_id,created_at,amount\n")
        for i in range(ROWS):
            f.write(
                f"O{i},C{rng.randrange(30_000)},2025-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d} 10:00:00,{rng.randrange(100, 9999) / 100:.2f}\n"
            )
    return path


def read_while(job: subprocess.Popen[str], client: httpx.Client) -> list[float]:
    """Read from the app until the job ends; how long each answer took."""
    answered: list[float] = []
    while job.poll() is None:
        started = time.monotonic()
        response = client.get("/api/customers", params={"q": "Bea"})
        answered.append(time.monotonic() - started)
        assert response.status_code == 200, response.text
        assert [c["name"] for c in response.json()["items"]] == ["Bea"]
        time.sleep(0.05)
    return answered


def test_reads_are_answered_while_an_import_and_a_scoring_run(
    engine: Engine,
    server: tuple[str, Path],  # noqa: F811 - the fixture imported above
    tmp_path: Path,
) -> None:
    base, log = server
    with db.transaction(engine) as session:
        member = add_member(session, "ana@shop.example", "Ana", "member")
        _, token = create_token(session, member, "t")
        session.add(Customer(name="Bea", external_id="B1", tags=[]))
    headers = {"Authorization": f"Bearer {token}"}
    importer = subprocess.Popen(
        [sys.executable, "-m", "keepwell", "import", "orders", str(big_file(tmp_path)),
         "--database", engine.url.render_as_string(hide_password=False)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    database = engine.url.render_as_string(hide_password=False)
    with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
        answered = read_while(importer, client)
        out, err = importer.communicate()
        assert importer.returncode == 0, err
        assert f"orders: {ROWS:,} added" in out
        assert len(answered) >= 5  # the import ran long enough to be read beside
        assert max(answered) < 2.0, max(answered)  # nobody waited for the import to finish
        scorer = subprocess.Popen(
            [sys.executable, "-m", "keepwell", "score", "--date", "2026-01-15", "--database", database],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        answered = read_while(scorer, client)
        _, err = scorer.communicate()
        assert scorer.returncode == 0, err
        assert len(answered) >= 3 and max(answered) < 2.0, answered
    assert "database is locked" not in log.read_text()
