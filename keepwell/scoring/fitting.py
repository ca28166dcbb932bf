"""Fitting the customer models, and the holdout check that lets a user trust them.

`fit` turns a summary into the parameters `keepwell model fit` prints; `holdout_check`
fits BG/NBD and Pareto/NBD on a calibration period and compares what each predicted
for the following period with what the customers actually did, overall and by the
number of repeat purchases in the calibration period (0, 1, … 7+).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from keepwell.analytics import (
    BetaGeoFitter,
    GammaGammaFitter,
    InsufficientData,
    ParetoNBDFitter,
    Summary,
)
from keepwell.analytics.model_base import TransactionModel
from keepwell.analytics.summary import UNIT_DAYS, Unit

FloatArray = NDArray[np.float64]
BUCKETS = 8  # 0, 1, … 6, 7+


def fit(summary: Summary, *, pareto: bool = False) -> dict[str, Any]:
    """{"bgnbd": {r, alpha, a, b, loglik, customers}, "gamma_gamma": {p, q, v, customers},
    "notes": […]}, and "pareto" on request.

    The log-likelihood is the total over customers, as published. A model that cannot
    be fitted is None and the notes say why; when no purchase model could be fitted
    (BG/NBD, and Pareto/NBD if asked for) the BG/NBD reason is raised.
    """
    notes: list[str] = []
    result: dict[str, Any] = {"unit": summary.unit}
    failed: InsufficientData | None = None
    names: list[tuple[str, type[TransactionModel]]] = [("bgnbd", BetaGeoFitter)]
    if pareto:
        names.append(("pareto", ParetoNBDFitter))
    for key, kind in names:
        try:
            model = kind().fit(summary.frequency, summary.recency, summary.T)
        except InsufficientData as exc:
            failed = failed or exc
            result[key] = None
            notes.append(f"{exc}; {str(exc).split(':')[0]} not fitted.")
        else:
            result[key] = {
                **model.params_,
                "loglik": model.log_likelihood_,
                "customers": round(model.n_customers_),
            }
    if failed is not None and not any(result[key] for key, _ in names):
        raise failed
    spend, customers, spend_notes = fit_spend(summary)
    result["gamma_gamma"] = None if spend is None else {**spend.params_, "customers": customers}
    result["notes"] = notes + spend_notes
    return result


def fit_spend(summary: Summary) -> tuple[GammaGammaFitter | None, int, list[str]]:
    """Gamma-Gamma on the repeat customers who spent something: (the model or None, the
    customers it was fitted on, notes in plain sentences)."""
    x, value = summary.frequency, summary.monetary_value
    instead = "a purchase is valued at the customer's own average; no lifetime values"
    try:
        spend = GammaGammaFitter().fit(x, value)
    except InsufficientData as exc:
        why = str(exc).removeprefix("Gamma-Gamma: ")
        return None, 0, [f"Gamma-Gamma not fitted ({why}): {instead}."]
    if spend.params_["q"] <= 1.0:
        why = "q <= 1: the mean purchase value would be infinite"
        return None, 0, [f"Gamma-Gamma not fitted ({why}): {instead}."]
    notes = []
    free = int(np.count_nonzero((x > 0) & (value <= 0)))
    if free:
        notes.append(
            f"{free:,} repeat customer{'s' if free != 1 else ''} spent nothing on their repeat "
            "purchases (free or fully discounted orders): left out of Gamma-Gamma and valued at "
            "the shop's mean purchase value."
        )
    return spend, round(spend.n_customers_), notes


@dataclass(frozen=True)
class ModelCheck:
    """One model's holdout predictions against the actual repeat purchases."""

    name: str
    params: dict[str, float]
    log_likelihood: float
    predicted_total: float
    by_bucket: list[float]  # mean predicted purchases per customer, per bucket
    mean_absolute_error: float  # per customer
    bucket_error: float  # mean |predicted - actual| over the buckets' means


@dataclass(frozen=True)
class HoldoutCheck:
    calibration_end: str
    observation_end: str
    unit: str
    customers: int
    actual_total: int
    bucket_labels: list[str]
    bucket_customers: list[int]
    actual_by_bucket: list[float]  # mean actual purchases per customer, per bucket
    models: list[ModelCheck]

    @property
    def better(self) -> str:
        """The model whose predictions were closer, customer by customer."""
        return min(self.models, key=lambda m: m.mean_absolute_error).name

    def to_dict(self) -> dict[str, Any]:
        return {
            "calibration_end": self.calibration_end,
            "observation_end": self.observation_end,
            "unit": self.unit,
            "customers": self.customers,
            "actual_total": self.actual_total,
            "buckets": [
                {
                    "calibration_repeat_purchases": label,
                    "customers": n,
                    "actual": actual,
                    **{m.name: m.by_bucket[i] for m in self.models},
                }
                for i, (label, n, actual) in enumerate(
                    zip(
                        self.bucket_labels,
                        self.bucket_customers,
                        self.actual_by_bucket,
                        strict=True,
                    )
                )
            ],
            "models": [
                {
                    "name": m.name,
                    "params": m.params,
                    "loglik": m.log_likelihood,
                    "predicted_total": m.predicted_total,
                    "mean_absolute_error": m.mean_absolute_error,
                    "bucket_error": m.bucket_error,
                }
                for m in self.models
            ],
            "better": self.better,
        }


def holdout_check(summary: Summary) -> HoldoutCheck:
    """Fit both purchase models on the calibration period; compare with the holdout."""
    if summary.frequency_holdout is None or summary.duration_holdout is None:
        raise ValueError("the summary has no holdout period")
    x, rec, big_t = summary.frequency, summary.recency, summary.T
    actual = summary.frequency_holdout.astype(np.float64)
    bucket = np.minimum(x, BUCKETS - 1)
    counts = np.bincount(bucket, minlength=BUCKETS)

    def by_bucket(values: FloatArray) -> list[float]:
        sums = np.bincount(bucket, weights=values, minlength=BUCKETS)
        return [float(s / c) if c else 0.0 for s, c in zip(sums, counts, strict=True)]

    actual_means = by_bucket(actual)
    models: list[ModelCheck] = []
    fitted: list[tuple[str, TransactionModel]] = [
        ("bgnbd", BetaGeoFitter().fit(x, rec, big_t)),
        ("pareto", ParetoNBDFitter().fit(x, rec, big_t)),
    ]
    for name, model in fitted:
        predicted = model.conditional_expected_number_of_purchases_up_to_time(
            summary.duration_holdout, x, rec, big_t
        )
        means = by_bucket(predicted)
        shown = [i for i in range(BUCKETS) if counts[i]]
        models.append(
            ModelCheck(
                name=name,
                params=model.params_,
                log_likelihood=model.log_likelihood_,
                predicted_total=float(predicted.sum()),
                by_bucket=means,
                mean_absolute_error=float(np.abs(predicted - actual).mean()),
                bucket_error=float(np.mean([abs(means[i] - actual_means[i]) for i in shown])),
            )
        )
    labels = [str(i) for i in range(BUCKETS - 1)] + [f"{BUCKETS - 1}+"]
    return HoldoutCheck(
        calibration_end=str(summary.calibration_end),
        observation_end=str(summary.observation_end),
        unit=summary.unit,
        customers=len(summary),
        actual_total=int(actual.sum()),
        bucket_labels=labels,
        bucket_customers=[int(c) for c in counts],
        actual_by_bucket=actual_means,
        models=models,
    )


def unit_days(unit: Unit) -> float:
    return UNIT_DAYS[unit]
