"""/api/loyalty: a customer's points and tier, tier changes, the refresh and settings.

Readers read; admins refresh and change the settings (audited)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query
from pydantic import Field

from keepwell import clock
from keepwell.loyalty import service
from keepwell.loyalty.schemas import (
    LoyaltyPublic,
    LoyaltySettingsPublic,
    RefreshPublic,
    TierChangePublic,
)
from keepwell.web.deps import AdminActor, DbSession, router
from keepwell.web.schemas import Day, Id, Input, Moment, text

TierName = Annotated[str, text(40, min_length=1)]


class LoyaltySettings(Input):
    points_per_unit: Annotated[float, Field(gt=0, le=1000)] | None = None
    tiers: (
        Annotated[
            dict[TierName, Annotated[int, Field(ge=1, le=10**12)]],
            Field(min_length=1, max_length=20),
        ]
        | None
    ) = None
    window_days: Annotated[int, Field(ge=0, le=36_600)] | None = None


class RefreshInput(Input):
    day: Day | None = None  # default: today


loyalty = router("loyalty")


@loyalty.get("/customers/{customer_id}/loyalty", response_model=LoyaltyPublic)
def customer_loyalty(customer_id: Id, session: DbSession) -> LoyaltyPublic:
    """The customer's points and tier as of the last refresh, and the next tier."""
    from keepwell.customers.service import get_customer

    get_customer(session, customer_id)
    found = service.loyalty_of(session, customer_id)
    return LoyaltyPublic(customer_id=customer_id, **found.to_dict())


@loyalty.get("/loyalty/tier-changes", response_model=list[TierChangePublic])
def tier_changes(
    session: DbSession,
    since: Annotated[
        Moment | None,
        Query(description="Recorded after this time (ISO, with zone); default: today's start."),
    ] = None,
    tier: Annotated[str | None, Query(max_length=40, description="Reaching this tier.")] = None,
    limit: Annotated[int, Query(ge=1, le=service.MAX_LIMIT)] = 100,
) -> list[TierChangePublic]:
    """Tier changes recorded after `since`, oldest first (`to_tier` null: left every tier)."""
    moment = since if since is not None else service.start_of(clock.today())
    rows = service.tier_changes_since(session, moment, to_tier=tier, limit=limit)
    return [TierChangePublic.model_validate(r, from_attributes=True) for r in rows]


@loyalty.post("/loyalty/refresh", response_model=RefreshPublic)
def refresh(
    session: DbSession, _: AdminActor, data: RefreshInput = RefreshInput()
) -> RefreshPublic:
    """Recompute every customer's points and tier now (admins; `keepwell serve` does it
    once a day too); tier changes are recorded."""
    run = service.refresh(session.connection(), data.day or clock.today())
    return RefreshPublic(
        day=run.day, customers=run.customers, changes=run.changes, tiers=run.tiers,
        rewards_earned=run.rewards_earned,
    )  # fmt: skip


@loyalty.get("/loyalty/settings", response_model=LoyaltySettingsPublic)
def get_settings(session: DbSession) -> LoyaltySettingsPublic:
    """Points per currency unit, tiers with their thresholds, the window in days."""
    return LoyaltySettingsPublic.model_validate(service.loyalty_config(session).to_dict())


@loyalty.put("/loyalty/settings", response_model=LoyaltySettingsPublic)
def put_settings(data: LoyaltySettings, session: DbSession, _: AdminActor) -> LoyaltySettingsPublic:
    """Change the loyalty settings (admins); tiers follow at the next refresh."""
    config = service.set_loyalty_config(
        session,
        points_per_unit=data.points_per_unit,
        tiers=data.tiers,
        window_days=data.window_days,
    )
    return LoyaltySettingsPublic.model_validate(config.to_dict())
