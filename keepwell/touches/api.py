"""/api/interactions: log one, list them (TouchFilter)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from keepwell.touches import service
from keepwell.touches.models import Channel, Direction, Sentiment
from keepwell.touches.schemas import (
    InteractionPublic,
)
from keepwell.web.deps import DbSession, Me, customer_by_id, member_by_id, router
from keepwell.web.records import ListQuery, api_list, named
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


class InteractionQuery(ListQuery[service.TouchFilter]):
    """Interactions, newest first."""

    customer_id: Annotated[Id | None, named("customer")] = None
    member_id: Annotated[Id | None, named("member")] = None
    channel: Channel | None = None
    since: Annotated[Moment | None, Field(description="Happened at or after this time.")] = None
    limit: Annotated[int, Field(ge=1, le=500)] = 50


api_list(
    interactions,
    "/interactions",
    InteractionQuery,
    service.list_touches,
    InteractionPublic,
    name="list_interactions",
)


@interactions.post("/interactions", response_model=InteractionPublic, status_code=201)
def log_interaction(data: InteractionCreate, session: DbSession, me: Me) -> InteractionPublic:
    """Log an interaction: it moves the customer's last contact and next check-in."""
    member = member_by_id(session, data.member_id, "member_id") or me
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
