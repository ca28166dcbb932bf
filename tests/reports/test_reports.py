"""`keepwell report NAME`: every report on the demo desk, its JSON, CSV and a readable chart."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from keepwell import clock
from keepwell.analytics.cohorts import Activity, cohorts, retention
from keepwell.analytics.funnel import funnel
from keepwell.cli import app
from keepwell.ingest.demo import build_world
from keepwell.scoring.service import score

runner = CliRunner()
TODAY = dt.date(2026, 11, 25)


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def assert_readable_chart(path: Path) -> None:
    assert path.stat().st_size > 15_000, "a chart with titles, labels and data is larger"
    with Image.open(path) as image:
        assert image.format == "PNG"
        width, height = image.size
    assert width >= 800 and height >= 350


@pytest.fixture
def demo(engine: Engine) -> str:
    with clock.frozen(TODAY):
        build_world(engine, customers=300, seed=7, today=TODAY)
        score(engine, TODAY)
    return engine.url.render_as_string(hide_password=False)


def report(url: str, name: str, *args: str) -> dict[str, object]:
    code, out, err = run("report", name, "--date", TODAY.isoformat(), "-d", url, "--json", *args)
    assert code == 0, err
    data: dict[str, object] = json.loads(out)
    return data


def test_every_report_draws_a_readable_chart(demo: str, tmp_path: Path) -> None:
    for name in ("retention", "cohorts", "rfm", "clv", "funnel", "promises", "cases"):
        chart = tmp_path / f"{name}.png"
        code, out, err = run(
            "report", name, "--date", TODAY.isoformat(), "-d", demo, "--chart", str(chart)
        )
        assert code == 0, f"{name}: {err}"
        assert f"Chart: {chart}" in out
        assert_readable_chart(chart)


def test_cohorts_and_retention_on_the_demo(demo: str) -> None:
    data = report(demo, "cohorts", "--months", "6")
    rows = data["rows"]
    assert isinstance(rows, list) and len(rows) == 6
    assert all(row["m0"] == 1.0 for row in rows)  # the month of the first purchase
    assert rows[-1]["m1"] is None  # the newest cohort has no month after it yet
    assert sum(row["customers"] for row in rows) > 0
    ret = report(demo, "retention")
    months = ret["rows"]
    assert isinstance(months, list) and len(months) == 12
    for row in months:
        assert row["active"] >= row["new"] and row["active"] >= row["retained"]
        if row["retention"] is not None:
            assert row["churn"] == pytest.approx(1 - row["retention"], abs=1e-4)


def test_scores_reports_add_up(demo: str) -> None:
    rfm = report(demo, "rfm")
    funnel_ = report(demo, "funnel")
    steps = funnel_["rows"]
    assert isinstance(steps, list)
    reached = [s["reached"] for s in steps]
    assert reached == sorted(reached, reverse=True)
    assert sum(r["customers"] for r in rfm["rows"]) == reached[0]  # type: ignore[union-attr]
    assert steps[0]["lost_after"] == reached[0] - reached[1]
    clv = report(demo, "clv", "--top", "5")
    top = clv["rows"]
    assert isinstance(top, list) and len(top) == 5
    values = [r["clv_minor"] for r in top]
    assert values == sorted(values, reverse=True)


def test_desk_reports_and_csv(demo: str) -> None:
    promises = report(demo, "promises", "--months", "2")
    team = [r for r in promises["rows"] if r["member"] == "(team)"]  # type: ignore[union-attr]
    assert len(team) == 2
    for row in team:
        assert row["due"] == (
            row["kept_on_time"] + row["kept_late"] + row["broken"] + row["still_open"]
        )
    cases = report(demo, "cases", "--months", "3")
    assert isinstance(cases["root_causes"], list)
    code, out, err = run("report", "cases", "--date", TODAY.isoformat(), "-d", demo, "--csv")
    assert code == 0, err
    table = list(csv.reader(io.StringIO(out)))
    assert table[0][:2] == ["month", "opened"] and len(table) == 13


def test_reports_refuse_what_they_cannot_do(sqlite_engine: Engine, tmp_path: Path) -> None:
    url = sqlite_engine.url.render_as_string()
    code, _, err = run("report", "rfm", "-d", url)
    assert code == 1 and "run `keepwell score` first" in err
    code, _, err = run("report", "churn", "-d", url)
    assert code == 1 and "unknown report 'churn'" in err
    code, _, err = run("report", "retention", "-d", url, "--chart", str(tmp_path / "x.gif"))
    assert code == 1 and ".png or .svg" in err


def test_retention_and_cohorts_by_hand() -> None:
    # customers 1-3; months 0, 1, 2
    activity = Activity.of([1, 1, 2, 2, 3, 1], [0, 1, 0, 2, 1, 1], [10, 5, 7, 1, 2, 5])
    r = retention(activity)
    assert r.active == [2, 2, 1]
    assert r.new == [2, 1, 0]
    assert r.retained == [0, 1, 0]  # customer 1 bought in months 0 and 1
    assert r.retention == [None, 0.5, 0.0]
    assert r.overall_repeat_rate == pytest.approx(2 / 3)
    c = cohorts(activity)
    assert c.cohorts == [0, 1] and c.sizes == [2, 1]
    assert c.share[0] == [1.0, 0.5, 0.5]
    assert c.share[1] == [1.0, 0.0, None]
    assert c.revenue[0] == [17.0, 10.0, 1.0]  # customer 1's two orders in month 1 summed


def test_funnel_by_hand() -> None:
    stages = ["lapsed", "adopting", "at_risk", "repeat", "repeat", ""]
    steps = funnel([1, 1, 2, 3, 5, 0], stages)
    assert [s.reached for s in steps] == [5, 3, 2]  # no advocacy recorded: no such step
    assert [s.lost_after for s in steps] == [2, 1, 0]
    with_advocates = funnel([1, 1, 2, 3, 5, 0], stages, [False, False, False, True, False, False])
    assert [s.reached for s in with_advocates] == [5, 3, 2, 1]
    assert with_advocates[2].lost_after == 1
    assert steps[0].now_lapsed == 1 and steps[1].now_at_risk == 1
