"""The dashboards (`/dashboards`): retention and churn, the cohort heat map, the
hourglass funnel, promise-kept rate by member, at-risk customers by value and the NPS
trend — the numbers of `keepwell report NAME` (`service.build`), drawn as SVG on the
server (keepwell/web/charts.py) with a table of the same numbers under each chart.

Reports read every order of the desk, which takes seconds on a million customers, so a
built report is kept for CACHE_SECONDS per desk, day and window: the page says when its
figures were computed, and `?fresh=1` recomputes them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any

from fastapi import Query, Request, Response
from markupsafe import Markup
from sqlalchemy.orm import Session

from keepwell import clock
from keepwell.errors import NotFound
from keepwell.reports import service
from keepwell.web import charts
from keepwell.web.deps import DbSession
from keepwell.web.pages import PageActor, page_router, render

pages = page_router()

CACHE_SECONDS = 600
AT_RISK_SHOWN = 10


@dataclass
class Panel:
    """One dashboard section: a chart, the numbers under it, or why there are none."""

    key: str
    title: str
    chart: Markup | None = None
    columns: list[str] = field(default_factory=list)
    rows: list[list[Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    missing: str = ""


# --- the cache ---------------------------------------------------------------------


Built = service.Report | NotFound
_create = threading.Lock()


class ReportCache:
    """Built reports of one app (one desk), by name, day and window, for CACHE_SECONDS."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.built: dict[tuple[str, str, int], tuple[float, datetime, Built]] = {}

    @classmethod
    def of(cls, request: Request) -> ReportCache:
        state = request.app.state
        with _create:
            if not hasattr(state, "report_cache"):
                state.report_cache = cls()
        found: ReportCache = state.report_cache
        return found

    def get(
        self, session: Session, name: str, options: service.Options, fresh: bool
    ) -> tuple[Built, datetime]:
        """The report, from the cache when built less than CACHE_SECONDS ago."""
        key = (name, options.day.isoformat(), options.months)
        now = time.monotonic()
        with self.lock:
            hit = self.built.get(key)
        if hit is not None and not fresh and now - hit[0] < CACHE_SECONDS:
            return hit[2], hit[1]
        built: Built
        try:
            with session.begin_nested():
                built = service.build(session, name, options)
        except NotFound as exc:  # no scores yet: the page says so
            built = exc
        made = clock.now()
        with self.lock:
            self.built[key] = (now, made, built)
        return built, made


# --- the panels: report rows → chart arguments ---------------------------------------


def _records(report: service.Report) -> list[dict[str, Any]]:
    return [dict(zip(report.columns, row, strict=True)) for row in report.rows]


def _retention(report: service.Report) -> Markup:
    rows = _records(report)
    return charts.line_chart(
        title="Retention and churn by month",
        x_label="month",
        y_label="share of last month's buyers",
        labels=[r["month"] for r in rows],
        series={
            "retained": [r["retention"] for r in rows],
            "churned": [r["churn"] for r in rows],
        },
        percent=True,
    )


def _cohorts(report: service.Report) -> Markup:
    rows = report.rows
    width = len(report.columns) - 3  # cohort, customers, m0 | m1 …
    return charts.heat_map(
        title="Cohorts: share buying again, by month of the first purchase",
        x_label="months after the first purchase",
        y_label="cohort (customers)",
        rows=[r[0] for r in rows],
        row_notes=[f"{r[1]:,}" for r in rows],
        columns=[str(k) for k in range(1, width + 1)],
        values=[r[3:] for r in rows],
    )


def _funnel(report: service.Report) -> Markup:
    steps = []
    for r in _records(report):
        drop = ""
        if r["lost_after"]:
            drop = f"{r['lost_after']:,} went no further"
            if r["conversion_to_next"] is not None:
                drop += f" ({100 * (1 - r['conversion_to_next']):.0f} % drop-off)"
        steps.append((str(r["step"]), int(r["reached"]), drop))
    return charts.funnel(title="The hourglass: how far customers got", steps=steps)


PROMISE_COLUMNS = [
    "member",
    "due",
    "kept_on_time",
    "kept_late",
    "broken",
    "still_open",
    "kept_rate",
]


