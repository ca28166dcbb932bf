"""/api/agenda: one member's day."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from keepwell import clock
from keepwell.agenda.schemas import AgendaPublic
from keepwell.agenda.service import agenda_for
from keepwell.web.deps import DbSession, Me, member_by_ref, router
from keepwell.web.schemas import Day

agenda = router("agenda")


@agenda.get("/agenda", response_model=AgendaPublic)
def get_agenda(
    session: DbSession,
    me: Me,
    owner: Annotated[
        str | None,
        Query(max_length=320, description="Whose day: member id or e-mail (default: yours)."),
    ] = None,
    day: Annotated[
        Day | None, Query(alias="date", description="YYYY-MM-DD (default today).")
    ] = None,
    days_ahead: Annotated[int, Query(ge=0, le=60, description="Special dates this far ahead.")] = 7,
) -> AgendaPublic:
    """The day's agenda: overdue and due promises, cases, due tasks, customers gone quiet
    and special dates coming up — each with why now and what to mention."""
    member = member_by_ref(session, owner, "owner") or me
    found = agenda_for(session, member, day or clock.today(), dates_ahead=days_ahead)
    return AgendaPublic.model_validate(found.to_dict())
