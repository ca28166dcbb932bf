"""Loyalty: points from purchases, and tiers by points — computed in SQL for the whole desk.

Points = the customer's order amounts in the window (default the last 365 days; 0 days
means all time) × points per currency unit (default 1), rounded down. The tier is the
highest whose threshold the points reach (defaults: Bronze 1, Silver 250, Gold 1,000).
All of it is desk settings (`loyalty.points_per_unit`, `loyalty.tiers`,
`loyalty.window_days`).

`refresh` recomputes every customer in a few statements (one aggregate over the orders
into a temporary table, then set-based comparisons): each customer whose tier changed
gets a row in `loyalty_tier_changes` — reached_on the day of the refresh — which is
what playbooks act on ("reached Gold: send a note"; `tier_changes_since`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from fractions import Fraction
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from keepwell import clock
from keepwell.db import UTCDateTime, table_of
from keepwell.errors import InvalidInput, check_limit
from keepwell.loyalty.models import LoyaltyStatus, TierChange
from keepwell.orders.models import Order

DEFAULT_POINTS_PER_UNIT = 1
DEFAULT_TIERS: dict[str, int] = {"Bronze": 1, "Silver": 250, "Gold": 1000}
DEFAULT_WINDOW_DAYS = 365
MAX_LIMIT = 1000


@dataclass(frozen=True)
class LoyaltyConfig:
    points_per_unit: float = DEFAULT_POINTS_PER_UNIT
    tiers: tuple[tuple[str, int], ...] = tuple(DEFAULT_TIERS.items())  # lowest first
    window_days: int = DEFAULT_WINDOW_DAYS

    def __post_init__(self) -> None:
        ppu = self.points_per_unit
        if (
            isinstance(ppu, bool)
            or not isinstance(ppu, int | float)
            or not math.isfinite(ppu)
            or not 0 < ppu <= 1000
        ):
            raise InvalidInput(
                "points_per_unit", f"give a number above 0, at most 1000, not {ppu!r}"
            )
        days = self.window_days
        if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= 36_600:
            raise InvalidInput("window_days", f"give 0 (all time) to 36600 days, not {days!r}")
        if not self.tiers or len(self.tiers) > 20:
            raise InvalidInput("tiers", "give 1 to 20 tiers")
        names: set[str] = set()
        for name, points in self.tiers:
            if not isinstance(name, str) or not name.strip() or len(name) > 40:
                raise InvalidInput("tiers", f"a tier's name must be 1 to 40 characters: {name!r}")
            if name.lower() in names:
                raise InvalidInput("tiers", f"the tier {name!r} is named twice")
            names.add(name.lower())
            if isinstance(points, bool) or not isinstance(points, int) or not 0 < points <= 10**12:
                raise InvalidInput(
                    "tiers", f"the tier {name!r} needs a whole number of points above 0"
                )
        thresholds = [p for _, p in self.tiers]
        if thresholds != sorted(thresholds) or len(set(thresholds)) != len(thresholds):
            raise InvalidInput("tiers", "two tiers cannot share a threshold")

    @property
    def ratio(self) -> Fraction:
        """Points per minor unit (cent), as an exact fraction."""
        return Fraction(str(self.points_per_unit)).limit_denominator(10_000) / 100

    def points(self, amount_minor: int) -> int:
        return math.floor(amount_minor * self.ratio)

    def tier(self, points: int) -> str | None:
        found = None
        for name, threshold in self.tiers:
            if points >= threshold:
                found = name
        return found

    def next_tier(self, points: int) -> tuple[str, int] | None:
        """The next tier up and the points still missing, if there is one."""
        for name, threshold in self.tiers:
            if points < threshold:
                return name, threshold - points
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "points_per_unit": self.points_per_unit,
            "tiers": dict(self.tiers),
            "window_days": self.window_days,
        }


def make_config(
    points_per_unit: Any = DEFAULT_POINTS_PER_UNIT,
    tiers: Any = None,
    window_days: Any = DEFAULT_WINDOW_DAYS,
) -> LoyaltyConfig:
    """A checked configuration; `tiers` maps a name to its threshold in points."""
    given = DEFAULT_TIERS if tiers is None else tiers
    if not isinstance(given, Mapping):
        raise InvalidInput("tiers", "give the tiers as names with their points")
    ordered = tuple(
        sorted(((str(k).strip(), v) for k, v in given.items()), key=lambda t: _sort(t[1]))
    )
    return LoyaltyConfig(points_per_unit, ordered, window_days)


def _sort(points: Any) -> Any:
    return points if isinstance(points, int | float) else 0


def loyalty_config(session: Session) -> LoyaltyConfig:
    """The desk's loyalty settings (their defaults when never changed)."""
    from keepwell.settings import service as settings

    try:
        return make_config(
            settings.get(session, "loyalty.points_per_unit", DEFAULT_POINTS_PER_UNIT),
            settings.get(session, "loyalty.tiers", DEFAULT_TIERS),
            settings.get(session, "loyalty.window_days", DEFAULT_WINDOW_DAYS),
        )
    except InvalidInput as exc:
        raise InvalidInput(f"loyalty.{exc.field}", f"{exc.reason} (the stored setting)") from None


