"""`keepwell loyalty …`."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Annotated, Any

import typer
from rich.table import Table

from keepwell import clock
from keepwell.clikit import Database, JsonOpt, errors, out, print_json, say, session_for

loyalty_app = typer.Typer(help="Loyalty points and tiers from purchases.", no_args_is_help=True)


def _day(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is not a date (YYYY-MM-DD)", param_hint=option
        ) from None


@loyalty_app.command("refresh")
def loyalty_refresh(
    day: Annotated[
        str | None, typer.Option("--date", help="As of this day (default today).")
    ] = None,
    database: Database = None,
    as_json: JsonOpt = False,
) -> None:
    """Recompute every customer's points and tier; record tier changes (for playbooks)."""
    from dataclasses import asdict

    from keepwell.loyalty.service import refresh

    when = _day(day, "--date") or clock.today()
    with errors(), session_for(database) as session:
        run = refresh(session.connection(), when)
    if as_json:
        print_json(asdict(run))
        return
    tiers = ", ".join(f"{name} {n:,}" for name, n in sorted(run.tiers.items())) or "none"
    say(
        f"{run.customers:,} customers with points; tiers: {tiers}; {run.changes:,} tier changes; "
        f"{run.rewards_earned:,} referral rewards earned."
    )


@loyalty_app.command("show")
def loyalty_show(
    customer: Annotated[str, typer.Argument(help="The customer: #id, external id or e-mail.")],
    database: Database = None,
) -> None:
    """A customer's points, tier and the next tier."""
    from keepwell.customers.service import find_customer
    from keepwell.loyalty.service import loyalty_of

    with errors(), session_for(database) as session:
        found = loyalty_of(session, find_customer(session, customer).id)
    print_json(found.to_dict())


@loyalty_app.command("changes")
def loyalty_changes(
    since: Annotated[
        str | None, typer.Option("--since", help="Recorded after this day or time (default today).")
    ] = None,
    tier: Annotated[str | None, typer.Option("--tier", help="Only reaching this tier.")] = None,
    limit: Annotated[int, typer.Option("--limit", help="At most this many (1-1000).")] = 100,
    database: Database = None,
    as_json: JsonOpt = False,
) -> None:
    """Tier changes recorded since a moment, oldest first."""
    from keepwell.loyalty.service import tier_changes_since

    try:
        moment = (
            datetime.fromisoformat(since.strip())
            if since
            else datetime.combine(clock.today(), time(), UTC)
        )
    except ValueError:
        raise typer.BadParameter(f"{since!r} is not a date or time", param_hint="--since") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    with errors(), session_for(database) as session:
        rows: list[dict[str, Any]] = [
            {
                "id": c.id,
                "customer_id": c.customer_id,
                "from_tier": c.from_tier,
                "to_tier": c.to_tier,
                "points": c.points,
                "reached_on": c.reached_on.isoformat(),
                "recorded_at": c.recorded_at.isoformat(),
            }
            for c in tier_changes_since(session, moment, to_tier=tier, limit=limit)
        ]
    if as_json:
        print_json(rows)
        return
    table = Table("customer", "from", "to", "points", "on")
    for r in rows:
        table.add_row(
            f"#{r['customer_id']}",
            r["from_tier"] or "—",
            r["to_tier"] or "—",
            f"{r['points']:,}",
            r["reached_on"],
        )
    out.print(table)


@loyalty_app.command("settings")
def loyalty_settings(
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
    database: Database = None,
) -> None:
    """Show or change how points and tiers are counted (tiers follow at the next refresh)."""
    from keepwell.loyalty.service import loyalty_config, set_loyalty_config

    tiers: dict[str, int] | None = None
    if tier:
        tiers = {}
        for item in tier:
            name, _, points = item.partition("=")
            if not name.strip() or not points.strip().isdigit():
                raise typer.BadParameter(
                    f"{item!r}: give NAME=POINTS, e.g. Gold=1000", param_hint="--tier"
                )
            tiers[name.strip()] = int(points)
    with errors(), session_for(database) as session:
        if points_per_unit is None and tiers is None and window_days is None:
            config = loyalty_config(session)
        else:
            config = set_loyalty_config(
                session, points_per_unit=points_per_unit, tiers=tiers, window_days=window_days
            )
    print_json(config.to_dict())
