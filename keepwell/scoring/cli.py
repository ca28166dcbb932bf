"""`keepwell score` and `keepwell model fit/check`."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from keepwell import clikit, clock, jsontext
from keepwell.errors import InvalidInput

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

model_app = typer.Typer(
    help="The customer models: fit them, and check their predictions on a holdout period.",
    no_args_is_help=True,
)

Unit = Annotated[str, typer.Option("--unit", help="Time unit of the models: week or day.")]


def _unit(text: str) -> Any:
    if text not in ("week", "day"):
        raise typer.BadParameter("must be week or day", param_hint="--unit")
    return text


def score(
    as_of: Annotated[
        date | None, clikit.day("--date", help="Score as of the end of this day; default: today")
    ] = None,
    model: Annotated[
        str | None,
        typer.Option(
            "--model",
            help="Purchase model: bgnbd or pareto (default: the pinned one, else the one "
            "the last `keepwell model check` found better, else bgnbd).",
        ),
    ] = None,
    params: Annotated[
        Path | None,
        typer.Option(
            "--params", help="Pinned parameters (the JSON of `keepwell model fit --json`)."
        ),
    ] = None,
    weights: Annotated[
        str | None,
        typer.Option(
            "--health-weights",
            envvar="KEEPWELL_HEALTH_WEIGHTS",
            help="Health weights, e.g. "
            "activity=40,contact=25,promises=15,cases=10,survey=10,review=10.",
        ),
    ] = None,
    database: clikit.Database = None,
    as_json: clikit.JsonOpt = False,
) -> None:
    """Score every customer (P(active), expected purchases, value, RFM, health, stage, risk)."""
    from keepwell.analytics.health import HealthWeights
    from keepwell.scoring.choice import MODELS
    from keepwell.scoring.fitted import Pinned
    from keepwell.scoring.service import score as run_score

    when = as_of or clock.today()
    if model is not None and model not in MODELS:
        raise typer.BadParameter(f"must be one of {', '.join(MODELS)}", param_hint="--model")
    with clikit.errors():
        pinned = None
        if params is not None:
            try:
                text = params.read_text(encoding="utf-8")
            except (OSError, ValueError) as exc:
                raise InvalidInput("params", f"cannot read {params}: {exc}") from None
            data = jsontext.parse("params", text)
            if model is None:  # the file says which model, unless it holds both
                found = [m for m in MODELS if isinstance(data, dict) and m in data]
                if len(found) != 1:
                    raise InvalidInput("model", "say which model --params is for with --model")
                model = found[0]
            pinned = Pinned.from_json(data, model)
        health = HealthWeights.parse(weights) if weights else None
        engine = clikit.ready_engine(database)
        try:
            with clikit.progress("scoring", not as_json) as report:
                run = run_score(
                    engine, when, model=model, pinned=pinned, weights=health,
                    progress=report,
                )  # fmt: skip
        finally:
            engine.dispose()
    if as_json:
        clikit.print_json(run.__dict__)
        return
    how = "fitted" if run.fitted else "pinned"
    shown = ", ".join(f"{k}={v:.4g}" for k, v in run.params.items()) or "none"
    clikit.say(
        f"Scored {run.customers:,} customers as of {run.day} "
        f"({run.with_orders:,} with orders) in {run.seconds:.1f} s."
    )
    if run.model == run.chosen:
        clikit.say(f"Model {run.model} ({how}; {run.model_reason}): {shown}")
    elif run.params:
        clikit.say(
            f"Model {run.model} (fitted in place of {run.chosen}, {run.model_reason}): {shown}"
        )
    else:
        clikit.say(f"Model: none (neither could be fitted; {run.chosen} {run.model_reason})")
    if run.gamma_gamma:
        on = run.gamma_gamma_customers
        clikit.say(
            (f"Gamma-Gamma on {on:,} repeat customers: " if on else "Gamma-Gamma (pinned): ")
            + ", ".join(f"{k}={v:.4g}" for k, v in run.gamma_gamma.items())
        )
    for note in run.notes:
        clikit.say(note)
    stages = ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in sorted(run.stages.items()))
    clikit.say(f"Stages: {stages}")


def _summary_for(
    database: str | None, until: date, unit: str, observation_end: date | None = None
) -> Any:
    from keepwell.scoring.summary_sql import summary_from_orders

    engine = clikit.ready_engine(database)
    try:
        with engine.connect() as conn:
            return summary_from_orders(
                conn, until, unit=unit, observation_end=observation_end,  # type: ignore[arg-type]
            )  # fmt: skip
    finally:
        engine.dispose()


@model_app.command("fit")
def model_fit(
    until: Annotated[
        date | None, clikit.day("--until", help="Fit on orders up to this day; default: today")
    ] = None,
    unit: Unit = "week",
    summary: Annotated[
        Path | None,
        typer.Option(
            "--summary",
            help="Fit a CSV summary (frequency, recency, T, [monetary_value]) instead.",
        ),
    ] = None,
    pareto: Annotated[bool, typer.Option("--pareto", help="Fit Pareto/NBD as well.")] = False,
    database: clikit.Database = None,
    as_json: clikit.JsonOpt = False,
) -> None:
    """Fit BG/NBD and Gamma-Gamma; print the parameters and the log-likelihood.

    A model that cannot be fitted is reported with the reason (null in --json); the
    command fails only when no purchase model could be fitted.
    """
    from keepwell.scoring.fitting import fit
    from keepwell.scoring.summary_csv import read_summary_csv

    last = until or clock.today()
    chosen = _unit(unit)
    with clikit.errors():
        if summary is not None:
            data = read_summary_csv(summary, chosen)
        else:
            data = _summary_for(database, last, chosen)
        result = fit(data, pareto=pareto)
    if as_json:
        clikit.print_json(result)
        return
    bg = result["bgnbd"]
    if bg:
        clikit.say(f"BG/NBD on {bg['customers']:,} customers ({chosen}s):")
        clikit.say(
            f"  r = {bg['r']:.4g}, alpha = {bg['alpha']:.4g}, a = {bg['a']:.4g}, "
            f"b = {bg['b']:.4g}; log-likelihood {bg['loglik']:.1f}"
        )
    pn = result.get("pareto")
    if pn:
        clikit.say(
            f"Pareto/NBD: r = {pn['r']:.4g}, alpha = {pn['alpha']:.4g}, s = {pn['s']:.4g}, "
            f"beta = {pn['beta']:.4g}; log-likelihood {pn['loglik']:.1f}"
        )
    gg = result["gamma_gamma"]
    if gg:
        clikit.say(
            f"Gamma-Gamma on {gg['customers']:,} repeat customers: "
            f"p = {gg['p']:.4g}, q = {gg['q']:.4g}, v = {gg['v']:.4g}"
        )
    for note in result["notes"]:
        clikit.say(note)


@model_app.command("check")
def model_check(
    calibration_end: Annotated[
        date, clikit.day("--calibration-end", help="Last day of the calibration period")
    ],
    observation_end: Annotated[
        date | None,
        clikit.day("--observation-end", help="Last day of the holdout; default: last order"),
    ] = None,
    unit: Unit = "week",
    chart: Annotated[
        Path | None, typer.Option("--chart", help="Also draw predicted vs actual (.png/.svg).")
    ] = None,
    database: clikit.Database = None,
    as_json: clikit.JsonOpt = False,
) -> None:
    """Predicted vs actual repeat purchases after a calibration period, BG/NBD and Pareto/NBD."""
    from rich.table import Table

    from keepwell.analytics.charts import _check, grouped_bars
    from keepwell.scoring import choice
    from keepwell.scoring.fitting import holdout_check

    cal, end = calibration_end, observation_end
    chosen = _unit(unit)
    with clikit.errors():
        if chart is not None:
            _check(chart)
        if end is None:
            end = _last_order_day(database)
            if end is None or end <= cal:
                raise InvalidInput(
                    "observation end", "no orders after the calibration period to check against"
                )
        check = holdout_check(_summary_for(database, cal, chosen, end))
        with clikit.session_for(database) as session:
            choice.record_check(session, check)
        if chart is not None:
            labels = ["actual"] + [_NAMES[m.name] for m in check.models]
            grouped_bars(
                chart,
                title=f"Repeat purchases {cal + timedelta(days=1)} – {end}: predicted vs actual",
                xlabel=f"repeat purchases in the calibration period (to {cal})",
                ylabel="mean purchases per customer in the holdout",
                labels=check.bucket_labels,
                series=dict(
                    zip(
                        labels,
                        [check.actual_by_bucket] + [m.by_bucket for m in check.models],
                        strict=True,
                    )
                ),
                note=f"{check.customers:,} customers; "
                + "; ".join(
                    f"{_NAMES[m.name]} predicted {m.predicted_total:,.0f} in all"
                    for m in check.models
                )
                + f"; actual {check.actual_total:,}",
            )
    if as_json:
        clikit.print_json(check.to_dict())
        return
    clikit.say(
        f"Holdout {cal + timedelta(days=1)} – {end}: {check.customers:,} customers made "
        f"{check.actual_total:,} repeat purchases."
    )
    for m in check.models:
        clikit.say(
            f"  {_NAMES[m.name]} predicted {m.predicted_total:,.1f} "
            f"(error per customer {m.mean_absolute_error:.3f})"
        )
    table = Table(title="Mean repeat purchases per customer in the holdout")
    table.add_column("calibration repeat purchases")
    table.add_column("customers", justify="right")
    table.add_column("actual", justify="right")
    for m in check.models:
        table.add_column(_NAMES[m.name], justify="right")
    for i, label in enumerate(check.bucket_labels):
        table.add_row(
            label,
            f"{check.bucket_customers[i]:,}",
            f"{check.actual_by_bucket[i]:.2f}",
            *(f"{m.by_bucket[i]:.2f}" for m in check.models),
        )
    clikit.out.print(table)
    better = check.better
    clikit.say(
        f"Closer to what happened: {_NAMES[better]}; `keepwell score` uses it from now on "
        "unless an admin pinned a model (`keepwell model pin`)."
    )
    if chart is not None:
        clikit.say(f"Chart: {chart}")


_NAMES = {"bgnbd": "BG/NBD", "pareto": "Pareto/NBD"}


def _last_order_day(database: str | None) -> date | None:
    import sqlalchemy as sa

    from keepwell.db import table_of
    from keepwell.orders.models import Order

    engine = clikit.ready_engine(database)
    try:
        with engine.connect() as conn:
            last: datetime | None = conn.execute(
                sa.select(sa.func.max(table_of(Order).c.ordered_at))
            ).scalar()
    finally:
        engine.dispose()
    return last.date() if last is not None else None


@model_app.command("pin")
@clikit.on_desk
def model_pin(
    session: Session,
    model: Annotated[
        str, typer.Argument(help="bgnbd or pareto; auto lets `keepwell model check` decide.")
    ],
) -> clikit.Shown:
    """Make scoring always use one purchase model (recorded in the audit trail)."""
    from keepwell.scoring import choice

    choice.pin(session, None if model == "auto" else model)
    chosen = choice.choose(session)
    return f"Scoring uses {_NAMES[chosen.model]}: {chosen.reason}."