UNSET: Any = object()


def set_loyalty_config(
    session: Session,
    *,
    points_per_unit: float | None = None,
    tiers: Mapping[str, int] | None = None,
    window_days: int | None = None,
) -> LoyaltyConfig:
    """Change the loyalty settings (audited); what is not given stays. Tiers follow at
    the next refresh."""
    from keepwell.settings import service as settings

    current = loyalty_config(session)
    wanted = make_config(
        current.points_per_unit if points_per_unit is None else points_per_unit,
        dict(current.tiers) if tiers is None else tiers,
        current.window_days if window_days is None else window_days,
    )
    for name, value in wanted.to_dict().items():
        settings.put(session, f"loyalty.{name}", value)
    return wanted


# --- the refresh --------------------------------------------------------------------


@dataclass(frozen=True)
class LoyaltyRun:
    day: date
    customers: int  # with points (purchases in the window)
    changes: int  # tier changes recorded
    tiers: dict[str, int] = field(default_factory=dict)  # customers per tier
    rewards_earned: int = 0  # referral rewards earned by a first purchase


_fresh_meta = sa.MetaData()
_fresh = sa.Table(
    "keepwell_loyalty_fresh",
    _fresh_meta,
    sa.Column("customer_id", sa.Integer, primary_key=True),
    sa.Column("points", sa.BigInteger, nullable=False),
    sa.Column("tier", sa.String(40)),
    prefixes=["TEMPORARY"],
)


