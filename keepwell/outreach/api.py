"""/api/outreach: the outbox, drafts and notes, resources, calendar feeds; and the two
public routes a customer's or a calendar app's link opens: /u/{token} (unsubscribe) and
/ics/{token}.ics (a member's calendar)."""

from __future__ import annotations

import html
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import Field

from keepwell import clock
from keepwell.errors import InvalidInput, NotFound
from keepwell.outreach import calendar, mail, service
from keepwell.outreach.models import ResourceKind, Status
from keepwell.outreach.schemas import (
    DraftPublic,
    FeedUrl,
    MessagePublic,
    NoteResult,
    PassedOn,
    ResourcePublic,
)
from keepwell.web.deps import DbSession, Me, RetryingRoute, admin, customer_by_id, router, runtime
from keepwell.web.headers import PLAIN_PAGE_POLICY
from keepwell.web.records import ListQuery, api_list, named
from keepwell.web.schemas import Day, Id, Input, text

outreach = router("outreach")


class DraftInput(Input):
    customer_id: Id | None = None
    segment: Annotated[str, text(100, min_length=1)] | None = None
    start: Day
    end: Day


class NoteInput(Input):
    customer_id: Id
    subject: Annotated[str, text(300, min_length=1)]
    body: Annotated[str, text(20_000, min_length=1)]


class ResourceInput(Input):
    title: Annotated[str, text(300, min_length=1)]
    url: Annotated[str, text(2000, min_length=1)]
    topics: Annotated[list[Annotated[str, text(50)]], Field(max_length=20)] = Field(
        default_factory=list
    )
    kind: ResourceKind = "article"
    product: Annotated[str, text(300)] | None = None
    published_on: Day | None = None


class MessageQuery(ListQuery[mail.MessageFilter]):
    """The outbox, newest first (`status=failed`: what could not be sent, and why;
    `status=unconfirmed`: what the server may have accepted, with its Message-ID)."""

    status: Status | None = None
    customer_id: Annotated[Id | None, named("customer")] = None
    limit: Annotated[int, Field(ge=1, le=mail.MAX_LIMIT)] = 50


api_list(outreach, "/outreach/messages", MessageQuery, mail.list_messages, MessagePublic)


@outreach.post("/outreach/messages/{message_id}/retry", response_model=MessagePublic)
def retry_message(message_id: Id, session: DbSession) -> MessagePublic:
    """Send a failed message again at the next delivery (or an unconfirmed one, once the
    mail server's log shows it never left)."""
    return MessagePublic.model_validate(mail.retry(session, message_id))


@outreach.post("/outreach/messages/{message_id}/confirm", response_model=MessagePublic)
def confirm_message(message_id: Id, session: DbSession) -> MessagePublic:
    """Record an unconfirmed message as sent (its Message-ID is in the mail server's log)."""
    return MessagePublic.model_validate(mail.confirm(session, message_id))


@outreach.post("/outreach/drafts", response_model=list[DraftPublic])
def drafts(data: DraftInput, session: DbSession) -> list[DraftPublic]:
    """'What we did for you' drafts for a customer or a segment, to edit and send."""
    if (data.customer_id is None) == (data.segment is None):
        raise InvalidInput("customer_id", "give a customer_id or a segment")
    if data.customer_id is not None:
        found = [
            service.draft_for(
                session, customer_by_id(session, data.customer_id), data.start, data.end
            )
        ]
    else:
        assert data.segment is not None
        found = service.drafts_for_segment(session, data.segment, data.start, data.end)
    return [DraftPublic(**d.__dict__) for d in found]


@outreach.post("/outreach/notes", response_model=NoteResult, status_code=201)
def send_note(data: NoteInput, session: DbSession, me: Me) -> NoteResult:
    """Send a note a person wrote or edited, through the outbox and within the budget."""
    queued = service.send_note(
        session,
        customer_by_id(session, data.customer_id),
        subject=data.subject,
        body=data.body,
        member=me,
    )
    return NoteResult(queued=queued.queued, refused=queued.refused, message_id=queued.message_id)


