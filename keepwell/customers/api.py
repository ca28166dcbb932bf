"""/api/customers (list, search, get, create, change, erase; the record) and special dates."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Depends, Query, Request, Response
from pydantic import Field
from sqlalchemy.orm import Session

from keepwell import clock
from keepwell.customers import service, special_dates
from keepwell.customers.models import ContactChannel as Channel
from keepwell.customers.models import Customer
from keepwell.customers.record import customer_record
from keepwell.customers.schemas import (
    CustomerPage,
    CustomerPublic,
    CustomerRecordPublic,
    SpecialDatePublic,
    UpcomingPublic,
)
from keepwell.errors import MAX_OFFSET
from keepwell.web.deps import AdminActor, DbSession, Me, router
from keepwell.web.records import (
    FromQuery,
    Keywords,
    ListQuery,
    MemberRef,
    api_list,
    check_sent_version,
    keywords,
    listed,
    locked,
    named,
    versioned,
)
from keepwell.web.schemas import Day, Id, Input, Long, Moment, Name, Short, text

Tag = Annotated[str, text(100)]
Email = Annotated[str, text(320)]
Cadence = Annotated[int, Field(ge=1, le=3660)]


class CustomerCreate(Input):
    name: Name = ""
    external_id: Short | None = None
    email: Email | None = None
    phone: Annotated[str, text(64)] | None = None
    company: Name | None = None
    segment: Annotated[str, text(100)] | None = None
    tags: Annotated[list[Tag], Field(default_factory=list, max_length=50)]
    owner_id: Id | None = None
    first_seen: Moment | None = None
    personal_notes: Long | None = None
    preferred_channel: Channel | None = None
    language: Annotated[str, text(35)] | None = None
    cultural_notes: Long | None = None
    birthday: Day | None = None
    marketing_consent: bool = False
    opted_out: bool = False
    cadence_days: Cadence | None = None


class CustomerUpdate(CustomerCreate):
    """Only the fields sent change; null clears one. `version` (or If-Match) guards
    against overwriting someone else's change."""

    version: Id | None = None
    reason: Short = ""  # why the owner changed, when it did


customers = router("customers")
LockedCustomer = Annotated[Customer, Depends(locked(Customer, "customer"))]


class CustomerQuery(ListQuery[service.CustomerFilter]):
    owner_id: Annotated[Id | None, named("owner", "The owner's member id.")] = None
    segment: Annotated[str | None, Field(max_length=100)] = None
    search: Annotated[
        str | None,
        Field(
            alias="q",
            max_length=300,
            description="An external id or e-mail (exactly), or part of the name.",
        ),
    ] = None
    quiet: Annotated[bool, Field(description="Only customers past their check-in.")] = False
    stage: Annotated[
        str | None, Field(max_length=20, description="Lifecycle stage at the latest scoring.")
    ] = None
    health_min: Annotated[int | None, Field(ge=0, le=100)] = None
    health_max: Annotated[int | None, Field(ge=0, le=100)] = None
    sort: Literal["id", "name", "-revenue", "-last_order", "health"] = "id"
    after: Annotated[Id | None, Field(description="Continue after this customer id.")] = None
    offset: Annotated[int, Field(ge=0, le=MAX_OFFSET)] = 0
    limit: Annotated[int, Field(ge=1, le=service.MAX_LIMIT)] = 50


def _public(customer: Customer) -> CustomerPublic:
    return CustomerPublic.model_validate(customer)


@customers.get("/customers", response_model=CustomerPage)
def list_customers(session: DbSession, query: FromQuery[CustomerQuery]) -> CustomerPage:
    """Customers, filtered and sorted; a page at a time (sorted by id, `next_after`
    continues; any sort, `offset`)."""
    found = listed(session, query, service.list_customers, CustomerPublic)
    more = len(found) == query.limit and query.sort == "id"
    return CustomerPage(items=found, next_after=found[-1].id if more else None)


@customers.get("/customers/{customer_id}", response_model=CustomerPublic)
def get_customer(customer_id: Id, session: DbSession, response: Response) -> CustomerPublic:
    """A customer's profile and derived figures; the ETag is its version."""
    customer = service.get_customer(session, customer_id)
    return versioned(response, customer, _public(customer))