def promises_by_member(report: service.Report) -> list[list[Any]]:
    """The report's months added up per member (the team first): due, kept on time, late,
    broken, still open, and kept on time / due — the rate `keepwell promise rate` gives
    for the whole window, since the months split it."""
    totals: dict[str, list[int]] = {}
    for r in _records(report):
        t = totals.setdefault(r["member"], [0, 0, 0, 0, 0])
        for i, key in enumerate(("due", "kept_on_time", "kept_late", "broken", "still_open")):
            t[i] += int(r[key])
    order = sorted(totals, key=lambda m: (m != "(team)", -totals[m][0], m))
    return [
        [m, *totals[m], round(totals[m][1] / totals[m][0], 4) if totals[m][0] else None]
        for m in order
    ]


def _promises(report: service.Report) -> Markup:
    rows = promises_by_member(report)
    return charts.bars(
        title="Promises kept on time, by member",
        x_label="share of the promises due that were kept by their due date",
        labels=[r[0] for r in rows],
        values=[r[6] for r in rows],
        annotations=[
            "nothing due" if r[6] is None else f"{100 * r[6]:.0f} % ({r[2]:,} of {r[1]:,})"
            for r in rows
        ],
        percent=True,
    )


def _at_risk(report: service.Report) -> Markup:
    rows = _records(report)[:AT_RISK_SHOWN]
    return charts.bars(
        title="At-risk customers by value at stake (90 days)",
        x_label="expected value lost in the next 90 days",
        labels=[str(r["customer"]) for r in rows],
        values=[r["risk_minor"] / 100 for r in rows],
        annotations=[f"{r['risk_minor'] / 100:,.2f}" for r in rows],
        colour=charts.PALETTE[1],
    )


def _nps(report: service.Report) -> Markup:
    rows = _records(report)
    return charts.line_chart(
        title="Net Promoter Score by month",
        x_label="month answered",
        y_label="NPS (% promoters − % detractors)",
        labels=[r["month"] for r in rows],
        series={"NPS": [r["nps"] for r in rows]},
    )


SHARES = frozenset(
    {"retention", "churn", "repeat_rate", "share_of_first", "conversion_to_next", "kept_rate",
     "csat_satisfied", "share", "p_alive"}
)  # fmt: skip


def cell(column: str, value: Any) -> str:
    """A table cell of a report: shares as percentages, money (…_minor) in units."""
    if value is None:
        return "—"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if column in SHARES or (column[:1] == "m" and column[1:].isdigit()):
        return f"{100 * value:.1f} %"
    if column.endswith("_minor"):
        return f"{value / 100:,.2f}"
    return f"{value:,}"


PANELS: tuple[tuple[str, str, Callable[[service.Report], Markup]], ...] = (
    ("retention", "Retention and churn", _retention),
    ("cohorts", "Cohorts", _cohorts),
    ("funnel", "The hourglass funnel", _funnel),
    ("promises", "Promise-kept rate by member", _promises),
    ("at_risk", "At-risk customers by value", _at_risk),
    ("nps", "NPS trend", _nps),  # keepwell/feedback/report.py
)


@pages.get("/dashboards")
def dashboards(
    request: Request,
    session: DbSession,
    actor: PageActor,
    months: Annotated[int, Query(ge=1, le=36)] = 12,
    fresh: Annotated[bool, Query()] = False,
) -> Response:
    options = service.Options(day=clock.today(), months=months, top=AT_RISK_SHOWN)
    cache = ReportCache.of(request)
    panels, oldest = [], None
    for name, title, draw in PANELS:
        if name not in service.NAMES:  # a report not there yet leaves its place empty
            continue
        report, made = cache.get(session, name, options, fresh)
        oldest = made if oldest is None else min(oldest, made)
        if isinstance(report, NotFound):
            panels.append(Panel(name, title, missing=str(report)))
            continue
        columns, table = report.columns, report.rows
        if name == "promises":
            columns, table = PROMISE_COLUMNS, promises_by_member(report)
        panels.append(
            Panel(name, title, chart=draw(report), columns=columns, rows=table,
                  notes=report.notes[:3])
        )  # fmt: skip
    return render(
        request,
        "dashboards.html",
        {
            "section": "dashboards",
            "title": "Dashboards",
            "panels": panels,
            "months": months,
            "computed_at": oldest,
            "cache_minutes": CACHE_SECONDS // 60,
            "cell": cell,
        },
    )
