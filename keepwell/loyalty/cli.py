"""`keepwell loyalty …`."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated

import typer

from keepwell import clikit, clock

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

loyalty_app = typer.Typer(help="Loyalty points and tiers from purchases.", no_args_is_help=True)


@loyalty_app.command("refresh")
@clikit.on_desk
def loyalty_refresh(
    session: Session,
    when: Annotated[
        date | None, clikit.day("--date", help="As of this day; default: today")
    ] = None,
    as_json: clikit.JsonOpt = False,
) -> clikit.Shown:
    """Recompute every customer's points and tier; record tier changes (for playbooks).

    --json prints what POST /api/loyalty/refresh answers."""
    from keepwell.loyalty.schemas import RefreshPublic
    from keepwell.loyalty.service import refresh

    run = RefreshPublic.model_validate(
        refresh(session.connection(), when or clock.today()), from_attributes=True
    )
    if as_json:
        return clikit.record_json(run)
    tiers = ", ".join(f"{name} {n:,}" for name, n in sorted(run.tiers.items())) or "none"
    return (
        f"{run.customers:,} customers with points; tiers: {tiers}; {run.changes:,} tier changes; "
        f"{run.rewards_earned:,} referral rewards earned."
    )


@loyalty_app.command("show")
@clikit.on_desk
def loyalty_show(session: Session, customer: clikit.CustomerArg) -> clikit.Shown:
    """A customer's points, tier and the next tier (JSON, as
    GET /api/customers/ID/loyalty answers)."""
    from keepwell.loyalty.schemas import LoyaltyPublic
    from keepwell.loyalty.service import loyalty_of

    return clikit.record_json(
        LoyaltyPublic(customer_id=customer.id, **loyalty_of(session, customer.id).to_dict())
    )


@loyalty_app.command("changes")
@clikit.on_desk
def loyalty_changes(
    session: Session,
    since: Annotated[
        datetime | None,
        clikit.moment("--since", help="Recorded after this day or time (default today)."),
    ] = None,
    tier: Annotated[str | None, typer.Option("--tier", help="Only reaching this tier.")] = None,
    limit: Annotated[int, clikit.up_to(1000)] = 100,
    as_json: clikit.JsonOpt = False,
) -> clikit.Shown:
    """Tier changes recorded since a moment, oldest first.

    --json prints what GET /api/loyalty/tier-changes answers."""
    from keepwell.loyalty.schemas import TierChangePublic
    from keepwell.loyalty.service import start_of, tier_changes_since

    after = since or start_of(clock.today())
    found = tier_changes_since(session, after, to_tier=tier, limit=limit)
    rows = [TierChangePublic.model_validate(c, from_attributes=True) for c in found]
    return clikit.listing(
        rows,
        (
            ("customer", lambda c: f"#{c.customer_id}"),
            ("from", lambda c: c.from_tier or "—"),
            ("to", lambda c: c.to_tier or "—"),
            ("points", lambda c: f"{c.points:,}"),
            ("on", lambda c: c.reached_on),
        ),
        as_json=as_json,
    )


@loyalty_app.command("settings")
@clikit.on_desk
def loyalty_settings(
    session: Session,
    points_per_unit: Annotated[
        float | None, typer.Option("--points-per-unit", help="Points per currency unit spent.")
    ] = None,
    tier: Annotated[
        list[str] | None,
        typer.Option("--tier", help="NAME=POINTS (repeat; replaces every tier)."),
    ] = None,
    window_days: Annotated[
        int | None, typer.Option("--window-days", help="Purchases of the last N days (0: all).")
    ] = None,
) -> clikit.Shown:
    """Show or change how points and tiers are counted (tiers follow at the next refresh;
    JSON, as GET /api/loyalty/settings answers)."""
    from keepwell.loyalty.schemas import LoyaltySettingsPublic
    from keepwell.loyalty.service import loyalty_config, set_loyalty_config

    tiers = _tiers(tier) if tier else None
    if points_per_unit is None and tiers is None and window_days is None:
        config = loyalty_config(session)
    else:
        config = set_loyalty_config(
            session, points_per_unit=points_per_unit, tiers=tiers, window_days=window_days
        )
    return clikit.record_json(LoyaltySettingsPublic.model_validate(config.to_dict()))


def _tiers(pairs: list[str]) -> dict[str, int]:
    tiers = {}
    for item in pairs:
        name, _, points = item.partition("=")
        if not name.strip() or not points.strip().isdigit():
            raise typer.BadParameter(
                f"{item!r}: give NAME=POINTS, e.g. Gold=1000", param_hint="--tier"
            )
        tiers[name.strip()] = int(points)
    return tiers
