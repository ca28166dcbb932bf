"""`keepwell report nps` and `keepwell report loops`: the feedback figures as reports.

The figures are computed by keepwell/analytics/nps.py from the answers of the months
asked for; this module fetches those answers and lays the figures out as a Report
(table, JSON, CSV and a chart) for keepwell/reports/service.py.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from keepwell.accounts.models import TeamMember
from keepwell.analytics import charts
from keepwell.analytics.cohorts import month_label
from keepwell.analytics.nps import (
    DETRACTOR_MAX,
    LOW_CSAT_MAX,
    csat,
    csat_by,
    median,
    nps,
    nps_by,
)
from keepwell.customers.models import Customer
from keepwell.feedback.models import Feedback
from keepwell.reports.model import Options, Report

VERBATIMS = 10
NOBODY = "(no owner)"
NO_SEGMENT = "(no segment)"


@dataclass(frozen=True)
class Answer:
    month: int  # year * 12 + month - 1
    kind: str
    score: int | None
    answered_at: dt.datetime
    told_at: dt.datetime | None
    customer_id: int
    customer: str
    segment: str
    owner: str
    verbatim: str


def _period(day: dt.date) -> int:
    return day.year * 12 + day.month - 1


def _start(period: int) -> dt.datetime:
    return dt.datetime(period // 12, period % 12 + 1, 1, tzinfo=dt.UTC)


def answers(session: Session, start: dt.datetime, end: dt.datetime) -> list[Answer]:
    """Every piece of feedback answered in [start, end), with its customer's segment and
    owner as they are now."""
    query = (
        sa.select(
            Feedback.kind,
            Feedback.score,
            Feedback.answered_at,
            Feedback.told_at,
            Feedback.customer_id,
            Customer.name,
            Customer.segment,
            TeamMember.email,
            Feedback.verbatim,
        )
        .join(Customer, Customer.id == Feedback.customer_id)
        .outerjoin(TeamMember, TeamMember.id == Customer.owner_id)
        .where(Feedback.answered_at >= start, Feedback.answered_at < end)
        .order_by(Feedback.answered_at, Feedback.id)
    )
    return [
        Answer(
            _period(at.date()), kind, score, at, told, cid, name or f"#{cid}",
            segment or NO_SEGMENT, owner or NOBODY, verbatim,
        )
        for kind, score, at, told, cid, name, segment, owner, verbatim in session.execute(query)
    ]  # fmt: skip


def _window(o: Options) -> tuple[list[int], dt.datetime, dt.datetime]:
    last = _period(o.day)
    months = list(range(last - o.months + 1, last + 1))
    end = dt.datetime.combine(o.day + dt.timedelta(days=1), dt.time(), dt.UTC)
    return months, _start(months[0]), end


def _round(value: float | None, places: int = 1) -> float | None:
    return None if value is None else round(value, places)


def nps_report(session: Session, o: Options) -> Report:
    """NPS and CSAT by month; NPS by segment and by owner; the latest verbatims."""
    months, start, end = _window(o)
    found = answers(session, start, end)
    scored = [a for a in found if a.kind == "nps" and a.score is not None]
    rated = [a for a in found if a.kind == "csat" and a.score is not None]
    by_month = nps_by([a.month for a in scored], _scores(scored))
    csat_month = csat_by([a.month for a in rated], _scores(rated))
    empty_nps, empty_csat = nps([]), csat([])
    rows: list[list[Any]] = []
    for p in months:
        n = by_month.get(p, empty_nps)
        c = csat_month.get(p, empty_csat)
        rows.append(
            [month_label(p), n.responses, n.promoters, n.passives, n.detractors, _round(n.nps),
             c.responses, _round(c.mean, 2), _round(c.satisfied_share, 4)]
        )  # fmt: skip
    whole = nps(_scores(scored))
    whole_csat = csat(_scores(rated))

    def groups(key: str) -> list[dict[str, Any]]:
        figures = nps_by([getattr(a, key) for a in scored], _scores(scored))
        csats = csat_by([getattr(a, key) for a in rated], _scores(rated))
        result = []
        for name in sorted(set(figures) | set(csats)):
            f, c = figures.get(name, empty_nps), csats.get(name, empty_csat)
            result.append(
                {key: name, "responses": f.responses, "promoters": f.promoters,
                 "passives": f.passives, "detractors": f.detractors, "nps": _round(f.nps),
                 "csat_responses": c.responses, "csat_mean": _round(c.mean, 2)}
            )  # fmt: skip
        return result

    by_segment, by_owner = groups("segment"), groups("owner")
    verbatims: list[dict[str, Any]] = [
        {"answered_at": a.answered_at.isoformat(), "customer_id": a.customer_id,
         "customer": a.customer, "kind": a.kind, "score": a.score, "verbatim": a.verbatim}
        for a in reversed(found) if a.verbatim and a.kind in ("nps", "csat")
    ][:VERBATIMS]  # fmt: skip
    labels = [month_label(p) for p in months]
    trend = [by_month.get(p, empty_nps).nps for p in months]

    def draw(path: Path) -> Path:
        return charts.lines(
            path,
            title="Net Promoter Score by month",
            xlabel="month answered",
            ylabel="NPS (% promoters - % detractors)",
            labels=labels,
            series={"NPS": trend},
        )

    def line(items: list[dict[str, Any]], key: str) -> str:
        shown = [
            f"{i[key]} {_signed(i['nps'])} ({i['responses']})" for i in items if i["responses"]
        ]
        return ", ".join(shown) or "no answers"

    notes = [
        f"{labels[0]} to {labels[-1]}: NPS {_signed(whole.nps)} from {whole.responses:,} "
        f"answers ({whole.promoters:,} promoters, {whole.passives:,} passives, "
        f"{whole.detractors:,} detractors); CSAT mean "
        f"{'–' if whole_csat.mean is None else f'{whole_csat.mean:.2f}'} of 5 from "
        f"{whole_csat.responses:,} answers.",
        "NPS = % promoters (9-10) - % detractors (0-6), from -100 to +100; satisfied: CSAT 4 or 5.",
        "By segment: " + line(by_segment, "segment"),
        "By owner: " + line(by_owner, "owner"),
    ]
    notes += [
        f"{v['answered_at'][:10]} {v['customer']} ({v['kind'].upper()} {v['score']}): "
        f"“{v['verbatim']}”"
        for v in verbatims
    ]
    return Report(
        name="nps",
        title=f"NPS and CSAT by month, {labels[0]} to {labels[-1]}",
        columns=[
            "month",
            "nps_responses",
            "promoters",
            "passives",
            "detractors",
            "nps",
            "csat_responses",
            "csat_mean",
            "csat_satisfied",
        ],
        rows=rows,
        notes=notes,
        extra={
            "nps": _round(whole.nps),
            "csat_mean": _round(whole_csat.mean, 2),
            "by_segment": by_segment,
            "by_owner": by_owner,
            "verbatims": verbatims,
        },
        draw=draw,
    )


def loops_report(session: Session, o: Options) -> Report:
    """By month answered: how much feedback had its loop closed, and how fast."""
    months, start, end = _window(o)
    found = answers(session, start, end)
    negative = {id(a) for a in found if _negative(a)}
    rows: list[list[Any]] = []
    share: list[float | None] = []
    share_negative: list[float | None] = []

    def figures(items: list[Answer]) -> tuple[int, int, int, int, float | None, float | None]:
        closed = [a for a in items if a.told_at is not None]
        bad = [a for a in items if id(a) in negative]
        bad_closed = [a for a in bad if a.told_at is not None]
        days = [(a.told_at - a.answered_at).total_seconds() / 86400 for a in closed if a.told_at]
        return (len(items), len(closed), len(bad), len(bad_closed), median(days),
                len(closed) / len(items) if items else None)  # fmt: skip

    for p in months:
        n, closed, bad, bad_closed, days, rate = figures([a for a in found if a.month == p])
        rows.append([month_label(p), n, closed, _round(rate, 4), bad, bad_closed,
                     _round(bad_closed / bad if bad else None, 4), _round(days)])  # fmt: skip
        share.append(rate)
        share_negative.append(bad_closed / bad if bad else None)
    n, closed, bad, bad_closed, days, rate = figures(found)
    rows.append(["all", n, closed, _round(rate, 4), bad, bad_closed,
                 _round(bad_closed / bad if bad else None, 4), _round(days)])  # fmt: skip
    labels = [month_label(p) for p in months]

    def draw(path: Path) -> Path:
        return charts.lines(
            path,
            title="Feedback loops closed (the customer was told what we did)",
            xlabel="month answered",
            ylabel="loops closed",
            labels=labels,
            series={"all feedback": share, "detractors and low CSAT": share_negative},
            percent=True,
        )

    return Report(
        name="loops",
        title=f"Closing the loop, {labels[0]} to {labels[-1]}",
        columns=[
            "month",
            "feedback",
            "closed",
            "closed_share",
            "negative",
            "negative_closed",
            "negative_closed_share",
            "median_days_to_close",
        ],
        rows=rows,
        notes=[
            "A loop is closed when the customer was told what we did about their feedback; "
            "negative: NPS 0-6 or CSAT 1-2. Days to close: from the answer to the telling, "
            "for the loops closed so far (recent months are still closing).",
            f"In all: {_pct(rate)} closed, {_pct(bad_closed / bad if bad else None)} of the "
            f"negative; median {'–' if days is None else f'{days:.1f}'} days to close.",
        ],
        extra={"closed_share": _round(rate, 4), "median_days_to_close": _round(days)},
        draw=draw,
    )


def _scores(items: list[Answer]) -> list[int]:
    return [a.score for a in items if a.score is not None]


def _negative(a: Answer) -> bool:
    if a.score is None:
        return False
    return (a.kind == "nps" and a.score <= DETRACTOR_MAX) or (
        a.kind == "csat" and a.score <= LOW_CSAT_MAX
    )


def _signed(value: float | None) -> str:
    return "–" if value is None else f"{value:+.0f}"


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.0f} %"
