"""NPS and CSAT figures from arrays of scores: pure, no database.

Net Promoter Score: answers 0-10 to "how likely are you to recommend us?"; promoters
answer 9-10, passives 7-8, detractors 0-6; NPS = % promoters - % detractors, from -100
to +100. CSAT: answers 1-5 to "how satisfied were you?"; the mean, and the share who
were satisfied (4 or 5). A low CSAT is 1 or 2.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import numpy.typing as npt

PROMOTER_MIN = 9
DETRACTOR_MAX = 6
SATISFIED_MIN = 4
LOW_CSAT_MAX = 2
K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class NpsFigure:
    responses: int
    promoters: int
    passives: int
    detractors: int
    nps: float | None  # None without responses

    @property
    def promoter_share(self) -> float | None:
        return self.promoters / self.responses if self.responses else None

    @property
    def detractor_share(self) -> float | None:
        return self.detractors / self.responses if self.responses else None


@dataclass(frozen=True)
class CsatFigure:
    responses: int
    mean: float | None
    satisfied: int  # answered 4 or 5
    low: int  # answered 1 or 2
    satisfied_share: float | None


def _scores(values: npt.ArrayLike, low: int, high: int, what: str) -> npt.NDArray[np.int64]:
    array = np.asarray(values)
    if array.size == 0:
        return np.zeros(0, dtype=np.int64)
    if array.ndim != 1:
        raise ValueError(f"{what} scores must be a flat sequence")
    if not np.all(np.isfinite(array.astype(np.float64))):
        raise ValueError(f"{what} scores must be numbers")
    as_int = array.astype(np.int64)
    if not np.array_equal(as_int, array.astype(np.float64)):
        raise ValueError(f"{what} scores must be whole numbers")
    if as_int.min() < low or as_int.max() > high:
        raise ValueError(f"{what} scores must lie between {low} and {high}")
    return as_int


def band(score: int) -> str:
    """promoter, passive or detractor."""
    if score >= PROMOTER_MIN:
        return "promoter"
    return "passive" if score > DETRACTOR_MAX else "detractor"


def nps(scores: npt.ArrayLike) -> NpsFigure:
    """The NPS of these 0-10 answers."""
    s = _scores(scores, 0, 10, "NPS")
    n = int(s.size)
    promoters = int((s >= PROMOTER_MIN).sum())
    detractors = int((s <= DETRACTOR_MAX).sum())
    value = 100.0 * (promoters - detractors) / n if n else None
    return NpsFigure(n, promoters, n - promoters - detractors, detractors, value)


def csat(scores: npt.ArrayLike) -> CsatFigure:
    """Mean and share satisfied of these 1-5 answers."""
    s = _scores(scores, 1, 5, "CSAT")
    n = int(s.size)
    satisfied = int((s >= SATISFIED_MIN).sum())
    return CsatFigure(
        responses=n,
        mean=float(s.mean()) if n else None,
        satisfied=satisfied,
        low=int((s <= LOW_CSAT_MAX).sum()),
        satisfied_share=satisfied / n if n else None,
    )


def nps_by(keys: Sequence[K], scores: npt.ArrayLike) -> dict[K, NpsFigure]:
    """NPS per group (segment, owner, month): keys and scores side by side."""
    s = _scores(scores, 0, 10, "NPS")
    if len(keys) != s.size:
        raise ValueError("one key per score")
    groups: dict[K, list[int]] = {}
    for key, score in zip(keys, s.tolist(), strict=True):
        groups.setdefault(key, []).append(score)
    return {key: nps(values) for key, values in groups.items()}


def csat_by(keys: Sequence[K], scores: npt.ArrayLike) -> dict[K, CsatFigure]:
    """CSAT per group."""
    s = _scores(scores, 1, 5, "CSAT")
    if len(keys) != s.size:
        raise ValueError("one key per score")
    groups: dict[K, list[int]] = {}
    for key, score in zip(keys, s.tolist(), strict=True):
        groups.setdefault(key, []).append(score)
    return {key: csat(values) for key, values in groups.items()}


def median(values: npt.ArrayLike) -> float | None:
    """The median (None for no values): e.g. of days taken to close loops."""
    array = np.asarray(values, dtype=np.float64)
    return float(np.median(array)) if array.size else None
