"""The dashboards without a browser, on SQLite and PostgreSQL: the report's numbers, SVG
charts with printed values and escaped text; and the charts as pure functions."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from keepwell import clock, db
from keepwell.reports import service
from keepwell.scoring.models import Score
from keepwell.web import charts
from tests.web.conftest import World

SVG = "{http://www.w3.org/2000/svg}"


def svgs(page: str) -> list[ET.Element]:
    return [ET.fromstring(s) for s in re.findall(r"<svg.*?</svg>", page, re.S)]


def texts(svg: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in svg.iter(f"{SVG}text")]


def test_dashboards_draw_the_reports_numbers(web: TestClient, shop: World) -> None:
    page = web.get("/dashboards")
    assert page.status_code == 200
    drawn = svgs(page.text)
    titles = [svg.find(f"{SVG}title").text for svg in drawn]  # type: ignore[union-attr]
    assert titles == [
        "Retention and churn by month",
        "Cohorts: share buying again, by month of the first purchase",
        "The hourglass: how far customers got",
        "Promises kept on time, by member",
        "At-risk customers by value at stake (90 days)",
        "Net Promoter Score by month",
    ]
    with db.transaction(shop.engine) as session:
        options = service.Options(day=clock.today(), months=12, top=10)
        retention = service.build(session, "retention", options)
        funnel = service.build(session, "funnel", options)
        at_risk = service.build(session, "at_risk", options)
    # the retention chart prints each month's retention as text (readable without hovering)
    printed = texts(drawn[0])
    for row in retention.rows:
        if row[4] is not None:
            assert f"{100 * row[4]:.0f} %" in printed
    # the funnel prints every step's count, and the drop-offs
    printed = texts(drawn[2])
    for step in funnel.rows:
        assert any(t.startswith(f"{step[1]:,}") for t in printed), step
    assert any("went no further" in t for t in printed)
    # at-risk customers: the report's, most value at stake first
    printed = texts(drawn[4])
    assert at_risk.rows, "the demo shop has customers at risk"
    assert f"{at_risk.rows[0][3] / 100:,.2f}" in printed
    stakes = [r[3] for r in at_risk.rows]
    assert stakes == sorted(stakes, reverse=True)
    with db.transaction(shop.engine) as session:
        latest = session.scalar(sa.select(sa.func.max(Score.scored_on)))
        count = session.scalar(
            sa.select(sa.func.count())
            .select_from(Score)
            .where(Score.scored_on == latest, Score.stage == "at_risk")
        )
    assert at_risk.extra["customers"] == count
    # every chart is labelled for assistive technology
    for svg in drawn:
        assert svg.get("role") == "img" and svg.get("aria-labelledby")


def test_dashboards_say_when_nothing_is_scored(web: TestClient, shop: World) -> None:
    with db.transaction(shop.engine) as session:
        session.execute(sa.delete(Score))
    page = web.get("/dashboards?fresh=1")
    assert page.status_code == 200
    assert page.text.count("no scores yet: run `keepwell score` first") == 2  # funnel, at risk
    assert "Retention and churn by month" in page.text  # orders are enough for these


@pytest.mark.parametrize("months", ["0", "37", "x", "-1"])
def test_bad_window_is_refused(web: TestClient, months: str) -> None:
    answer = web.get(f"/dashboards?months={months}")
    assert answer.status_code == 422 and "months" in answer.text


def test_the_cache_keeps_figures_until_asked_fresh(web: TestClient, shop: World) -> None:
    first = web.get("/dashboards")
    with db.transaction(shop.engine) as session:
        session.execute(sa.delete(Score))
    assert (
        svgs(web.get("/dashboards").text)[4].find(f"{SVG}title").text
        == svgs(first.text)[4].find(f"{SVG}title").text
    )  # type: ignore[union-attr]
    assert "no scores yet" not in web.get("/dashboards").text
    assert "no scores yet" in web.get("/dashboards?fresh=1").text


# --- the charts, pure ---------------------------------------------------------------------


def test_chart_text_is_escaped() -> None:
    evil = '<script>alert("x")</script>'
    for svg in (
        charts.line_chart(title=evil, x_label=evil, y_label=evil, labels=[evil], series={evil: [1.0]}),
        charts.heat_map(title=evil, x_label=evil, y_label=evil, rows=[evil], columns=[evil],
                        values=[[0.5]], row_notes=[evil]),
        charts.bars(title=evil, x_label=evil, labels=[evil], values=[3.0], annotations=[evil]),
        charts.funnel(title=evil, steps=[(evil, 5, evil)]),
    ):  # fmt: skip
        assert "<script>" not in svg
        root = ET.fromstring(str(svg))  # well-formed XML
        assert evil in texts(root)


def test_line_chart_prints_values_and_leaves_gaps() -> None:
    svg = ET.fromstring(
        str(
            charts.line_chart(
                title="t", x_label="month", y_label="share", labels=["a", "b", "c", "d"],
                series={"one": [0.5, None, 0.25, 0.75]}, percent=True,
            )
        )
    )  # fmt: skip
    printed = texts(svg)
    assert {"50 %", "25 %", "75 %"} <= set(printed)
    assert {"month", "share", "a", "d"} <= set(printed)
    lines = list(svg.iter(f"{SVG}polyline"))
    assert len(lines) == 1 and len(lines[0].get("points", "").split()) == 2  # c-d; a alone


def test_heat_map_cells_print_their_share_and_blanks_stay_blank() -> None:
    svg = ET.fromstring(
        str(
            charts.heat_map(
                title="t", x_label="x", y_label="y", rows=["2026-01", "2026-02"],
                columns=["1", "2"], values=[[0.3, 0.1], [0.2, None]], row_notes=["120", "80"],
            )
        )
    )  # fmt: skip
    printed = texts(svg)
    assert {"30 %", "10 %", "20 %", "2026-01 (120)"} <= set(printed)
    assert len([t for t in printed if t.endswith("%")]) == 3


def test_empty_charts_say_so() -> None:
    assert "No data" in charts.line_chart(title="t", x_label="x", y_label="y", labels=[], series={})
    assert "No cohorts" in charts.heat_map(title="t", x_label="x", y_label="y", rows=[],
                                           columns=[], values=[])  # fmt: skip
    assert "Nothing" in charts.bars(title="t", x_label="x", labels=["a"], values=[None])
    assert "No customers" in charts.funnel(title="t", steps=[("a", 0, "")])


def test_promise_kept_rate_by_member_adds_up_to_the_service_rate(
    web: TestClient, shop: World
) -> None:
    from datetime import UTC, datetime

    from keepwell.promises.service import kept_rate, kept_rate_by_member
    from keepwell.reports.pages import promises_by_member

    today = clock.today()
    with db.transaction(shop.engine) as session:
        report = service.build(session, "promises", service.Options(day=today, months=12))
        rows = promises_by_member(report)
        first = report.rows[0][0]
        start = datetime(int(first[:4]), int(first[5:7]), 1, tzinfo=UTC)
        end = datetime(today.year + today.month // 12, today.month % 12 + 1, 1, tzinfo=UTC)
        team = kept_rate(session, start=start, end=end)
        members = {m.email or "(nobody)": m.kept for m in kept_rate_by_member(session, start, end)}
    assert rows[0][0] == "(team)" and rows[0][1] == team.due > 0
    assert rows[0][6] == round(team.rate or 0, 4)
    for who, due, on_time, *_rest, rate in rows[1:]:
        assert (due, on_time) == (members[who].due, members[who].kept_on_time), who
        assert rate == (round(members[who].rate, 4) if members[who].rate is not None else None)
    page = web.get("/dashboards")
    drawn = next(s for s in svgs(page.text) if "Promises kept" in "".join(s.itertext()))
    assert f"{100 * rows[0][6]:.0f} % ({rows[0][2]:,} of {rows[0][1]:,})" in texts(drawn)
