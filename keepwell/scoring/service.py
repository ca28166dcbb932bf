"""`keepwell score`: the order history and the desk's records → scores per customer.

One run, in one transaction: the per-customer summary (one SQL statement) → the
purchase model (BG/NBD or Pareto/NBD, the other one when the chosen one cannot be
fitted) and Gamma-Gamma, fitted or pinned (keepwell/scoring/fitted.py) → predictions
→ RFM, health and lifecycle stage → the day's rows of `scores`, replaced in bulk.
What each figure means is in docs/scores.md.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sqlalchemy as sa
from numpy.typing import NDArray
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from keepwell import db
from keepwell.analytics.health import HealthWeights, health_score
from keepwell.analytics.lifecycle import lifecycle_stage
from keepwell.analytics.rfm import rfm
from keepwell.cases.models import Case
from keepwell.customers import derived
from keepwell.customers.models import Customer
from keepwell.errors import InvalidInput
from keepwell.promises.models import Promise
from keepwell.scoring.choice import MODELS, ModelName, choose
from keepwell.scoring.fitted import Pinned, fit_models
from keepwell.scoring.models import Score
from keepwell.scoring.predict import UNIT_DAYS, expected_if_alive, lifetime_value
from keepwell.scoring.summary_sql import OrderSummary, fetch_rows, order_summary

HORIZON_DAYS = 90
BATCH = 20_000

FloatArray = NDArray[np.float64]
Progress = Callable[[int, int], None]


@dataclass
class ScoreRun:
    """What one scoring run did."""

    day: dt.date
    model: str  # the purchase model used (also stored with each score): bgnbd, pareto, none
    customers: int
    with_orders: int
    params: dict[str, float]
    gamma_gamma: dict[str, float] | None
    fitted: bool
    note: str  # what went wrong or differently, in plain sentences ("" when nothing did)
    chosen: str = ""  # the model the desk chose; differs from `model` after a fallback
    model_reason: str = ""  # why it was chosen
    gamma_gamma_customers: int = 0  # the repeat customers Gamma-Gamma was fitted on
    notes: list[str] = field(default_factory=list)  # `note`, sentence by sentence
    stages: dict[str, int] = field(default_factory=dict)
    segments: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def score(
    engine: Engine,
    day: dt.date,
    *,
    model: str | None = None,
    pinned: Pinned | None = None,
    weights: HealthWeights | None = None,
    progress: Progress | None = None,
) -> ScoreRun:
    """Score every customer as of the end of `day`, replacing that day's scores.

    `model` None uses the desk's choice (keepwell/scoring/choice.py): the pinned model,
    else the one that predicted the last holdout check better, else BG/NBD.
    """
    if model is not None and model not in MODELS:
        raise InvalidInput("model", f"must be one of {', '.join(MODELS)}")
    if pinned is not None and model is None:
        raise InvalidInput("model", "say which model the pinned parameters are for")
    started = time.perf_counter()
    writer = engine.execution_options(**{db.SQLITE_WRITE: True})
    with writer.begin() as conn:
        with Session(bind=conn) as session:
            choice = choose(session, model)
        facts = _Facts.read(conn, day)
        computed = _compute(facts, choice.model, pinned, weights or HealthWeights())
        _replace_rows(conn, day, computed.run.model, computed, progress)
    run = computed.run
    run.model_reason = choice.reason
    run.seconds = time.perf_counter() - started
    return run


# --- reading ------------------------------------------------------------------------


@dataclass
class _Facts:
    """Everything the scores are computed from, one entry per customer (by id)."""

    day: dt.date
    ids: NDArray[np.int64]  # every customer, ascending
    days_since_contact: FloatArray
    cadence: FloatArray
    overdue_promises: FloatArray
    open_cases: FloatArray
    unconfirmed_cases: FloatArray
    orders: OrderSummary  # customers with a purchase by `day` (a subset of ids)
    position: NDArray[np.intp]  # index in `ids` of each row of `orders`
    survey: FloatArray  # the latest NPS/CSAT answer on a 0-10 scale; NaN: none
    review: FloatArray  # the latest account review, 0..1; NaN: none
    advocate: NDArray[np.bool_]  # referred someone, or their latest NPS answer was 9-10

    @classmethod
    def read(cls, conn: Connection, day: dt.date) -> _Facts:
        end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), dt.UTC)
        customers = db.table_of(Customer)
        since = sa.func.coalesce(
            customers.c.last_contact_at, customers.c.first_seen, customers.c.created_at
        )
        rows = fetch_rows(
            conn,
            sa.select(
                customers.c.id,
                _days_between(conn.dialect.name, since, end),
                derived._cadence_days(conn),
            ).order_by(customers.c.id),
        )
        table = np.array(rows, dtype=np.float64).reshape(len(rows), 3)
        ids = table[:, 0].astype(np.int64)
        promises = db.table_of(Promise)
        overdue = _per_customer(
            conn,
            ids,
            sa.select(promises.c.customer_id, sa.func.count())
            .where(promises.c.status == "open", promises.c.due_at < end)
            .group_by(promises.c.customer_id),
        )
        cases = db.table_of(Case)
        open_cases = _per_customer(
            conn,
            ids,
            sa.select(cases.c.customer_id, sa.func.count())
            .where(cases.c.status == "open", cases.c.opened_at < end)
            .group_by(cases.c.customer_id),
        )
        unconfirmed = _per_customer(
            conn,
            ids,
            sa.select(cases.c.customer_id, sa.func.count())
            .where(cases.c.status == "resolved")
            .group_by(cases.c.customer_id),
        )
        orders = order_summary(conn, day, unit="week")
        position = np.searchsorted(ids, orders.summary.customer_ids)
        survey, promoter = _latest_answers(conn, ids, end)
        return cls(
            day=day,
            ids=ids,
            days_since_contact=np.maximum(np.nan_to_num(table[:, 1], nan=0.0), 0.0),
            cadence=table[:, 2],
            overdue_promises=overdue,
            open_cases=open_cases,
            unconfirmed_cases=unconfirmed,
            orders=orders,
            position=position,
            survey=survey,
            review=_latest_reviews(conn, ids, end),
            advocate=promoter | _referrers(conn, ids, end),
        )


def _where(ids: NDArray[np.int64], found: NDArray[np.int64]) -> NDArray[np.intp]:
    """Index in `ids` (ascending) of each of `found`; every one of them is in `ids`."""
    return np.searchsorted(ids, found)


def _latest_answers(
    conn: Connection, ids: NDArray[np.int64], end: dt.datetime
) -> tuple[FloatArray, NDArray[np.bool_]]:
    """Each customer's latest survey answer on a 0-10 scale (an NPS answer as given, a
    CSAT answer 1-5 as 0, 2.5, … 10), and whether their latest NPS answer was 9 or 10."""
    from keepwell.feedback.models import Feedback

    survey = np.full(ids.shape[0], np.nan)
    promoter = np.zeros(ids.shape[0], dtype=bool)
    fb = db.table_of(Feedback)
    rows = conn.execute(
        sa.select(fb.c.customer_id, fb.c.kind, fb.c.score)
        .where(fb.c.kind.in_(("nps", "csat")), fb.c.score.is_not(None), fb.c.answered_at < end)
        .order_by(fb.c.customer_id, fb.c.answered_at, fb.c.id)
    ).all()  # answers are far fewer than customers; the latest of each comes last
    if not rows:
        return survey, promoter
    customer = np.array([r[0] for r in rows], dtype=np.int64)
    is_nps = np.array([r[1] == "nps" for r in rows])
    score = np.array([r[2] for r in rows], dtype=np.float64)
    scaled = np.where(is_nps, score, (score - 1.0) * 2.5)
    last = np.r_[customer[1:] != customer[:-1], True]
    survey[_where(ids, customer[last])] = scaled[last]
    nps_customer, nps_score = customer[is_nps], score[is_nps]
    if nps_customer.shape[0]:
        last_nps = np.r_[nps_customer[1:] != nps_customer[:-1], True]
        latest = nps_customer[last_nps]
        promoter[_where(ids, latest[nps_score[last_nps] >= 9])] = True
    return survey, promoter


def _latest_reviews(conn: Connection, ids: NDArray[np.int64], end: dt.datetime) -> FloatArray:
    """The latest done account review of each customer, 0..1: the share of its checklist
    answered yes (partly counts half), averaged with the share of agreed goals met."""
    from keepwell.reviews.models import AccountReview

    value = np.full(ids.shape[0], np.nan)
    rv = db.table_of(AccountReview)
    rows = conn.execute(
        sa.select(rv.c.customer_id, rv.c.answered, rv.c.yes, rv.c.partly)
        .add_columns(rv.c.goals_met, rv.c.goals_total)
        .where(rv.c.status == "done", rv.c.completed_at < end)
        .order_by(rv.c.customer_id, rv.c.completed_at, rv.c.id)
    ).all()
    if not rows:
        return value
    table = np.array([tuple(r) for r in rows], dtype=np.float64).reshape(len(rows), 6)
    last = np.r_[table[1:, 0] != table[:-1, 0], True]
    table = table[last]
    answered, yes, partly, met, goals = table[:, 1:].T
    with np.errstate(invalid="ignore", divide="ignore"):
        checklist = np.where(answered > 0, (yes + 0.5 * partly) / answered, np.nan)
        goal_share = np.where(goals > 0, met / goals, np.nan)
    both = np.where(
        np.isnan(checklist),
        goal_share,
        np.where(np.isnan(goal_share), checklist, (checklist + goal_share) / 2.0),
    )
    value[_where(ids, table[:, 0].astype(np.int64))] = both
    return value


def _referrers(conn: Connection, ids: NDArray[np.int64], end: dt.datetime) -> NDArray[np.bool_]:
    """Customers who had referred someone by `end`."""
    from keepwell.referrals.models import Referral

    found = np.zeros(ids.shape[0], dtype=bool)
    ref = db.table_of(Referral)
    referrers = conn.execute(
        sa.select(ref.c.referrer_id).where(ref.c.linked_at < end).distinct()
    ).scalars()
    at = np.array(list(referrers), dtype=np.int64)
    if at.shape[0]:
        found[_where(ids, np.sort(at))] = True
    return found


def _days_between(dialect: str, moment: Any, end: dt.datetime) -> Any:
    """SQL for the days (fractional) from `moment` (a UTCDateTime) to `end`."""
    if dialect == "sqlite":
        return sa.func.julianday(db.sqlite_timestamp(end)) - sa.func.julianday(moment)
    return sa.extract("epoch", sa.literal(end, db.UTCDateTime()) - moment) / 86_400.0


def _per_customer(conn: Connection, ids: NDArray[np.int64], query: sa.Select[Any]) -> FloatArray:
    counts = np.zeros(ids.shape[0], dtype=np.float64)
    rows = [tuple(row) for row in conn.execute(query)]  # few: the desk's open items
    if rows:
        found = np.array(rows, dtype=np.int64).reshape(len(rows), 2)
        at = np.searchsorted(ids, found[:, 0])
        ok = (at < ids.shape[0]) & (ids[np.minimum(at, ids.shape[0] - 1)] == found[:, 0])
        counts[at[ok]] = found[ok, 1]
    return counts


# --- computing ----------------------------------------------------------------------


@dataclass
class _Computed:
    run: ScoreRun
    ids: NDArray[np.int64]
    p_alive: FloatArray  # NaN: no model or no purchase
    expected: FloatArray
    value_minor: FloatArray
    clv_minor: FloatArray
    risk_minor: FloatArray
    r: NDArray[np.int64]  # 0: none
    f: NDArray[np.int64]
    m: NDArray[np.int64]
    segment: NDArray[np.str_]
    health: NDArray[np.int64]
    stage: NDArray[np.str_]
    explanation: list[str]


def _compute(
    facts: _Facts, model: ModelName, pinned: Pinned | None, weights: HealthWeights
) -> _Computed:
    n = facts.ids.shape[0]
    s = facts.orders.summary
    at = facts.position
    x, rec, big_t = s.frequency.astype(np.float64), s.recency, s.T
    horizon = HORIZON_DAYS / UNIT_DAYS
    models = fit_models(s, model, pinned)
    purchases, spend = models.purchases, models.spend
    # each customer's explanation says why there is no prediction
    note = "" if purchases is not None else models.notes[0]

    nan = np.full(n, np.nan)
    p_alive, expected, value, clv, risk = nan.copy(), nan.copy(), nan.copy(), nan.copy(), nan.copy()
    activity = nan.copy()
    average = facts.orders.average_value
    if purchases is not None:
        pa = purchases.conditional_probability_alive(x, rec, big_t)
        e90 = pa * expected_if_alive(purchases, [horizon], x, big_t)[0]
        new90 = float(purchases.expected_number_of_purchases_up_to_time(horizon))
        # P(active) means something for repeat buyers only; one-time buyers are compared
        # with a customer who has just made a first purchase
        act = np.where(x > 0, pa, np.minimum(e90 / max(new90, 1e-12), 1.0))
        # their usual pace over the horizon: repeat days per time since the first purchase
        pace = np.where(x > 0, x / np.maximum(big_t, 1e-9) * horizon, new90)
        if spend is not None:
            per = spend.conditional_expected_average_profit(x, s.monetary_value)
            life = lifetime_value(purchases, x, rec, big_t, per)
        else:
            per = np.where(x > 0, s.monetary_value, average)
            life = np.full(x.shape, np.nan)
        p_alive[at], expected[at], activity[at] = pa, e90, act
        value[at] = per * 100.0
        clv[at] = life * 100.0
        risk[at] = np.maximum(pace - e90, 0.0) * per * 100.0

    days_since_last = np.full(n, np.nan)
    days_since_first = np.full(n, np.nan)
    purchase_days = np.zeros(n)
    gap = np.full(n, np.nan)
    days_since_last[at] = (big_t - rec) * UNIT_DAYS
    days_since_first[at] = big_t * UNIT_DAYS
    purchase_days[at] = x + 1
    gap[at] = np.where(x > 0, rec * UNIT_DAYS / np.maximum(x, 1), np.nan)

    r = np.zeros(n, dtype=np.int64)
    f, m = r.copy(), r.copy()
    segment = np.full(n, "", dtype="<U20")
    if at.shape[0]:
        scores = rfm(days_since_last[at], purchase_days[at], average)
        r[at], f[at], m[at], segment[at] = scores.r, scores.f, scores.m, scores.segment

    health = health_score(
        activity=activity,
        days_since_contact=facts.days_since_contact,
        cadence_days=facts.cadence,
        overdue_promises=facts.overdue_promises,
        open_cases=facts.open_cases,
        unconfirmed_cases=facts.unconfirmed_cases,
        survey=facts.survey,
        review=facts.review,
        weights=weights,
    )
    stage = lifecycle_stage(
        purchase_days=purchase_days,
        days_since_first=days_since_first,
        days_since_last=days_since_last,
        usual_gap_days=gap,
        activity=activity,
        advocate=facts.advocate,
    )
    explanation = _explain(
        purchase_days, gap, days_since_last, p_alive, activity, expected, value, risk, note
    )
    run = ScoreRun(
        day=facts.day,
        model=models.model,
        customers=n,
        with_orders=int(at.shape[0]),
        params=purchases.params_ if purchases is not None else {},
        gamma_gamma=spend.params_ if spend is not None else None,
        fitted=models.fitted,
        note=" ".join(models.notes),
        notes=models.notes,
        chosen=models.chosen,
        gamma_gamma_customers=models.gamma_gamma_customers,
        stages=dict(Counter(stage.tolist())),
        segments=dict(Counter(v for v in segment.tolist() if v)),
    )
    return _Computed(
        run, facts.ids, p_alive, expected, value, clv, np.nan_to_num(risk), r, f, m,
        segment, health, stage, explanation,
    )  # fmt: skip


def _pct(p: float) -> str:
    if p >= 0.995:
        return "over 99 %"
    if p < 0.005:
        return "under 1 %"
    return f"about {100 * p:.0f} %"


def _explain(
    purchase_days: FloatArray,
    gap: FloatArray,
    ago: FloatArray,
    p_alive: FloatArray,
    activity: FloatArray,
    expected: FloatArray,
    value_minor: FloatArray,
    risk_minor: FloatArray,
    note: str,
) -> list[str]:
    """One readable sentence per customer (built from plain lists: fast enough for 1M)."""
    out: list[str] = []
    rows = zip(
        purchase_days.tolist(), gap.tolist(), ago.tolist(), p_alive.tolist(),
        activity.tolist(), expected.tolist(), value_minor.tolist(), risk_minor.tolist(),
        strict=True,
    )  # fmt: skip
    for days, g, a, pa, act, e, v, lost in rows:
        if days == 0:
            out.append("No purchase yet.")
            continue
        if days == 1:
            text = f"Bought once, {a:.0f} days ago"
        else:
            text = f"Bought on {days:.0f} days, about every {g:.0f} days; last {a:.0f} days ago"
        if pa != pa:  # NaN: no model
            out.append(f"{text}. {note}." if note else f"{text}.")
            continue
        if days == 1:
            text += (
                f"; P(active) says nothing after one purchase, so compared with a new "
                f"customer: {_pct(act)} of their outlook"
            )
        else:
            text += f"; {_pct(pa)} likely still active"
        text += f"; expect {e:.1f} purchases in the next {HORIZON_DAYS} days"
        if v == v:
            text += f" of about {v / 100:,.2f} each"
        if lost >= 1:
            text += f"; {lost / 100:,.2f} expected to be lost against their usual pace"
        out.append(text + ".")
    return out


# --- writing ------------------------------------------------------------------------


def _replace_rows(
    conn: Connection, day: dt.date, model: str, c: _Computed, progress: Progress | None
) -> None:
    scores = db.table_of(Score)
    conn.execute(sa.delete(scores).where(scores.c.scored_on == day))
    n = c.ids.shape[0]

    def money(values: FloatArray) -> list[int | None]:
        return [None if v != v else round(v) for v in values.tolist()]

    def floats(values: FloatArray) -> list[float | None]:
        return [None if v != v else v for v in values.tolist()]

    def scores_1_5(values: NDArray[np.int64]) -> list[int | None]:
        return [v or None for v in values.tolist()]

    columns: list[list[Any]] = [
        c.ids.tolist(),
        floats(c.p_alive),
        floats(c.expected),
        money(c.value_minor),
        money(c.clv_minor),
        [round(v) for v in c.risk_minor.tolist()],
        scores_1_5(c.r),
        scores_1_5(c.f),
        scores_1_5(c.m),
        [v or None for v in c.segment.tolist()],
        c.health.tolist(),
        c.stage.tolist(),
        c.explanation,
    ]
    names = (
        "customer_id, p_alive, expected_purchases_90d, predicted_value_minor, clv_minor, "
        "risk_minor, rfm_r, rfm_f, rfm_m, rfm_segment, health, stage, explanation, "
        "scored_on, model, created_at"
    )
    now = dt.datetime.now(dt.UTC)
    if conn.dialect.name == "postgresql":
        raw = conn.connection.driver_connection
        assert raw is not None
        with raw.cursor() as cur, cur.copy(f"COPY scores ({names}) FROM STDIN") as copy:
            for lo in range(0, n, BATCH):
                for row in zip(*(col[lo : lo + BATCH] for col in columns), strict=True):
                    copy.write_row((*row, day, model, now))
                if progress is not None:
                    progress(min(n, lo + BATCH), n)
        return
    sql = (
        f"INSERT INTO scores ({names}) VALUES "  # noqa: S608 - constant column names
        "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    )
    extra = (day.isoformat(), model, db.sqlite_timestamp(now))
    cursor = conn.connection.cursor()
    try:
        for lo in range(0, n, BATCH):
            rows = [
                (*row, *extra)
                for row in zip(*(col[lo : lo + BATCH] for col in columns), strict=True)
            ]
            cursor.executemany(sql, rows)
            if progress is not None:
                progress(min(n, lo + BATCH), n)
    finally:
        cursor.close()
