"""The output models: what the API answers about orders."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from keepwell.web.schemas import Output


class OrderPublic(Output):
    id: int
    external_id: str
    customer_id: int
    ordered_at: datetime
    amount_minor: int
    currency: str
    quantity: int
    product: str | None
    description: str | None
    created_at: datetime


class OrderBatchResult(BaseModel):
    created: int
    orders: list[OrderPublic]