@outreach.get("/outreach/resources", response_model=list[ResourcePublic])
def list_resources(session: DbSession) -> list[ResourcePublic]:
    """Resources to pass on, newest first."""
    return [ResourcePublic.model_validate(r) for r in service.list_resources(session)]


@outreach.post(
    "/outreach/resources",
    response_model=ResourcePublic,
    status_code=201,
    dependencies=[Depends(admin)],
)
def add_resource(data: ResourceInput, session: DbSession) -> ResourcePublic:
    """Add a resource (admins)."""
    found = service.add_resource(session, **data.model_dump())
    return ResourcePublic.model_validate(found)


@outreach.post("/outreach/resources/{resource_id}/pass-on", response_model=PassedOn)
def pass_on(resource_id: Id, session: DbSession) -> PassedOn:
    """E-mail it to the customers it concerns who may get it; a task for the others' owners."""
    done = service.pass_on(session, service.get_resource(session, resource_id))
    return PassedOn(matched=done.matched, emailed=done.emailed, tasks=done.tasks)


@outreach.post("/outreach/calendar", response_model=FeedUrl, status_code=201)
def new_calendar_feed(session: DbSession, me: Me) -> FeedUrl:
    """A new private calendar URL for the member asking (older ones stop working)."""
    token = calendar.new_feed(session, me)
    return FeedUrl(url=f"{mail.base_url(session)}/ics/{token}.ics")


@outreach.delete("/outreach/calendar", status_code=204)
def revoke_calendar_feed(session: DbSession, me: Me) -> None:
    """Stop the asking member's calendar feed."""
    calendar.revoke_feeds(session, me)


# --- public: links opened without an account ---------------------------------------------

# Pages a link opens, not the JSON API: left out of its OpenAPI description.
links = APIRouter(tags=["links"], route_class=RetryingRoute, include_in_schema=False)

_PAGE = (
    "<!doctype html><html lang='en'><meta charset='utf-8'><title>{title}</title>"
    "<body style='font-family:sans-serif;max-width:36em;margin:3em auto'>{body}</body></html>"
)


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(
        _PAGE.format(title=html.escape(title), body=body),
        status_code=status,
        headers={
            "Content-Security-Policy": PLAIN_PAGE_POLICY,  # its one inline style, no script
            "Referrer-Policy": "no-referrer",  # the token in the address stays here
        },
    )


@links.get("/u/{token}", response_class=HTMLResponse)
def unsubscribe_page(token: Annotated[str, text(100)], request: Request) -> HTMLResponse:
    """Asks to confirm the unsubscribe (a link scanner's GET changes nothing)."""
    with runtime(request).reader() as session:
        try:
            mail.customer_for_token(session, token)
        except InvalidInput:
            return _page("Not a valid link", "<p>This unsubscribe link is not valid.</p>", 400)
    action = html.escape(f"/u/{token}")
    return _page(
        "Unsubscribe",
        f"<p>Stop automatic e-mails from us?</p><form method='post' action='{action}'>"
        "<button type='submit'>Unsubscribe</button></form>",
    )


@links.post("/u/{token}", response_class=HTMLResponse)
def unsubscribe(token: Annotated[str, text(100)], request: Request) -> HTMLResponse:
    """Record the opt-out (also RFC 8058 one-click); a forged token writes nothing."""
    with runtime(request).writer() as session, session.begin():
        try:
            mail.unsubscribe(session, token)
        except InvalidInput:
            return _page("Not a valid link", "<p>This unsubscribe link is not valid.</p>", 400)
    return _page("Unsubscribed", "<p>Done: you will get no more automatic e-mails from us.</p>")


@links.get("/ics/{token}.ics")
def calendar_feed(token: Annotated[str, text(100)], request: Request) -> Response:
    """A member's calendar (the URL's secret is the only key)."""
    with runtime(request).reader() as session:
        try:
            member = calendar.member_for_token(session, token)
        except NotFound:
            return Response("no such calendar\n", status_code=404, media_type="text/plain")
        body = calendar.render(session, member)
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers={
            "Cache-Control": "private, max-age=300",
            "X-Generated-At": clock.now().isoformat(),
        },
    )
