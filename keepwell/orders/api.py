"""/api/orders (one, or a batch) and /api/customers/{id}/orders."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from keepwell.customers.service import get_customer
from keepwell.orders import service
from keepwell.orders.schemas import (
    OrderBatchResult,
    OrderPublic,
)
from keepwell.orders.service import NewOrder
from keepwell.web.deps import DbSession, router
from keepwell.web.records import FromQuery, ListQuery
from keepwell.web.schemas import Id, Input, Long, Moment, Name, Short, text


class OrderCreate(Input):
    customer_id: Id
    ordered_at: Moment
    amount_minor: Annotated[int, Field(ge=0, le=service.MAX_AMOUNT_MINOR)]
    currency: Annotated[str, text(8, min_length=1)] = "USD"
    quantity: Annotated[int, Field(ge=0, le=service.MAX_QUANTITY)] = 1
    product: Name | None = None
    description: Long | None = None
    external_id: Short | None = None  # the shop's order id (made up when missing)

    def new(self) -> NewOrder:
        return NewOrder(**self.model_dump())


class OrderBatch(Input):
    orders: Annotated[list[OrderCreate], Field(min_length=1, max_length=service.MAX_BATCH)]


orders = router("orders")


class OrderQuery(ListQuery[service.OrderFilter]):
    before: Annotated[Moment | None, Field(description="Orders placed before this time.")] = None
    limit: Annotated[int, Field(ge=1, le=service.MAX_LIMIT)] = 50


@orders.get("/customers/{customer_id}/orders", response_model=list[OrderPublic])
def list_orders(
    customer_id: Id, session: DbSession, query: FromQuery[OrderQuery]
) -> list[OrderPublic]:
    """A customer's orders, newest first."""
    filters = query.filter(session, customer_id=get_customer(session, customer_id).id)
    return [OrderPublic.model_validate(o) for o in service.list_orders(session, filters)]


@orders.post("/orders", response_model=OrderPublic, status_code=201)
def create_order(data: OrderCreate, session: DbSession) -> OrderPublic:
    """Record an order; the customer's order count, revenue and dates follow."""
    (order,) = service.create_orders(session, [data.new()])
    return OrderPublic.model_validate(order)


@orders.post("/orders/bulk", response_model=OrderBatchResult, status_code=201)
def create_orders(data: OrderBatch, session: DbSession) -> OrderBatchResult:
    """Record up to 1,000 orders at once: all of them, or none (the refused one is named
    `orders.N.field`)."""
    created = service.create_orders(session, [o.new() for o in data.orders])
    return OrderBatchResult(
        created=len(created), orders=[OrderPublic.model_validate(o) for o in created]
    )
