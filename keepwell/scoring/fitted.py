"""The models one scoring run uses: pinned parameters, else fitted, with a fallback.

The purchase model is the desk's choice (keepwell/scoring/choice.py). When it cannot be
fitted — too few customers or repeat buyers, or a maximum-likelihood search that does
not converge (Pareto/NBD on an old export scored as of today) — the other purchase
model is fitted instead (BG/NBD <-> Pareto/NBD), and the run says so. Only when
neither can be fitted does the run go without one. Gamma-Gamma is fitted on the repeat
customers who spent something; the others get the shop's mean purchase value.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from keepwell.analytics import BetaGeoFitter, GammaGammaFitter, InsufficientData, ParetoNBDFitter
from keepwell.analytics.model_base import TransactionModel
from keepwell.analytics.summary import Summary
from keepwell.errors import InvalidInput
from keepwell.scoring.choice import NAMES, ModelName
from keepwell.scoring.fitting import fit_spend

KINDS: dict[ModelName, type[TransactionModel]] = {
    "bgnbd": BetaGeoFitter,
    "pareto": ParetoNBDFitter,
}
OTHER: dict[ModelName, ModelName] = {"bgnbd": "pareto", "pareto": "bgnbd"}
NO_MODEL = "none"  # stored as the model of a run that could fit neither


@dataclass(frozen=True)
class Pinned:
    """Parameters to use instead of fitting (e.g. from `keepwell model fit --json`)."""

    transaction: dict[str, float]
    gamma_gamma: dict[str, float] | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any], model: ModelName) -> Pinned:
        if model not in data:
            raise InvalidInput("params", f"no {model!r} parameters in the file")
        names = KINDS[model].param_names
        try:
            transaction = {n: float(data[model][n]) for n in names}
            gg = data.get("gamma_gamma")
            spend = None if gg is None else {n: float(gg[n]) for n in GammaGammaFitter.param_names}
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidInput("params", f"incomplete or unreadable parameters: {exc}") from None
        for key, values in ((model, transaction), ("gamma_gamma", spend or {})):
            for name, value in values.items():
                if not (math.isfinite(value) and value > 0):
                    raise InvalidInput("params", f"{key}.{name} must be a positive number")
        if spend is not None and spend["q"] <= 1.0:
            raise InvalidInput(
                "params", "gamma_gamma.q must be above 1 (else the mean purchase value is infinite)"
            )
        return cls(transaction, spend)


@dataclass(frozen=True)
class Fitted:
    """What a run scores with, and what it has to say about it."""

    chosen: ModelName  # the desk's choice
    model: str  # the purchase model used: the choice, the other one, or NO_MODEL
    purchases: TransactionModel | None
    spend: GammaGammaFitter | None
    fitted: bool  # False: pinned parameters
    notes: list[str] = field(default_factory=list)  # plain sentences, for the run's output
    gamma_gamma_customers: int = 0  # the repeat customers the spend model was fitted on

    @property
    def fell_back(self) -> bool:
        return self.model != self.chosen


def _reason(exc: InsufficientData, name: ModelName) -> str:
    return str(exc).removeprefix(f"{NAMES[name]}: ")


def fit_purchases(
    summary: Summary, chosen: ModelName
) -> tuple[ModelName | None, TransactionModel | None, list[str]]:
    """The chosen purchase model fitted, else the other one; (which, model, notes)."""
    failed: list[tuple[ModelName, str]] = []
    for name in (chosen, OTHER[chosen]):
        try:
            model = KINDS[name]().fit(summary.frequency, summary.recency, summary.T)
        except InsufficientData as exc:
            failed.append((name, _reason(exc, name)))
            continue
        notes = [
            f"{NAMES[chosen]} could not be fitted ({why}), so {NAMES[name]} was fitted instead."
            for _, why in failed
        ]
        return name, model, notes
    why = "; ".join(f"{NAMES[n]}: {reason}" for n, reason in failed)
    return None, None, [f"no purchase model: neither could be fitted ({why})"]


def fit_models(summary: Summary, chosen: ModelName, pinned: Pinned | None) -> Fitted:
    """The purchase model and the spend model: pinned parameters, else fitted."""
    if pinned is not None:
        pinned_model = KINDS[chosen].from_params(**pinned.transaction)
        if pinned.gamma_gamma is not None:
            pinned_spend = GammaGammaFitter.from_params(**pinned.gamma_gamma)
            return Fitted(chosen, chosen, pinned_model, pinned_spend, fitted=False)
        spend, customers, notes = fit_spend(summary)
        return Fitted(chosen, chosen, pinned_model, spend, False, notes, customers)
    used, purchases, notes = fit_purchases(summary, chosen)
    spend, customers, spend_notes = fit_spend(summary)
    return Fitted(chosen, used or NO_MODEL, purchases, spend, True, notes + spend_notes, customers)
