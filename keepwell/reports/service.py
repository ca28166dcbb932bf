"""The retention reports: each one query (or a service's measure) → a table and a chart.

A `Report` is built once and shown three ways — a table, JSON or CSV — plus a chart
(`keepwell report NAME --chart FILE`). The numbers come from the orders, the latest
scores (`keepwell score`), and the promises and cases services.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import Session

from keepwell.analytics import charts
from keepwell.analytics.cohorts import Activity, cohorts, month_label, retention
from keepwell.analytics.funnel import funnel
from keepwell.analytics.lifecycle import RULES
from keepwell.analytics.rfm import SEGMENTS
from keepwell.customers.models import Customer
from keepwell.db import sqlite_timestamp, table_of
from keepwell.errors import InvalidInput, NotFound
from keepwell.feedback.report import loops_report, nps_report
from keepwell.orders.models import Order
from keepwell.reports.model import Options as Options
from keepwell.reports.model import Report as Report
from keepwell.scoring.models import Score
from keepwell.scoring.summary_sql import fetch_rows

NAMES = (
    "retention", "cohorts", "rfm", "clv", "funnel", "at_risk", "promises", "cases", "nps", "loops",
)  # fmt: skip


def build(session: Session, name: str, options: Options) -> Report:
    if name not in NAMES:
        raise InvalidInput("report", f"unknown report {name!r}: one of {', '.join(NAMES)}")
    if options.months < 1:
        raise InvalidInput("months", "must be at least 1")
    return BUILDERS[name](session, options)


# --- helpers --------------------------------------------------------------------------


def _period(day: dt.date) -> int:
    return day.year * 12 + day.month - 1


def _period_start(period: int) -> dt.datetime:
    return dt.datetime(period // 12, period % 12 + 1, 1, tzinfo=dt.UTC)


def _pct(value: float | None) -> str:
    return "" if value is None else f"{100 * value:.1f} %"


def _monthly_activity(session: Session, day: dt.date) -> Activity:
    """(customer, month, value) for every month a customer bought in, up to `day`."""
    conn = session.connection()
    orders = table_of(Order)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), dt.UTC)
    if conn.dialect.name == "sqlite":
        text = orders.c.ordered_at
        year = sa.cast(sa.func.substr(text, 1, 4), sa.Integer)
        month = sa.cast(sa.func.substr(text, 6, 2), sa.Integer)
        before: Any = sa.literal_column("+orders.ordered_at") < sqlite_timestamp(end)
    else:
        utc = sa.func.timezone("UTC", orders.c.ordered_at)
        year = sa.cast(sa.extract("year", utc), sa.Integer)
        month = sa.cast(sa.extract("month", utc), sa.Integer)
        before = orders.c.ordered_at < end
    period = (year * 12 + month - 1).label("period")
    rows = fetch_rows(
        conn,
        sa.select(orders.c.customer_id, period, sa.func.sum(orders.c.amount_minor))
        .where(before)
        .group_by(orders.c.customer_id, period),
    )
    table = np.array(rows, dtype=np.float64).reshape(len(rows), 3)
    return Activity.of(table[:, 0].astype(np.int64), table[:, 1].astype(np.int64), table[:, 2])


def _scoring_date(session: Session, day: dt.date) -> dt.date:
    """The latest scoring date on or before `day`."""
    found = session.scalar(sa.select(sa.func.max(Score.scored_on)).where(Score.scored_on <= day))
    if found is None:
        raise NotFound("no scores yet: run `keepwell score` first")
    return found


# --- retention and cohorts ------------------------------------------------------------


def _retention(session: Session, o: Options) -> Report:
    last = _period(o.day)
    first = last - o.months + 1
    r = retention(_monthly_activity(session, o.day), first, last)
    rows = [
        [
            month_label(p), a, n, ret, _rate(rate), _rate(None if rate is None else 1 - rate),
            _rate(rep),
        ]
        for p, a, n, ret, rate, rep in zip(
            r.periods, r.active, r.new, r.retained, r.retention, r.repeat_rate, strict=True
        )
    ]  # fmt: skip
    labels = [month_label(p) for p in r.periods]

    def draw(path: Path) -> Path:
        return charts.lines(
            path,
            title="Retention by month",
            xlabel="month",
            ylabel="share of customers",
            labels=labels,
            series={
                "retained from the month before": r.retention,
                "buyers who had bought before (repeat rate)": r.repeat_rate,
            },
            percent=True,
        )

    return Report(
        name="retention",
        title=f"Retention by month, {labels[0]} to {labels[-1]}" if labels else "Retention",
        columns=["month", "active", "new", "retained", "retention", "churn", "repeat_rate"],
        rows=rows,
        notes=[
            "active: customers who bought in the month; retained: of them, those who also "
            "bought the month before; retention = retained / active the month before; "
            "churn = 1 - retention; repeat_rate: share of the month's buyers who had bought "
            "before.",
            f"Customers who ever bought in two or more months: "
            f"{_pct(r.overall_repeat_rate) or 'none'}.",
        ],
        extra={"overall_repeat_rate": r.overall_repeat_rate},
        draw=draw,
    )


def _rate(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _cohorts(session: Session, o: Options) -> Report:
    last = _period(o.day)
    c = cohorts(_monthly_activity(session, o.day), last, horizon=o.months)
    keep = [i for i, p in enumerate(c.cohorts) if p > last - o.months]
    labels = [month_label(c.cohorts[i]) for i in keep]
    sizes = [c.sizes[i] for i in keep]
    share = [c.share[i] for i in keep]
    revenue = [[None if v is None else round(v) for v in c.revenue[i]] for i in keep]
    width = c.horizon
    columns = ["cohort", "customers"] + [f"m{k}" for k in range(width)]
    rows = [
        [label, size, *(_rate(v) for v in values)]
        for label, size, values in zip(labels, sizes, share, strict=True)
    ]

    def draw(path: Path) -> Path:
        return charts.heat_map(
            path,
            title="Customers buying again, by month of first purchase (%)",
            xlabel="months since the first purchase",
            ylabel="cohort: month of first purchase (customers)",
            rows=labels,
            columns=[str(k) for k in range(1, width)],
            values=[row[1:] for row in share],
            row_notes=[f"{n:,}" for n in sizes],
        )

    return Report(
        name="cohorts",
        title="Acquisition cohorts: share of customers buying in each month after their first",
        columns=columns,
        rows=rows,
        notes=[
            "m0 is the month of the first purchase (100 %); mK the share of the cohort who "
            "bought K months later. Revenue per cell (minor units) is in the JSON output.",
        ],
        extra={"revenue_minor": dict(zip(labels, revenue, strict=True))},
        draw=draw,
    )


# --- scores: rfm, clv, funnel -----------------------------------------------------------


def _rfm(session: Session, o: Options) -> Report:
    day = _scoring_date(session, o.day)
    rows_ = session.execute(
        sa.select(
            Score.rfm_segment,
            sa.func.count(),
            sa.func.avg(Score.rfm_r),
            sa.func.avg(Score.rfm_f),
            sa.func.avg(Score.rfm_m),
            sa.func.avg(Score.health),
            sa.func.sum(Score.clv_minor),
        )
        .where(Score.scored_on == day, Score.rfm_segment.is_not(None))
        .group_by(Score.rfm_segment)
    ).all()
    found = {r[0]: r for r in rows_}
    total = sum(r[1] for r in rows_) or 1
    order = [s for s in SEGMENTS if s in found]
    rows = [
        [
            SEGMENTS[s][0], found[s][1], _rate(found[s][1] / total), round(float(found[s][2]), 2),
            round(float(found[s][3]), 2), round(float(found[s][4]), 2),
            round(float(found[s][5]), 1), int(found[s][6] or 0), SEGMENTS[s][1],
        ]
        for s in order
    ]  # fmt: skip

    def draw(path: Path) -> Path:
        return charts.horizontal_bars(
            path,
            title=f"RFM segments on {day}",
            xlabel="customers",
            labels=[r[0] for r in rows],
            values=[r[1] for r in rows],
            annotations=[f"{r[1]:,} ({100 * r[2]:.0f} %)" for r in rows],
        )

    return Report(
        name="rfm",
        title=f"RFM segments on {day}",
        columns=[
            "segment",
            "customers",
            "share",
            "mean_r",
            "mean_f",
            "mean_m",
            "mean_health",
            "clv_minor",
            "meaning",
        ],
        rows=rows,
        notes=["R, F and M are quintile scores 1-5 (5 best); see docs/scores.md."],
        extra={"scored_on": day.isoformat()},
        draw=draw,
    )


def _clv(session: Session, o: Options) -> Report:
    day = _scoring_date(session, o.day)
    values = np.array(
        session.scalars(
            sa.select(Score.clv_minor).where(Score.scored_on == day, Score.clv_minor.is_not(None))
        ).all(),
        dtype=np.float64,
    )
    top = session.execute(
        sa.select(Customer.id, Customer.name, Customer.external_id, Score)
        .join(Score, Score.customer_id == Customer.id)
        .where(Score.scored_on == day, Score.clv_minor.is_not(None))
        .order_by(Score.clv_minor.desc(), Customer.id)
        .limit(o.top)
    ).all()
    rows = [
        [
            cid, name or ext or f"#{cid}", s.clv_minor, s.p_alive and round(s.p_alive, 4),
            s.stage, s.explanation,
        ]
        for cid, name, ext, s in top
    ]  # fmt: skip
    quantiles = {}
    if values.size:
        for q in (10, 25, 50, 75, 90, 99):
            quantiles[f"p{q}"] = round(float(np.percentile(values, q)))

    def draw(path: Path) -> Path:
        shown = values / 100.0
        cap = float(np.percentile(shown, 99)) if shown.size else 0.0
        return charts.histogram(
            path,
            title=f"12-month customer lifetime value on {day} (up to the 99th percentile)",
            xlabel="expected value of the next 12 months, discounted",
            values=shown[shown <= cap].tolist(),
        )

    return Report(
        name="clv",
        title=f"Customer lifetime value (12 months, discounted) on {day}: top {len(rows)}",
        columns=["customer_id", "customer", "clv_minor", "p_alive", "stage", "why"],
        rows=rows,
        notes=[
            f"{values.size:,} customers with a value; total {values.sum() / 100:,.2f}; "
            + ", ".join(f"{k} {v / 100:,.2f}" for k, v in quantiles.items())
        ],
        extra={
            "scored_on": day.isoformat(),
            "customers": int(values.size),
            "total_minor": round(float(values.sum())),
            "quantiles_minor": quantiles,
        },
        draw=draw,
    )


def _funnel(session: Session, o: Options) -> Report:
    from keepwell.scoring.summary_sql import order_summary

    day = _scoring_date(session, o.day)
    stages = dict(
        session.execute(
            sa.select(Score.customer_id, Score.stage).where(Score.scored_on == day)
        ).all()
    )
    s = order_summary(session.connection(), day).summary
    days = np.zeros(len(stages), dtype=np.int64)
    ids = np.array(sorted(stages), dtype=np.int64)
    at = np.searchsorted(ids, s.customer_ids)
    inside = (at < ids.shape[0]) & (ids[np.minimum(at, max(ids.shape[0] - 1, 0))] == s.customer_ids)
    days[at[inside]] = s.frequency[inside] + 1
    stage = np.array([stages[i] for i in ids.tolist()], dtype="<U20")
    steps = funnel(days, stage)
    counts = {k: int((stage == k).sum()) for k in RULES}
    rows = [
        [
            st.name, st.reached, _rate(st.share_of_first), st.lost_after,
            _rate(st.conversion_to_next), st.now_at_risk, st.now_lapsed,
        ]
        for st in steps
    ]  # fmt: skip

    def draw(path: Path) -> Path:
        return charts.horizontal_bars(
            path,
            title=f"The hourglass on {day}: how far customers got",
            xlabel="customers",
            labels=[st.name for st in steps],
            values=[st.reached for st in steps],
            annotations=[
                f"{st.reached:,}"
                + (f" ({100 * st.share_of_first:.0f} %)" if st.share_of_first else "")
                + (f"\n{st.lost_after:,} went no further" if st.lost_after else "")
                for st in steps
            ],
        )

    return Report(
        name="funnel",
        title=f"Hourglass funnel on {day}",
        columns=[
            "step",
            "reached",
            "share_of_first",
            "lost_after",
            "conversion_to_next",
            "now_at_risk",
            "now_lapsed",
        ],
        rows=rows,
        notes=[
            "Stages now: " + ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in counts.items()),
            "Advocates need survey answers or referrals, which Keepwell does not record yet.",
        ],
        extra={"scored_on": day.isoformat(), "stages": counts},
        draw=draw,
    )


AT_RISK_COLUMNS = [
    "customer_id", "customer", "owner_id", "risk_minor", "clv_minor", "p_alive", "health", "why",
]  # fmt: skip


def _at_risk(session: Session, o: Options) -> Report:
    """Customers at risk at the latest scoring, the most value at stake first."""
    day = _scoring_date(session, o.day)
    at_risk = (Score.scored_on == day, Score.stage == "at_risk")
    total, stake = session.execute(
        sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(Score.risk_minor), 0)).where(
            *at_risk
        )
    ).one()
    top = session.execute(
        sa.select(Customer.id, Customer.name, Customer.external_id, Customer.owner_id, Score)
        .join(Score, Score.customer_id == Customer.id)
        .where(*at_risk)
        .order_by(Score.risk_minor.desc(), Customer.id)
        .limit(o.top)
    ).all()
    rows: list[list[Any]] = [
        [
            cid, name or ext or f"#{cid}", owner, s.risk_minor, s.clv_minor,
            s.p_alive and round(s.p_alive, 4), s.health, s.explanation,
        ]
        for cid, name, ext, owner, s in top
    ]  # fmt: skip

    def draw(path: Path) -> Path:
        return charts.horizontal_bars(
            path,
            title=f"At-risk customers by value at stake on {day}",
            xlabel="expected value lost in the next 90 days",
            labels=[str(r[1]) for r in rows] or ["(none)"],
            values=[r[3] / 100 for r in rows] or [0],
            annotations=[f"{r[3] / 100:,.2f}" for r in rows],
        )

    return Report(
        name="at_risk",
        title=f"At-risk customers on {day}: the {len(rows)} with the most value at stake",
        columns=AT_RISK_COLUMNS,
        rows=rows,
        notes=[
            f"{int(total):,} customers at risk, {int(stake) / 100:,.2f} of expected value at "
            "stake in the next 90 days (their usual pace against the model's expectation)."
        ],
        extra={"scored_on": day.isoformat(), "customers": int(total), "risk_minor": int(stake)},
        draw=draw,
    )


# --- the desk: promises and cases -----------------------------------------------------------


def _months(o: Options) -> list[int]:
    last = _period(o.day)
    return list(range(last - o.months + 1, last + 1))


def _promises(session: Session, o: Options) -> Report:
    from keepwell.promises.service import kept_rate, kept_rate_by_member

    rows: list[list[Any]] = []
    by_member: dict[str, list[float | None]] = {}
    team: list[float | None] = []
    months = _months(o)
    for i, p in enumerate(months):
        start, end = _period_start(p), _period_start(p + 1)
        label = month_label(p)
        whole = kept_rate(session, start=start, end=end)
        team.append(whole.rate)
        for member in kept_rate_by_member(session, start, end):
            who = member.email or "(nobody)"
            k = member.kept
            rows.append(
                [label, who, k.due, k.kept_on_time, k.kept_late, k.broken, k.still_open,
                 k.slips, _rate(k.rate)]
            )  # fmt: skip
            by_member.setdefault(who, [None] * len(months))[i] = k.rate
        rows.append(
            [label, "(team)", whole.due, whole.kept_on_time, whole.kept_late, whole.broken,
             whole.still_open, whole.slips, _rate(whole.rate)]
        )  # fmt: skip
    labels = [month_label(p) for p in months]

    def draw(path: Path) -> Path:
        series = {"team": team, **dict(sorted(by_member.items())[:5])}
        return charts.lines(
            path,
            title="Promises kept on time, by month",
            xlabel="month (by the due date in force)",
            ylabel="kept on time",
            labels=labels,
            series=series,
            percent=True,
        )

    return Report(
        name="promises",
        title=f"Promises kept on time by member and month, {labels[0]} to {labels[-1]}",
        columns=[
            "month",
            "member",
            "due",
            "kept_on_time",
            "kept_late",
            "broken",
            "still_open",
            "slips",
            "kept_rate",
        ],
        rows=rows,
        notes=["Kept on time: kept by the due date in force; see docs/promises.md."],
        draw=draw,
    )


def _cases(session: Session, o: Options) -> Report:
    from keepwell.cases.service import case_metrics

    months = _months(o)
    rows = []
    for p in months:
        m = case_metrics(session, start=_period_start(p), end=_period_start(p + 1))
        rows.append(
            [
                month_label(p), m.opened, _hours(m.median_hours_to_first_response),
                _hours(m.mean_hours_to_first_response), m.resolved,
                _hours(m.median_hours_to_resolution), _hours(m.mean_hours_to_resolution),
                m.reopened,
            ]
        )  # fmt: skip
    whole = case_metrics(session, start=_period_start(months[0]), end=_period_start(months[-1] + 1))
    causes = whole.root_causes

    def draw(path: Path) -> Path:
        return charts.horizontal_bars(
            path,
            title=f"Root causes of resolved cases, {month_label(months[0])} to "
            f"{month_label(months[-1])}",
            xlabel="cases resolved",
            labels=[c for c, _ in causes] or ["(none)"],
            values=[n for _, n in causes] or [0],
            annotations=[f"{n:,}" for _, n in causes],
        )

    return Report(
        name="cases",
        title="Cases: time to first response and to resolution, by month",
        columns=[
            "month",
            "opened",
            "median_hours_to_first_response",
            "mean_hours_to_first_response",
            "resolved",
            "median_hours_to_resolution",
            "mean_hours_to_resolution",
            "reopened",
        ],
        rows=rows,
        notes=[
            "Root causes, most frequent first: "
            + (", ".join(f"{c} {n}" for c, n in causes) or "none")
        ],
        extra={"root_causes": [{"category": c, "cases": n} for c, n in causes]},
        draw=draw,
    )


def _hours(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


# --- every report by name ---------------------------------------------------------------

BUILDERS: dict[str, Callable[[Session, Options], Report]] = {
    "retention": _retention,
    "cohorts": _cohorts,
    "rfm": _rfm,
    "clv": _clv,
    "funnel": _funnel,
    "at_risk": _at_risk,
    "promises": _promises,
    "cases": _cases,
    "nps": nps_report,  # keepwell/feedback/report.py
    "loops": loops_report,
}
assert tuple(BUILDERS) == NAMES
