"""A Pareto/NBD search that runs off is abandoned, not walked to the edge.

CDNOW's first 300 customers scored as of mid-2000, two years after their data end: every
one looks long gone, and the dropout scale beta climbs without bound. Walking on to the
edge of the search box took minutes on larger desks (332 s on 40,000 customers) and ended
"did not converge"; now the search stops once a log-parameter leaves ±RUNAWAY and
says which parameter ran off, so a scoring run falls back to BG/NBD at once.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from keepwell.analytics import (
    InsufficientData,
    ParetoNBDFitter,
    model_base,
    optimiser,
    summary_from_transactions,
)
from tests.analytics.conftest import load_cdnow


def test_a_runaway_pareto_search_stops_at_the_runaway_bound(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    orders = load_cdnow()
    first = orders[orders["customer_id"] <= np.unique(orders["customer_id"])[299]]
    s = summary_from_transactions(
        first["customer_id"], first["order_date"], first["amount"], "2000-06-30", unit="week"
    )
    furthest: list[float] = []
    minimise = model_base.minimise

    def watched(*args: Any, **kwargs: Any) -> optimiser.Result:
        result = minimise(*args, **kwargs)
        furthest.append(float(np.abs(result.x).max()))
        return result

    monkeypatch.setattr(model_base, "minimise", watched)
    with pytest.raises(InsufficientData, match=r"^Pareto/NBD: parameter\(s\) beta ran off"):
        ParetoNBDFitter().fit(s.frequency, s.recency, s.T)
    # stopped within one step of the runaway bound, far inside the box's edge
    assert model_base.RUNAWAY <= furthest[0] < model_base.RUNAWAY + 2 < model_base.LOG_BOUND