def refresh(conn: Connection, day: date, config: LoyaltyConfig | None = None) -> LoyaltyRun:
    """Recompute every customer's points and tier as of the end of `day`; record tier
    changes; earn the referral rewards of customers who have bought."""
    from keepwell.referrals.service import earn_rewards

    if config is None:
        with Session(bind=conn) as session:
            config = loyalty_config(session)
    o, s, t = table_of(Order), table_of(LoyaltyStatus), table_of(TierChange)
    end = datetime.combine(day + timedelta(days=1), time(), UTC)
    ratio = config.ratio
    total = sa.cast(sa.func.sum(o.c.amount_minor), sa.BigInteger)
    # whole numbers written into the statement: integer arithmetic on both databases
    points = (total * sa.literal_column(str(ratio.numerator), sa.BigInteger)) // sa.literal_column(
        str(ratio.denominator), sa.BigInteger
    )
    sums = sa.select(o.c.customer_id, points.label("points")).where(o.c.ordered_at < end)
    if config.window_days:
        start = end - timedelta(days=config.window_days)
        sums = sums.where(o.c.ordered_at >= sa.literal(start, UTCDateTime()))
    sums_q = sums.group_by(o.c.customer_id).subquery()
    tier = sa.case(
        *(
            (sums_q.c.points >= threshold, sa.literal(name))
            for name, threshold in reversed(config.tiers)
        ),
        else_=sa.null(),
    )
    moment = clock.now()
    last = conn.execute(sa.select(sa.func.max(t.c.id))).scalar() or 0
    conn.execute(sa.text(f"DROP TABLE IF EXISTS {_fresh.name}"))
    _fresh.create(conn)
    try:
        conn.execute(
            sa.insert(_fresh).from_select(
                ["customer_id", "points", "tier"],
                sa.select(sums_q.c.customer_id, sums_q.c.points, tier),
            )
        )
        f = _fresh
        now = sa.literal(moment, UTCDateTime())
        on = sa.literal(day, sa.Date)
        differs = sa.func.coalesce(s.c.tier, "").op("<>")(sa.func.coalesce(f.c.tier, ""))
        columns = ["customer_id", "from_tier", "to_tier", "points", "reached_on", "recorded_at"]
        conn.execute(
            sa.insert(t).from_select(
                columns,
                sa.select(f.c.customer_id, s.c.tier, f.c.tier, f.c.points, on, now)
                .select_from(f.outerjoin(s, s.c.customer_id == f.c.customer_id))
                .where(differs)
                .order_by(f.c.customer_id),
            )
        )
        gone = ~sa.exists().where(f.c.customer_id == s.c.customer_id)
        conn.execute(
            sa.insert(t).from_select(
                columns,
                sa.select(s.c.customer_id, s.c.tier, sa.null(), sa.literal(0), on, now)
                .where(s.c.tier.is_not(None), gone)
                .order_by(s.c.customer_id),
            )
        )
        conn.execute(sa.delete(s).where(gone))
        conn.execute(
            sa.update(s)
            .where(
                s.c.customer_id == f.c.customer_id,
                sa.or_(s.c.points != f.c.points, differs),
            )
            .values(
                points=f.c.points,
                tier=f.c.tier,
                tier_since=sa.case((differs, on), else_=s.c.tier_since),
                updated_on=on,
            )
        )
        conn.execute(
            sa.insert(s).from_select(
                ["customer_id", "points", "tier", "tier_since", "updated_on"],
                sa.select(f.c.customer_id, f.c.points, f.c.tier, on, on).where(
                    ~sa.exists().where(s.c.customer_id == f.c.customer_id)
                ),
            )
        )
    finally:
        _fresh.drop(conn)
    counts: dict[str, int] = {
        str(name): int(n)
        for name, n in conn.execute(
            sa.select(s.c.tier, sa.func.count()).where(s.c.tier.is_not(None)).group_by(s.c.tier)
        )
    }
    customers = conn.execute(sa.select(sa.func.count()).select_from(s)).scalar_one()
    changed = conn.execute(
        sa.select(sa.func.count()).select_from(t).where(t.c.id > last)
    ).scalar_one()
    earned = earn_rewards(conn)
    return LoyaltyRun(day, int(customers), int(changed), counts, earned)


# --- reading ------------------------------------------------------------------------


@dataclass(frozen=True)
class Loyalty:
    """A customer's loyalty as of the last refresh, for the record and the API."""

    points: int
    tier: str | None
    tier_since: date | None
    next_tier: str | None
    points_to_next: int | None
    updated_on: date | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "points": self.points,
            "tier": self.tier,
            "tier_since": self.tier_since,
            "next_tier": self.next_tier,
            "points_to_next": self.points_to_next,
            "updated_on": self.updated_on,
        }


def loyalty_of(session: Session, customer_id: int) -> Loyalty:
    row = session.get(LoyaltyStatus, customer_id)
    points = row.points if row is not None else 0
    following = loyalty_config(session).next_tier(points)
    return Loyalty(
        points=points,
        tier=row.tier if row is not None else None,
        tier_since=row.tier_since if row is not None and row.tier else None,
        next_tier=following[0] if following else None,
        points_to_next=following[1] if following else None,
        updated_on=row.updated_on if row is not None else None,
    )


def tier_changes_since(
    session: Session,
    since: datetime,
    *,
    to_tier: str | None = None,
    limit: int | None = None,
) -> list[TierChange]:
    """Tier changes recorded after `since` (oldest first): a playbook remembers the
    `recorded_at` of the last one it acted on and asks again from there. `to_tier`
    keeps those reaching one tier (e.g. "Gold"); `to_tier` None on a row means the
    customer left every tier."""
    if since.tzinfo is None:
        raise InvalidInput("since", "give a time zone (or UTC)")
    q = sa.select(TierChange).where(TierChange.recorded_at > since)
    if to_tier is not None:
        q = q.where(TierChange.to_tier == to_tier)
    q = q.order_by(TierChange.recorded_at, TierChange.id)
    if limit is not None:
        check_limit(limit, MAX_LIMIT)
        q = q.limit(limit)
    return list(session.scalars(q))


def tier_counts(session: Session) -> dict[str, int]:
    rows = session.execute(
        sa.select(LoyaltyStatus.tier, sa.func.count())
        .where(LoyaltyStatus.tier.is_not(None))
        .group_by(LoyaltyStatus.tier)
    )
    return {str(tier): int(n) for tier, n in rows}


def start_of(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)
