"""Real exports through the commands a user runs (each a real `keepwell` process):
zero-amount orders, a purchase model that cannot be fitted, a bad summary file."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from keepwell.ingest.orders_import import import_orders
from tests import free_orders

GG_PUBLISHED = {"p": 6.25, "q": 3.74, "v": 15.44}
DAY = dt.date(2024, 6, 30)


def keepwell(*args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "keepwell", *args],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done


def url_of(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def scratch() -> Path:
    return Path(tempfile.mkdtemp(prefix="keepwell-test-"))


def import_rows(engine: Engine, rows: list[tuple[str, dt.date]]) -> None:
    """Orders of 10.00 each: (customer, day)."""
    path = scratch() / "orders.csv"
    lines = ["customer_id,order_date,amount"] + [f"{c},{d},10.00" for c, d in rows]
    path.write_text("\n".join(lines) + "\n")
    import_orders(engine, path)


def stored(engine: Engine, day: dt.date) -> list[sa.Row[tuple[str, str, float | None, int | None]]]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                sa.text(
                    "SELECT c.external_id, s.model, s.p_alive, s.predicted_value_minor"
                    " FROM scores s JOIN customers c ON c.id = s.customer_id"
                    " WHERE s.scored_on = :d"
                ),
                {"d": day},
            ).all()
        )


def test_zero_amount_orders_are_scored_and_gamma_gamma_is_fitted(engine: Engine) -> None:
    """It crashed with "ValueError: monetary_value must be positive for repeat customers",
    and `model fit` left Gamma-Gamma out beside hundreds of repeat customers."""
    import_orders(engine, free_orders.write_csv(scratch() / "orders.csv"))
    url = url_of(engine)

    fit = keepwell("model", "fit", "--until", "1997-09-30", "--json", "-d", url)
    assert fit.returncode == 0, fit.stderr
    result = json.loads(fit.stdout)
    gg = result["gamma_gamma"]
    assert gg["customers"] == 946
    assert {k: gg[k] for k in GG_PUBLISHED} == pytest.approx(GG_PUBLISHED, rel=0.02)
    assert any("spent nothing" in note for note in result["notes"])

    done = keepwell("score", "--date", "1997-09-30", "-d", url)
    assert done.returncode == 0, done.stderr
    assert "Gamma-Gamma on 946 repeat customers: p=6.297, q=3.73, v=15.23" in done.stdout
    assert "spent nothing on their repeat purchases" in done.stdout
    rows = stored(engine, dt.date(1997, 9, 30))
    assert len(rows) == 2357 and {r.model for r in rows} == {"bgnbd"}
    # customers whose repeat purchases were all free are valued at the shop's mean, as
    # one-time buyers are
    free = {str(c) for c, _ in free_orders.free_orders(free_orders.load())[:10]}
    values = {r.predicted_value_minor for r in rows if r.external_id in free}
    assert len(values) == 1 and values.pop() == pytest.approx(3513, abs=3)  # about 35.13


def quick_then_slow(day: dt.date) -> list[tuple[str, dt.date]]:
    """5 customers who bought 5 times in their first 5 weeks, 40 weeks ago, and 20 who
    bought twice, 20 weeks apart, the first time 40 weeks ago: BG/NBD fits (every
    parameter between 0.9 and 8); Pareto/NBD's dropout scale beta runs off."""
    first = day - dt.timedelta(weeks=40)
    rows: list[tuple[str, dt.date]] = []
    for i in range(5):
        rows += [(f"Q{i}", first + dt.timedelta(days=d)) for d in (0, 9, 18, 26, 35)]
    for i in range(20):
        rows += [(f"S{i}", first), (f"S{i}", first + dt.timedelta(weeks=20))]
    return rows


def test_pareto_that_cannot_be_fitted_falls_back_to_bgnbd(engine: Engine) -> None:
    """It stored no purchase model at all."""
    import_rows(engine, quick_then_slow(DAY))
    done = keepwell("score", "--date", DAY.isoformat(), "--model", "pareto", "-d", url_of(engine))
    assert done.returncode == 0, done.stderr
    assert "Model bgnbd (fitted in place of pareto, asked for by name): r=" in done.stdout
    assert "Pareto/NBD could not be fitted (parameter(s) beta ran off" in done.stdout
    assert "so BG/NBD was fitted instead" in done.stdout
    rows = stored(engine, DAY)
    assert len(rows) == 25
    assert {r.model for r in rows} == {"bgnbd"}  # what the scores were computed with
    assert all(r.p_alive is not None for r in rows)


def test_without_any_purchase_model_the_run_says_so(sqlite_engine: Engine) -> None:
    import_rows(sqlite_engine, [("A", DAY - dt.timedelta(days=30)), ("A", DAY), ("B", DAY)])
    done = keepwell("score", "--date", DAY.isoformat(), "-d", url_of(sqlite_engine))
    assert done.returncode == 0, done.stderr
    assert "Model: none (neither could be fitted" in done.stdout
    assert "no purchase model: neither could be fitted (BG/NBD: needs at least 10" in done.stdout
    rows = stored(sqlite_engine, DAY)
    assert {r.model for r in rows} == {"none"} and all(r.p_alive is None for r in rows)


def test_bad_rows_of_a_summary_file_are_named(tmp_path: Path) -> None:
    path = tmp_path / "summary.csv"
    path.write_text(
        "frequency,recency,T,monetary_value\n"
        "2,10.5,20,31.5\n"
        "1,3,x,12\n"  # line 3
        "\n"
        "0,4,30,0\n"  # line 5: recency without a repeat purchase (was a traceback)
        "1.5,3,30,10\n"  # line 6
        "3,31,30,10\n"  # line 7
        "1,2,30,-4\n"  # line 8
        "1e12,2,30,4\n"  # line 9
    )
    done = keepwell("model", "fit", "--summary", str(path))
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"{path}:3: column T: 'x' is not a number",
        f"{path}:5: column recency: 4: must be 0 when frequency is 0",
        f"{path}:6: column frequency: 1.5: must be a whole number of repeat purchases",
        f"{path}:7: column recency: 31 is larger than T (30)",
        f"{path}:8: column monetary_value: '-4': must be a number >= 0",
        f"{path}:9: column frequency: 1e+12: more repeat purchases than anyone makes",
        "rejected: 6 bad rows; nothing was fitted",
    ]