@customers.post("/customers", response_model=CustomerPublic, status_code=201)
def create_customer(
    data: CustomerCreate, session: DbSession, me: Me, response: Response
) -> CustomerPublic:
    """Add a customer (a name, an e-mail or an external id at least)."""
    customer = service.create_customer(session, data.model_dump(exclude_unset=True), by=me)
    return versioned(response, customer, _public(customer))


@customers.patch("/customers/{customer_id}", response_model=CustomerPublic)
def update_customer(
    customer: LockedCustomer, data: CustomerUpdate, request: Request, session: DbSession, me: Me
) -> CustomerPublic:
    """Change a customer's fields; 409 when `version`/If-Match is not the stored one."""
    check_sent_version(request, "customer", customer, data.version)
    changes = data.model_dump(exclude_unset=True, exclude={"version", "reason"})
    service.update_customer(session, customer, changes, by=me, reason=data.reason)
    return _public(customer)


@customers.delete("/customers/{customer_id}", status_code=204)
def delete_customer(customer: LockedCustomer, session: DbSession, _: AdminActor) -> Response:
    """Erase a customer and everything recorded about them (privacy; admins only)."""
    service.delete_customer(session, customer)
    return Response(status_code=204)


@customers.get("/customers/{customer_id}/record", response_model=CustomerRecordPublic)
def get_record(
    customer_id: Id, session: DbSession, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> CustomerRecordPublic:
    """Profile, owner, special dates and the timeline (orders, interactions, promises,
    cases, tasks), newest first — what `keepwell show` prints."""
    record = customer_record(session, service.get_customer(session, customer_id), limit=limit)
    return CustomerRecordPublic.model_validate(record.to_dict())


# --- special dates -----------------------------------------------------------------

SpecialKind = Literal["anniversary", "renewal", "founding", "custom"]


class SpecialDateCreate(Input):
    kind: SpecialKind
    on_date: Day
    label: Short = ""
    yearly: bool = True
    gesture: Short | None = None  # default: one that suits the kind


@customers.get("/customers/{customer_id}/special-dates", response_model=list[SpecialDatePublic])
def list_special_dates(customer_id: Id, session: DbSession) -> list[SpecialDatePublic]:
    """The customer's special dates, in calendar order (the birthday is on the customer)."""
    customer = service.get_customer(session, customer_id)
    found = special_dates.list_special_dates(session, customer)
    return [SpecialDatePublic.model_validate(d) for d in found]


@customers.post(
    "/customers/{customer_id}/special-dates", response_model=SpecialDatePublic, status_code=201
)
def add_special_date(
    customer_id: Id, data: SpecialDateCreate, session: DbSession
) -> SpecialDatePublic:
    """Remember a date with the customer: yearly, or once."""
    row = special_dates.add_special_date(
        session,
        service.get_customer(session, customer_id),
        kind=data.kind,
        on_date=data.on_date,
        label=data.label,
        yearly=data.yearly,
        gesture=data.gesture,
    )
    return SpecialDatePublic.model_validate(row)


@customers.delete("/special-dates/{special_date_id}", status_code=204)
def delete_special_date(special_date_id: Id, session: DbSession) -> Response:
    """Forget a special date."""
    special_dates.delete_special_date(session, special_date_id)
    return Response(status_code=204)


class UpcomingQuery(ListQuery[Keywords]):
    """Birthdays, anniversaries as a customer and special dates coming up, soonest first."""

    days_ahead: Annotated[int, Field(alias="days", ge=0, le=special_dates.MAX_DAYS_AHEAD)] = 14
    member_id: Annotated[MemberRef, named("owner", "The owner's member id or e-mail.")] = None
    limit: Annotated[int, Field(ge=1, le=special_dates.MAX_LIMIT)] = 200

    def filter(self, session: Session, **fixed: Any) -> Keywords:
        """From today (the desk's clock)."""
        return super().filter(session, today=clock.today(), **fixed)


api_list(
    customers, "/special-dates/upcoming", UpcomingQuery, keywords(special_dates.upcoming),
    UpcomingPublic,
)  # fmt: skip
