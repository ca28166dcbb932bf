"""The daily upkeep of the advocacy records, run once a day by `keepwell serve`'s
scheduler (keepwell/playbooks/scheduler.py): loyalty tiers (and the referral rewards a
first purchase earned), and due account reviews for key accounts. Each part also has
its own command (`keepwell loyalty refresh`, `keepwell review schedule`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.engine import Connection

from keepwell.loyalty.service import LoyaltyRun, refresh
from keepwell.reviews.service import ScheduleRun, schedule_reviews


@dataclass(frozen=True)
class Upkeep:
    loyalty: LoyaltyRun
    reviews: ScheduleRun


def nightly(conn: Connection, day: date) -> Upkeep:
    return Upkeep(loyalty=refresh(conn, day), reviews=schedule_reviews(conn, day))
