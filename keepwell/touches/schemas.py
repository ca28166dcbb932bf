"""The output models: what the API answers about interactions."""

from __future__ import annotations

from datetime import datetime

from keepwell.web.schemas import Output


class InteractionPublic(Output):
    id: int
    customer_id: int
    member_id: int | None
    channel: str
    direction: str
    happened_at: datetime
    summary: str
    sentiment: str | None
    promise_id: int | None
    case_id: int | None
    created_at: datetime
