"""Customer-base models: pure NumPy, arrays in and results out.

`summary` turns an order list into one row per customer (frequency, recency, T,
monetary value, holdout counts); `btyd` (BG/NBD), `pareto` (Pareto/NBD) and
`gamma_gamma` fit the "buy till you die" models to those rows and predict from them,
on the shared pieces of `model_base`.
Nothing here touches the database or the network.
"""

from __future__ import annotations

from keepwell.analytics.btyd import BetaGeoFitter
from keepwell.analytics.gamma_gamma import GammaGammaFitter
from keepwell.analytics.model_base import InsufficientData, NotFittedError, explain_customer
from keepwell.analytics.pareto import ParetoNBDFitter
from keepwell.analytics.summary import Summary, summary_from_transactions

__all__ = [
    "BetaGeoFitter",
    "GammaGammaFitter",
    "InsufficientData",
    "NotFittedError",
    "ParetoNBDFitter",
    "Summary",
    "explain_customer",
    "summary_from_transactions",
]
