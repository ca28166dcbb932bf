"""`keepwell outreach …`: the outbox, the budget, drafts, resources, calendar feeds."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from keepwell.clikit import (
    Database,
    JsonOpt,
    errors,
    out,
    print_json,
    ready_engine,
    say,
    session_for,
)

outreach_app = typer.Typer(
    help="E-mail through the outbox (budget, opt-outs, quiet hours), drafts, resources, calendars.",
    no_args_is_help=True,
)
Customer = Annotated[str, typer.Argument(help="The customer: #id, external id or e-mail.")]


@outreach_app.command("send")
def outreach_send(database: Database = None) -> None:
    """Send the messages that are due now, each at most once (failed ones are retried
    with backoff; unconfirmed ones never: see `outreach list --status unconfirmed`)."""
    from keepwell import db
    from keepwell.outreach.delivery import deliver

    with errors():
        engine = ready_engine(database)
        try:
            writer = engine.execution_options(**{db.SQLITE_WRITE: True})
            report = deliver(db.session_factory(writer))
        finally:
            engine.dispose()
    note = f" ({report.note})" if report.note else ""
    say(
        f"Sent {report.sent}, failed {report.failed}, cancelled {report.cancelled}, "
        f"waiting {report.waiting}{note}."
    )
    if report.unconfirmed:
        say(
            f"{report.unconfirmed} unconfirmed: the server may have accepted them, so they are "
            "not sent again. Look their Message-ID up in the mail server's log "
            "(`keepwell outreach list --status unconfirmed`), then `keepwell outreach confirm "
            "ID` or `keepwell outreach retry ID`."
        )
    if report.failed or report.unconfirmed:
        raise typer.Exit(1)


@outreach_app.command("list")
def outreach_list(
    status: Annotated[
        str | None,
        typer.Option("--status", help="queued, sending, sent, unconfirmed, failed or cancelled."),
    ] = None,
    customer: Annotated[
        str | None, typer.Option("--customer", help="Only this customer's.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="At most this many (1-500).")] = 50,
    database: Database = None,
    as_json: JsonOpt = False,
) -> None:
    """List the outbox, newest first (--status failed: what could not be sent, and why)."""
    from keepwell.customers.service import find_customer
    from keepwell.outreach.mail import MessageFilter, list_messages

    with errors(), session_for(database) as session:
        filters = MessageFilter(
            status=status,
            customer_id=find_customer(session, customer).id if customer else None,
            limit=limit,
        )
        rows: list[dict[str, Any]] = [
            {
                "id": m.id,
                "customer_id": m.customer_id,
                "to": m.to_address,
                "subject": m.subject,
                "category": m.category,
                "status": m.status,
                "queued_at": m.queued_at.isoformat(),
                "attempts": m.attempts,
                "next_attempt_at": m.next_attempt_at.isoformat() if m.next_attempt_at else None,
                "last_error": m.last_error,
                "sent_at": m.sent_at.isoformat() if m.sent_at else None,
                "message_id_header": m.message_id_header,
                "claimed_at": m.claimed_at.isoformat() if m.claimed_at else None,
            }
            for m in list_messages(session, filters)
        ]
    if as_json:
        print_json(rows)
        return
    if not rows:
        say("No messages.")
        return
    table = Table("id", "to", "subject", "status", "attempts", "error / Message-ID")
    for r in rows:
        note = r["last_error"][:80]
        if r["status"] in ("sending", "unconfirmed"):  # what to look up in the server's log
            note = f"{r['message_id_header'] or ''} {note}".strip()
        table.add_row(
            str(r["id"]),
            escape(r["to"]),
            escape(r["subject"]),
            r["status"],
            str(r["attempts"]),
            escape(note),
        )
    out.print(table)


@outreach_app.command("retry")
def outreach_retry(
    message_id: Annotated[
        int, typer.Argument(metavar="ID", help="The failed or unconfirmed message's id.")
    ],
    database: Database = None,
) -> None:
    """Send a failed message again at the next delivery (or an unconfirmed one, once the
    mail server's log shows it never left)."""
    from keepwell.outreach.mail import retry

    with errors(), session_for(database) as session:
        message = retry(session, message_id)
        say(f"Message #{message.id} queued again.")


@outreach_app.command("confirm")
def outreach_confirm(
    message_id: Annotated[int, typer.Argument(metavar="ID", help="The unconfirmed message's id.")],
    database: Database = None,
) -> None:
    """Record an unconfirmed message as sent (its Message-ID is in the mail server's log)."""
    from keepwell.outreach.mail import confirm

    with errors(), session_for(database) as session:
        message = confirm(session, message_id)
        say(f"Message #{message.id} recorded as sent.")


@outreach_app.command("budget")
def outreach_budget(
    messages: Annotated[
        int | None, typer.Option("--messages", help="At most this many automatic messages …")
    ] = None,
    days: Annotated[
        int | None, typer.Option("--days", help="… per customer in this many days.")
    ] = None,
    database: Database = None,
) -> None:
    """Show or set the contact budget (default: 2 messages per customer in 14 days)."""
    from keepwell.outreach.budget import budget, set_budget

    with errors(), session_for(database) as session:
        current = budget(session)
        if messages is not None or days is not None:
            current = set_budget(
                session,
                messages if messages is not None else current.messages,
                days if days is not None else current.days,
            )
        say(f"At most {current.messages} automatic messages per customer in {current.days} days.")


@outreach_app.command("quiet-hours")
def outreach_quiet_hours(
    start: Annotated[str, typer.Argument(help="Start, HH:MM (e.g. 20:00).")],
    end: Annotated[str, typer.Argument(help="End, HH:MM (e.g. 08:00).")],
    timezone: Annotated[
        str, typer.Option("--timezone", help="The desk's time zone (e.g. Europe/Berlin).")
    ] = "UTC",
    database: Database = None,
) -> None:
    """Set the quiet hours: no e-mail leaves between START and END (it waits)."""
    from keepwell.outreach.budget import set_quiet_hours

    with errors(), session_for(database) as session:
        set_quiet_hours(session, start, end, timezone)
        say(f"Quiet hours {start}-{end} ({timezone}).")


@outreach_app.command("draft")
def outreach_draft(
    customer: Annotated[
        str | None, typer.Argument(help="The customer (#id, external id, e-mail).")
    ] = None,
    segment: Annotated[str | None, typer.Option("--segment", help="Each customer of it.")] = None,
    start: Annotated[
        str | None, typer.Option("--from", help="First day (default: 90 days ago).")
    ] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last day (default: today).")] = None,
    database: Database = None,
    as_json: JsonOpt = False,
) -> None:
    """Draft 'what we did for you' for a customer or a segment, to edit and send."""
    from datetime import timedelta

    from keepwell import clock
    from keepwell.customers.service import find_customer
    from keepwell.outreach.service import draft_for, drafts_for_segment
    from keepwell.promises.cli import parse_day

    if (customer is None) == (segment is None):
        raise typer.BadParameter("name a customer or a --segment", param_hint="CUSTOMER")
    last = parse_day(end, "--to") if end else clock.today()
    first = parse_day(start, "--from") if start else last - timedelta(days=90)
    with errors(), session_for(database) as session:
        if customer is not None:
            drafts = [draft_for(session, find_customer(session, customer), first, last)]
        else:
            assert segment is not None
            drafts = drafts_for_segment(session, segment, first, last)
    if as_json:
        print_json([d.__dict__ for d in drafts])
        return
    for draft in drafts:
        say(f"To: {draft.customer or f'#{draft.customer_id}'} (#{draft.customer_id})")
        say(f"Subject: {draft.subject}\n\n{draft.body}")


@outreach_app.command("write")
def outreach_write(
    customer: Customer,
    subject: Annotated[str, typer.Option("--subject", help="The subject line.")],
    body: Annotated[
        Path, typer.Option("--body", help="A file with the text (e.g. an edited draft).")
    ],
    database: Database = None,
) -> None:
    """Send a note you wrote or edited, through the outbox and within the budget."""
    from keepwell.customers.service import find_customer
    from keepwell.outreach.service import send_note

    try:
        text = body.read_text(encoding="utf-8")
    except OSError as exc:
        raise typer.BadParameter(str(exc), param_hint="--body") from None
    with errors(), session_for(database) as session:
        queued = send_note(session, find_customer(session, customer), subject=subject, body=text)
    if not queued.queued:
        say(f"Not queued: {queued.refused}.")
        raise typer.Exit(1)
    say(f"Message #{queued.message_id} queued{' (before)' if queued.existing else ''}.")


@outreach_app.command("resource-add")
def outreach_resource_add(
    title: Annotated[str, typer.Argument(help="The resource's title.")],
    url: Annotated[str, typer.Argument(help="Where it is (http or https).")],
    topic: Annotated[list[str] | None, typer.Option("--topic", help="A topic (repeat).")] = None,
    kind: Annotated[
        str, typer.Option("--kind", help="article, guide or product_update.")
    ] = "article",
    product: Annotated[
        str | None, typer.Option("--product", help="The product it is about (its buyers match).")
    ] = None,
    database: Database = None,
) -> None:
    """Add a resource to pass on (a product update also triggers its playbook)."""
    from keepwell.outreach.service import add_resource

    with errors(), session_for(database) as session:
        found = add_resource(
            session, title=title, url=url, topics=topic or [], kind=kind, product=product
        )
        say(f"Resource #{found.id}: {found.title} ({', '.join(found.topics) or found.product}).")


@outreach_app.command("resources")
def outreach_resources(database: Database = None, as_json: JsonOpt = False) -> None:
    """List the resources, newest first."""
    from keepwell.outreach.service import list_resources

    with errors(), session_for(database) as session:
        rows: list[dict[str, Any]] = [
            {
                "id": r.id,
                "kind": r.kind,
                "title": r.title,
                "url": r.url,
                "topics": r.topics,
                "product": r.product,
                "published_on": r.published_on.isoformat(),
            }
            for r in list_resources(session)
        ]
    if as_json:
        print_json(rows)
        return
    for r in rows:
        say(f"#{r['id']} {r['published_on']} {r['kind']}: {r['title']} [{', '.join(r['topics'])}]")


@outreach_app.command("pass-on")
def outreach_pass_on(
    resource_id: Annotated[int, typer.Argument(metavar="ID", help="The resource's id.")],
    email: Annotated[
        bool, typer.Option("--email/--tasks-only", help="E-mail those who may get it.")
    ] = True,
    database: Database = None,
) -> None:
    """Pass a resource on to the customers it concerns: e-mail or a task for their owner."""
    from keepwell.outreach.service import get_resource, pass_on

    with errors(), session_for(database) as session:
        done = pass_on(session, get_resource(session, resource_id), email=email)
    say(f"{done.matched} customers concerned: {done.emailed} e-mailed, {done.tasks} tasks.")


@outreach_app.command("calendar")
def outreach_calendar(
    member: Annotated[str, typer.Argument(help="The member's e-mail.")],
    revoke: Annotated[
        bool, typer.Option("--revoke", help="Stop the feed; make no new one.")
    ] = False,
    database: Database = None,
) -> None:
    """Make (or rotate) a member's private calendar feed URL; --revoke stops it."""
    from keepwell.accounts.service import find_member
    from keepwell.outreach.calendar import new_feed, revoke_feeds
    from keepwell.outreach.mail import base_url

    with errors(), session_for(database) as session:
        found = find_member(session, member)
        if revoke:
            say(f"Revoked {revoke_feeds(session, found)} feed(s) of {found.email}.")
            return
        token = new_feed(session, found)
        say(f"{base_url(session)}/ics/{token}.ics (older URLs of {found.email} stop working)")
