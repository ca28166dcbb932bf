"""RFM scores worked out by hand: each direction of each score can fail on its own."""

from __future__ import annotations

from keepwell.analytics.rfm import rfm


def test_each_score_rewards_the_right_direction() -> None:
    # Five customers; each column is in a different order so that a score computed
    # from the wrong column, or in the wrong direction, gives a different answer.
    days_since_last = [10, 400, 90, 30, 200]  # fewer days is better
    purchase_days = [1, 9, 3, 2, 5]  # more is better
    average_value = [80.0, 5.0, 20.0, 45.0, 12.5]  # more is better
    result = rfm(days_since_last, purchase_days, average_value)
    # Of five customers, one who beats k others scores k + 1.
    assert result.r.tolist() == [5, 1, 3, 4, 2]
    assert result.f.tolist() == [1, 5, 3, 2, 4]
    assert result.m.tolist() == [5, 1, 3, 4, 2]
    # The grid, looked up by hand: R5/F1 new, R1/F5 can't lose, R3/F3 need attention,
    # R4/F2 potential loyalist, R2/F4 at risk.
    assert result.segment.tolist() == [
        "new", "cant_lose", "need_attention", "potential_loyalist", "at_risk",
    ]  # fmt: skip


def test_the_biggest_spender_scores_m5_even_when_bought_long_ago_and_once() -> None:
    result = rfm([700, 5, 6, 7, 8], [1, 4, 4, 4, 4], [500.0, 10.0, 11.0, 12.0, 13.0])
    assert result.m.tolist() == [5, 1, 2, 3, 4]
    assert result.r.tolist()[0] == 1 and result.f.tolist()[0] == 1
