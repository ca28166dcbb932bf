"""The hourglass as a funnel: how far customers got, and where they were lost.

Steps a customer reaches one after the other: a first purchase, a second purchase
day, three or more purchase days (a repeat buyer), and advocacy (a promoter or a
referrer; the step is left out while nothing records advocacy). The loss between two
steps is the customers who reached the first and not the second; of those who reached
a step, the funnel also counts how many are *now* at risk or lapsed (their stage).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

STEPS = ("first purchase", "second purchase", "repeat buyer (3+ purchase days)", "advocate")


@dataclass(frozen=True)
class FunnelStep:
    name: str
    reached: int
    share_of_first: float | None  # reached / reached the first step
    lost_after: int  # reached this step but not the next
    conversion_to_next: float | None
    now_at_risk: int
    now_lapsed: int


def funnel(
    purchase_days: ArrayLike, stage: ArrayLike, advocate: ArrayLike | None = None
) -> list[FunnelStep]:
    days = np.asarray(purchase_days, dtype=np.int64)
    stages = np.asarray(stage).astype(str)
    adv = np.asarray(advocate, dtype=bool) if advocate is not None else stages == "advocate"
    masks = [days >= 1, days >= 2, days >= 3, (days >= 1) & adv]
    if advocate is None and not adv.any():
        masks = masks[:3]  # nothing records advocacy yet: the funnel ends at repeat buyers
    reached = [int(m.sum()) for m in masks]
    result = []
    for i, (name, mask) in enumerate(zip(STEPS[: len(masks)], masks, strict=True)):
        following = reached[i + 1] if i + 1 < len(masks) else None
        result.append(
            FunnelStep(
                name=name,
                reached=reached[i],
                share_of_first=reached[i] / reached[0] if reached[0] else None,
                lost_after=reached[i] - following if following is not None else 0,
                conversion_to_next=(
                    following / reached[i] if following is not None and reached[i] else None
                ),
                now_at_risk=int((mask & (stages == "at_risk")).sum()),
                now_lapsed=int((mask & (stages == "lapsed")).sum()),
            )
        )
    return result
