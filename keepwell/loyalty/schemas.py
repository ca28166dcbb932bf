"""The output models: what the API answers about points, tiers and their changes."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel


class LoyaltyPublic(BaseModel):
    customer_id: int
    points: int
    tier: str | None
    tier_since: date | None
    next_tier: str | None
    points_to_next: int | None
    updated_on: date | None


class TierChangePublic(BaseModel):
    id: int
    customer_id: int
    from_tier: str | None
    to_tier: str | None
    points: int
    reached_on: date
    recorded_at: datetime


class LoyaltySettingsPublic(BaseModel):
    points_per_unit: float
    tiers: dict[str, int]
    window_days: int


class RefreshPublic(BaseModel):
    day: date
    customers: int
    changes: int
    tiers: dict[str, int]
    rewards_earned: int
