"""NPS and CSAT figures, checked against examples computed by hand; the reports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from keepwell import clock, db
from keepwell.analytics.nps import band, csat, median, nps, nps_by
from keepwell.customers.models import Customer
from keepwell.feedback import answers, loop
from keepwell.reports.service import Options, build
from tests.feedback.conftest import NOW, World


def test_nps_by_hand() -> None:
    # 10 answers: promoters 10, 9, 9, 10 (4); passives 8, 7 (2); detractors 6, 0, 3, 5 (4)
    figure = nps([10, 9, 9, 8, 7, 6, 0, 3, 10, 5])
    assert (figure.responses, figure.promoters, figure.passives, figure.detractors) == (10, 4, 2, 4)
    assert figure.nps == 0.0
    # 5 answers: 3 promoters, 1 passive, 1 detractor: (3 - 1) / 5 = +40
    assert nps([10, 10, 9, 8, 2]).nps == pytest.approx(40.0)
    # 8 answers: 1 promoter, 7 detractors: (1 - 7) / 8 = -75
    assert nps([9, 6, 6, 5, 4, 3, 1, 0]).nps == pytest.approx(-75.0)
    assert nps([10] * 3).nps == 100.0 and nps([6, 0]).nps == -100.0
    assert nps([]).nps is None and nps([]).responses == 0
    assert [band(s) for s in (0, 6, 7, 8, 9, 10)] == [
        "detractor", "detractor", "passive", "passive", "promoter", "promoter",
    ]  # fmt: skip


def test_csat_by_hand() -> None:
    figure = csat([5, 4, 3, 1, 2])  # mean 15 / 5 = 3; satisfied (4-5): 2 of 5; low (1-2): 2
    assert (figure.responses, figure.mean, figure.satisfied, figure.low) == (5, 3.0, 2, 2)
    assert figure.satisfied_share == pytest.approx(0.4)
    assert csat([]).mean is None


def test_groups_and_median() -> None:
    groups = nps_by(["a", "b", "a", "a"], [10, 0, 6, 9])
    assert groups["a"].nps == pytest.approx(100 * (2 - 1) / 3) and groups["b"].nps == -100.0
    assert median([1.0, 5.0, 2.0]) == 2.0 and median([]) is None


@pytest.mark.parametrize(
    ("bad", "why"),
    [
        ([11], "must lie between 0 and 10"),
        ([-1], "must lie between 0 and 10"),
        ([2.5], "must be whole numbers"),
        ([float("nan")], "must be numbers"),
        ([[1, 2]], "must be a flat sequence"),
    ],
)
def test_scores_out_of_range_are_refused(bad: list[object], why: str) -> None:
    with pytest.raises(ValueError, match=f"^NPS scores {why}$"):
        nps(bad)  # type: ignore[arg-type]


def test_the_nps_and_loops_reports(world: World, tmp_path: Path) -> None:
    """Two months of answers; the figures as computed by hand."""
    october = datetime(2026, 10, 10, 12, tzinfo=UTC)
    november = datetime(2026, 11, 20, 12, tzinfo=UTC)
    given = [
        ("Rui", october, "nps", 10, "great"),
        ("Bea", october, "nps", 3, "late parcel"),
        ("Carl", october, "nps", 8, ""),
        ("Rui", november, "nps", 9, ""),
        ("Bea", november, "nps", 9, "much better now"),
        ("Carl", november, "csat", 2, "slow answer"),
        ("Rui", november, "csat", 5, ""),
    ]
    with clock.frozen(NOW), db.transaction(world.engine) as session:
        made = {}
        for who, at, kind, score, words in given:
            customer = session.get(Customer, world.customers[who])
            assert customer is not None
            made[(who, at, kind)] = answers.record_feedback(
                session, customer, kind, score=score, verbatim=words, answered_at=at
            )
        loop.tell(
            session,
            made[("Bea", october, "nps")],
            note="new courier",
            at=october + timedelta(days=4),
        )
        session.flush()
    with clock.frozen(NOW), db.transaction(world.engine) as session:
        report = build(session, "nps", Options(day=NOW.date(), months=2))
        loops = build(session, "loops", Options(day=NOW.date(), months=2))
    rows = {row[0]: row for row in report.rows}
    # October: 10, 3, 8 -> 1 promoter, 1 passive, 1 detractor: NPS 0
    assert rows["2026-10"][1:6] == [3, 1, 1, 1, 0.0]
    # November: 9, 9 -> +100; CSAT 2 and 5: mean 3.5, satisfied 1 of 2
    assert rows["2026-11"][1:9] == [2, 2, 0, 0, 100.0, 2, 3.5, 0.5]
    data = report.to_dict()
    assert data["nps"] == 40.0  # 3 promoters, 1 detractor of 5: +40
    assert data["verbatims"][0]["verbatim"] in ("much better now", "slow answer")
    assert {v["verbatim"] for v in data["verbatims"]} == {
        "great", "late parcel", "much better now", "slow answer",
    }  # fmt: skip
    [segment] = data["by_segment"]
    assert (segment["segment"], segment["responses"], segment["nps"]) == ("(no segment)", 5, 40.0)
    [owner] = data["by_owner"]
    assert owner["owner"] == "ana@shop.example" and owner["csat_mean"] == 3.5
    loop_rows = {row[0]: row for row in loops.rows}
    # October: 3 answers, 1 closed (after 4 days), 1 negative and closed
    assert loop_rows["2026-10"][1:] == [3, 1, 0.3333, 1, 1, 1.0, 4.0]
    # November: 4 answers, none closed; 1 negative (CSAT 2)
    assert loop_rows["2026-11"][1:] == [4, 0, 0.0, 1, 0, 0.0, None]
    assert loop_rows["all"][1:4] == [7, 1, 0.1429]
    assert report.draw is not None and loops.draw is not None
    chart = report.draw(tmp_path / "nps.png")
    assert chart.stat().st_size > 10_000
    assert loops.draw(tmp_path / "loops.svg").read_text().startswith("<?xml")
