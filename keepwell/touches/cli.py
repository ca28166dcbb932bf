"""`keepwell log`: record an interaction with a customer."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import typer

from keepwell import clikit

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


@clikit.on_desk
def log(
    session: Session,
    customer: clikit.CustomerArg,
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
    by: Annotated[
        clikit.Member, typer.Option("--by", metavar="EMAIL", help="Who spoke (a member).")
    ] = None,
    at: Annotated[
        datetime | None, clikit.moment("--at", help="When (ISO time; default now).")
    ] = None,
    as_json: clikit.JsonOpt = False,
) -> clikit.Shown:
    """Log an interaction; it reschedules the customer's next check-in.

    --json prints the interaction, as POST /api/interactions answers."""
    from keepwell.touches.schemas import InteractionPublic
    from keepwell.touches.service import log_touch

    touch = log_touch(
        session,
        customer,
        channel=channel,
        summary=summary,
        member=by,
        direction=direction,
        sentiment=sentiment,
        happened_at=at,
    )
    if as_json:
        return clikit.record_json(InteractionPublic.model_validate(touch))
    next_at = customer.next_check_in_at
    checked = f"; next check-in {next_at:%Y-%m-%d}" if next_at else ""
    return f"Logged {channel} with {customer.name or customer.id}{checked}"
