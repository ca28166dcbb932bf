"""/api/interactions: log one, list them (TouchFilter)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from keepwell.touches import service
from keepwell.touches.models import Channel, Direction, Sentiment
from keepwell.touches.schemas import InteractionPublic
from keepwell.web.deps import (
    CurrentActor,
    DbSession,
    acting_member,
    customer_by_id,
    member_by_id,
    router,
)
from keepwell.web.schemas import Id, Input, Moment, text


class InteractionCreate(Input):
    customer_id: Id
    channel: Channel = "call"
    summary: Annotated[str, text(service.MAX_SUMMARY)] = ""
    direction: Direction = "outbound"
    sentiment: Sentiment | None = None
    happened_at: Moment | None = None  # default: now
    member_id: Id | None = None  # who spoke; default: you


interactions = router("interactions")


@interactions.get("/interactions", response_model=list[InteractionPublic])
def list_interactions(
    session: DbSession,
    customer: Id | None = None,
    member: Id | None = None,
    channel: Channel | None = None,
    since: Annotated[Moment | None, Query(description="Happened at or after this time.")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[InteractionPublic]:
    """Interactions, newest first."""
    filters = service.TouchFilter(
        customer_id=customer, member_id=member, channel=channel, since=since, limit=limit
    )
    return [InteractionPublic.model_validate(t) for t in service.list_touches(session, filters)]


@interactions.post("/interactions", response_model=InteractionPublic, status_code=201)
def log_interaction(
    data: InteractionCreate, session: DbSession, actor: CurrentActor
) -> InteractionPublic:
    """Log an interaction: it moves the customer's last contact and next check-in."""
    member = member_by_id(session, data.member_id, "member_id") or acting_member(session, actor)
    touch = service.log_touch(
        session,
        customer_by_id(session, data.customer_id),
        channel=data.channel,
        summary=data.summary,
        member=member,
        direction=data.direction,
        sentiment=data.sentiment,
        happened_at=data.happened_at,
    )
    return InteractionPublic.model_validate(touch)
