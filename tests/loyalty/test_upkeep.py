"""`keepwell serve`'s scheduler does the advocacy upkeep once a day: loyalty tiers (and
referral rewards earned) and due reviews for key accounts; `keepwell score` only scores."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from keepwell import clock
from keepwell.ingest.demo import build_world
from keepwell.loyalty.models import LoyaltyStatus, TierChange
from keepwell.playbooks.scheduler import tick
from keepwell.reviews.models import AccountReview
from keepwell.scoring.service import score

TODAY = date(2026, 11, 25)


def count(engine: Engine, table: type) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def test_the_scheduler_refreshes_tiers_and_schedules_reviews(engine: Engine) -> None:
    with clock.frozen(TODAY):
        build_world(engine, customers=150, seed=3, today=TODAY, desk=False)
        score(engine, TODAY)
        assert count(engine, AccountReview) == count(engine, LoyaltyStatus) == 0
        tick(engine)
    with engine.connect() as conn:
        vips = conn.execute(sa.text("SELECT count(*) FROM customers WHERE segment = 'vip'"))
        due = conn.execute(
            sa.select(sa.func.count())
            .select_from(AccountReview)
            .where(AccountReview.status == "due")
        )
        assert due.scalar_one() == vips.scalar_one() > 0
        tiers = conn.execute(sa.select(sa.func.count()).select_from(LoyaltyStatus)).scalar_one()
        changes = conn.execute(sa.select(sa.func.count()).select_from(TierChange)).scalar_one()
        assert (
            tiers > 0
            and changes
            == conn.execute(
                sa.select(sa.func.count())
                .select_from(LoyaltyStatus)
                .where(LoyaltyStatus.tier.is_not(None))
            ).scalar_one()
        )  # the first refresh: each tiered customer's first tier
