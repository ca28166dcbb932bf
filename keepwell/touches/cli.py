"""`keepwell log`: record an interaction with a customer."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from keepwell.clikit import Database, JsonOpt, errors, print_json, say, session_for


def log(
    customer: Annotated[str, typer.Argument(help="The customer: #id, external id or e-mail.")],
    channel: Annotated[
        str,
        typer.Option("--channel", help="call, email, meeting, chat, note, social, letter, gift"),
    ] = "call",
    summary: Annotated[str, typer.Option("--summary", "-s", help="What was said.")] = "",
    direction: Annotated[
        str, typer.Option("--direction", help="outbound (we reached out) or inbound.")
    ] = "outbound",
    sentiment: Annotated[
        str | None, typer.Option("--sentiment", help="positive, neutral or negative.")
    ] = None,
    by: Annotated[str | None, typer.Option("--by", help="Who spoke (member e-mail).")] = None,
    at: Annotated[str | None, typer.Option("--at", help="When (ISO time; default now).")] = None,
    database: Database = None,
    as_json: JsonOpt = False,
) -> None:
    """Log an interaction; it reschedules the customer's next check-in."""
    from keepwell.accounts.service import find_member
    from keepwell.customers.service import find_customer
    from keepwell.touches.service import log_touch

    when = None
    if at:
        try:
            when = datetime.fromisoformat(at)
        except ValueError:
            raise typer.BadParameter(f"{at!r} is not an ISO time", param_hint="--at") from None
        when = when if when.tzinfo else when.replace(tzinfo=UTC)
    with errors(), session_for(database) as session:
        found = find_customer(session, customer)
        member = find_member(session, by) if by else None
        touch = log_touch(
            session,
            found,
            channel=channel,
            summary=summary,
            member=member,
            direction=direction,
            sentiment=sentiment,
            happened_at=when,
        )
        result = {
            "touch": touch.id,
            "customer": found.id,
            "next_check_in_at": found.next_check_in_at,
        }
    if as_json:
        print_json(result)
    else:
        next_at = result["next_check_in_at"]
        say(
            f"Logged {channel} with {found.name or found.id}; next check-in {next_at:%Y-%m-%d}"
            if next_at
            else f"Logged {channel}"
        )
