"""`keepwell outreach …`: the outbox, the budget, drafts, resources, calendar feeds."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from keepwell import clikit, clock
from keepwell.outreach.mail import MessageFilter
from keepwell.outreach.models import STATUSES, Resource
from keepwell.outreach.schemas import MessagePublic

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

outreach_app = typer.Typer(
    help="E-mail through the outbox (budget, opt-outs, quiet hours), drafts, resources, calendars.",
    no_args_is_help=True,
)
MessageId = Annotated[int, typer.Argument(metavar="ID", help="The message's id.")]


@outreach_app.command("send")
def outreach_send(database: clikit.Database = None) -> None:
    """Send the messages that are due now, each at most once (failed ones are retried
    with backoff; unconfirmed ones never: see `outreach list --status unconfirmed`)."""
    from keepwell import db
    from keepwell.outreach.delivery import deliver

    with clikit.errors():
        engine = clikit.ready_engine(database)
        try:
            writer = engine.execution_options(**{db.SQLITE_WRITE: True})
            report = deliver(db.session_factory(writer))
        finally:
            engine.dispose()
    note = f" ({report.note})" if report.note else ""
    clikit.say(
        f"Sent {report.sent}, failed {report.failed}, cancelled {report.cancelled}, "
        f"waiting {report.waiting}{note}."
    )
    if report.unconfirmed:
        clikit.say(
            f"{report.unconfirmed} unconfirmed: the server may have accepted them, so they are "
            "not sent again. Look their Message-ID up in the mail server's log "
            "(`keepwell outreach list --status unconfirmed`), then `keepwell outreach confirm "
            "ID` or `keepwell outreach retry ID`."
        )
    if report.failed or report.unconfirmed:
        raise typer.Exit(1)


@outreach_app.command("list")
@clikit.lists(
    MessageFilter,
    status=Annotated[str | None, clikit.one_of("--status", values=STATUSES)],
    customer_id=clikit.CustomerRef,
)
def outreach_list(session: Session, filters: MessageFilter) -> clikit.Listing[MessagePublic]:
    """List the outbox, newest first (--status failed: what could not be sent, and why).

    --json prints what GET /api/outreach/messages answers."""
    from keepwell.outreach.mail import list_messages

    def note(m: MessagePublic) -> str:
        if m.status in ("sending", "unconfirmed"):  # what to look up in the server's log
            return f"{m.message_id_header or ''} {m.last_error[:80]}".strip()
        return m.last_error[:80]

    columns: list[clikit.Column[MessagePublic]] = [
        ("id", lambda m: m.id),
        ("to", lambda m: m.to_address),
        ("subject", lambda m: m.subject),
        ("status", lambda m: m.status),
        ("attempts", lambda m: m.attempts),
        ("error / Message-ID", note),
    ]
    rows = [MessagePublic.model_validate(m) for m in list_messages(session, filters)]
    return clikit.Listing(rows, columns, empty="No messages.")


@outreach_app.command("retry")
@clikit.on_desk
def outreach_retry(session: Session, message_id: MessageId) -> clikit.Shown:
    """Send a failed message again at the next delivery (or an unconfirmed one, once the
    mail server's log shows it never left)."""
    from keepwell.outreach.mail import retry

    return f"Message #{retry(session, message_id).id} queued again."


@outreach_app.command("confirm")
@clikit.on_desk
def outreach_confirm(session: Session, message_id: MessageId) -> clikit.Shown:
    """Record an unconfirmed message as sent (its Message-ID is in the mail server's log)."""
    from keepwell.outreach.mail import confirm

    return f"Message #{confirm(session, message_id).id} recorded as sent."


@outreach_app.command("budget")
@clikit.on_desk
def outreach_budget(
    session: Session,
    messages: Annotated[
        int | None, typer.Option("--messages", help="At most this many automatic messages …")
    ] = None,
    days: Annotated[
        int | None, typer.Option("--days", help="… per customer in this many days.")
    ] = None,
) -> clikit.Shown:
    """Show or set the contact budget (default: 2 messages per customer in 14 days)."""
    from keepwell.outreach.budget import budget, set_budget

    current = budget(session)
    if messages is not None or days is not None:
        current = set_budget(
            session,
            messages if messages is not None else current.messages,
            days if days is not None else current.days,
        )
    return f"At most {current.messages} automatic messages per customer in {current.days} days."


@outreach_app.command("quiet-hours")
@clikit.on_desk
def outreach_quiet_hours(
    session: Session,
    start: Annotated[str, typer.Argument(help="Start, HH:MM (e.g. 20:00).")],
    end: Annotated[str, typer.Argument(help="End, HH:MM (e.g. 08:00).")],
    timezone: Annotated[
        str, typer.Option("--timezone", help="The desk's time zone (e.g. Europe/Berlin).")
    ] = "UTC",
) -> clikit.Shown:
    """Set the quiet hours: no e-mail leaves between START and END (it waits)."""
    from keepwell.outreach.budget import set_quiet_hours

    set_quiet_hours(session, start, end, timezone)
    return f"Quiet hours {start}-{end} ({timezone})."


@outreach_app.command("draft")
@clikit.on_desk
def outreach_draft(
    session: Session,
    customer: Annotated[
        str | None, typer.Argument(help="The customer (#id, external id, e-mail).")
    ] = None,
    segment: Annotated[str | None, typer.Option("--segment", help="Each customer of it.")] = None,
    start: Annotated[
        date | None, clikit.day("--from", help="First day; default: 90 days ago")
    ] = None,
    end: Annotated[date | None, clikit.day("--to", help="Last day; default: today")] = None,
    as_json: clikit.JsonOpt = False,
) -> clikit.Shown:
    """Draft 'what we did for you' for a customer or a segment, to edit and send.

    --json prints what POST /api/outreach/drafts answers."""
    from keepwell.customers.service import find_customer
    from keepwell.outreach.schemas import DraftPublic
    from keepwell.outreach.service import draft_for, drafts_for_segment

    if (customer is None) == (segment is None):
        raise typer.BadParameter("name a customer or a --segment", param_hint="CUSTOMER")
    last = end or clock.today()
    first = start or last - timedelta(days=90)
    if customer is not None:
        found = [draft_for(session, find_customer(session, customer), first, last)]
    else:
        assert segment is not None
        found = drafts_for_segment(session, segment, first, last)
    drafts = [DraftPublic.model_validate(d, from_attributes=True) for d in found]
    if as_json:
        return clikit.json_of([d.model_dump(mode="json") for d in drafts])
    return "\n".join(
        f"To: {d.customer or f'#{d.customer_id}'} (#{d.customer_id})\n"
        f"Subject: {d.subject}\n\n{d.body}"
        for d in drafts
    )


@outreach_app.command("write")
def outreach_write(
    customer: clikit.CustomerText,
    subject: Annotated[str, typer.Option("--subject", help="The subject line.")],
    body: Annotated[
        Path, typer.Option("--body", help="A file with the text (e.g. an edited draft).")
    ],
    database: clikit.Database = None,
) -> None:
    """Send a note you wrote or edited, through the outbox and within the budget."""
    from keepwell.customers.service import find_customer
    from keepwell.outreach.service import send_note

    try:
        text = body.read_text(encoding="utf-8")
    except OSError as exc:
        raise typer.BadParameter(str(exc), param_hint="--body") from None
    with clikit.errors(), clikit.session_for(database) as session:
        queued = send_note(session, find_customer(session, customer), subject=subject, body=text)
    if not queued.queued:
        clikit.say(f"Not queued: {queued.refused}.")
        raise typer.Exit(1)
    clikit.say(f"Message #{queued.message_id} queued{' (before)' if queued.existing else ''}.")


@outreach_app.command("resource-add")
@clikit.on_desk
def outreach_resource_add(
    session: Session,
    title: Annotated[str, typer.Argument(help="The resource's title.")],
    url: Annotated[str, typer.Argument(help="Where it is (http or https).")],
    topic: Annotated[list[str] | None, typer.Option("--topic", help="A topic (repeat).")] = None,
    kind: Annotated[
        str, typer.Option("--kind", help="article, guide or product_update.")
    ] = "article",
    product: Annotated[
        str | None, typer.Option("--product", help="The product it is about (its buyers match).")
    ] = None,
) -> clikit.Shown:
    """Add a resource to pass on (a product update also triggers its playbook)."""
    from keepwell.outreach.service import add_resource

    found = add_resource(
        session, title=title, url=url, topics=topic or [], kind=kind, product=product
    )
    return f"Resource #{found.id}: {found.title} ({', '.join(found.topics) or found.product})."


@outreach_app.command("resources")
@clikit.on_desk
def outreach_resources(session: Session, as_json: clikit.JsonOpt = False) -> clikit.Shown:
    """List the resources, newest first.

    --json prints what GET /api/outreach/resources answers."""
    from keepwell.outreach.schemas import ResourcePublic
    from keepwell.outreach.service import list_resources

    rows = [ResourcePublic.model_validate(r) for r in list_resources(session)]
    if as_json:
        return clikit.json_of([r.model_dump(mode="json") for r in rows])
    return "\n".join(
        f"#{r.id} {r.published_on} {r.kind}: {r.title} [{', '.join(r.topics)}]" for r in rows
    )


@outreach_app.command("pass-on")
@clikit.on_desk
def outreach_pass_on(
    session: Session,
    resource: Annotated[
        Resource,
        typer.Argument(metavar="ID", help="The resource's id."),
        clikit.record("keepwell.outreach.service:get_resource"),
    ],
    email: Annotated[
        bool, typer.Option("--email/--tasks-only", help="E-mail those who may get it.")
    ] = True,
) -> clikit.Shown:
    """Pass a resource on to the customers it concerns: e-mail or a task for their owner."""
    from keepwell.outreach.service import pass_on

    done = pass_on(session, resource, email=email)
    return f"{done.matched} customers concerned: {done.emailed} e-mailed, {done.tasks} tasks."


@outreach_app.command("calendar")
@clikit.on_desk
def outreach_calendar(
    session: Session,
    member: Annotated[
        clikit.TheMember, typer.Argument(metavar="MEMBER", help="The member's e-mail.")
    ],
    revoke: Annotated[
        bool, typer.Option("--revoke", help="Stop the feed; make no new one.")
    ] = False,
) -> clikit.Shown:
    """Make (or rotate) a member's private calendar feed URL; --revoke stops it."""
    from keepwell.outreach.calendar import new_feed, revoke_feeds
    from keepwell.outreach.mail import base_url

    if revoke:
        return f"Revoked {revoke_feeds(session, member)} feed(s) of {member.email}."
    token = new_feed(session, member)
    return f"{base_url(session)}/ics/{token}.ics (older URLs of {member.email} stop working)"
