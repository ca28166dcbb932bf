"""`keepwell survey …`, `keepwell feedback …` and `keepwell scorecard …`."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from keepwell.clikit import Database, JsonOpt, errors, out, print_json, say, session_for

survey_app = typer.Typer(
    help="Surveys: send a customer a link (NPS, CSAT, scorecard), or record an answer.",
    no_args_is_help=True,
)
feedback_app = typer.Typer(
    help="Feedback: the list, actions taken, telling customers what we did (the loop).",
    no_args_is_help=True,
)
scorecard_app = typer.Typer(
    help="The two-way scorecard: our rating of the relationship, and both sides together.",
    no_args_is_help=True,
)

CustomerArg = Annotated[
    str, typer.Argument(metavar="CUSTOMER", help="The customer: #id, external id or e-mail.")
]
FeedbackIdArg = Annotated[int, typer.Argument(metavar="ID", help="The feedback's id.")]
ActionIdArg = Annotated[int, typer.Argument(metavar="ACTION", help="The action's id.")]
By = Annotated[
    str | None, typer.Option("--by", help="E-mail of the team member acting (recorded).")
]
Channel = Annotated[
    str, typer.Option("--channel", help="How the customer was told: call, email, meeting, …")
]
Ratings = Annotated[
    list[str] | None,
    typer.Option("--rating", "-r", metavar="CATEGORY=N", help="A category's rating, 1-5 (repeat)."),
]


def _ratings(pairs: list[str] | None) -> dict[str, int] | None:
    if not pairs:
        return None
    found: dict[str, int] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        name = name.strip().lower().replace("-", "_").replace(" ", "_")
        if not sep or not name or not value.strip().isdigit():
            raise typer.BadParameter(
                f"{pair!r}: write CATEGORY=N, like quality=4", param_hint="--rating"
            )
        if name in found:
            raise typer.BadParameter(f"{name} is rated twice", param_hint="--rating")
        found[name] = int(value.strip())
    return found


def _since(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        return datetime.combine(date.fromisoformat(text.strip()), time(0, 0), UTC)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not YYYY-MM-DD", param_hint="--since") from None


def _member(session: Any, by: str | None) -> Any:
    from keepwell.accounts.service import find_member

    return find_member(session, by) if by else None


def _score_text(row: dict[str, Any]) -> str:
    if row["score"] is not None:
        return f"{row['kind'].upper()} {row['score']}"
    ratings = row["ratings"] or {}
    return f"{row['kind']} " + " ".join(str(v) for v in ratings.values())


# --- keepwell survey --------------------------------------------------------------------


@survey_app.command("send")
def survey_send(
    customer: CustomerArg,
    kind: Annotated[str, typer.Option("--kind", help="nps, csat or scorecard.")] = "nps",
    case: Annotated[int | None, typer.Option("--case", help="The case a CSAT asks about.")] = None,
    order: Annotated[
        int | None, typer.Option("--order", help="The order (Keepwell id) a CSAT asks about.")
    ] = None,
    expires_days: Annotated[
        int, typer.Option("--expires-days", help="Days the link stays open (1-365).")
    ] = 30,
    by: By = None,
    database: Database = None,
    as_json: JsonOpt = False,
) -> None:
    """Make a survey for a customer and print its link (it works once, until it expires)."""
    from keepwell.customers.service import find_customer
    from keepwell.feedback.surveys import invite

    with errors(), session_for(database) as session:
        found = find_customer(session, customer)
        invitation, url = invite(
            session,
            found,
            kind,
            case_id=case,
            order_id=order,
            expires_days=expires_days,
            member=_member(session, by),
        )
        expires = invitation.expires_at.astimezone(UTC)
        result = {"id": invitation.id, "kind": kind, "customer_id": found.id, "url": url,
                  "expires_at": expires.isoformat()}  # fmt: skip
    if as_json:
        print_json(result)
        return
    who = found.name or f"#{found.id}"
    say(f"Survey #{result['id']} ({kind}) for {who}, open until {expires:%Y-%m-%d %H:%M} UTC:")
    say(url)


@survey_app.command("answer")
def survey_answer(
    customer: CustomerArg,
    kind: Annotated[str, typer.Option("--kind", help="nps, csat or scorecard.")] = "nps",
    score: Annotated[int | None, typer.Option("--score", help="NPS 0-10, CSAT 1-5.")] = None,
    rating: Ratings = None,
    comment: Annotated[str, typer.Option("--comment", help="Their words, as said.")] = "",
    invitation: Annotated[
        int | None, typer.Option("--survey", help="The survey (#id) this answers.")
    ] = None,
    case: Annotated[int | None, typer.Option("--case", help="The case it is about.")] = None,
    by: By = None,
    database: Database = None,
) -> None:
    """Record a survey answer given by phone or in person (a detractor's opens a task)."""
    from keepwell.customers.service import find_customer
    from keepwell.feedback.answers import needs_follow_up, record_feedback

    ratings = _ratings(rating)
    with errors(), session_for(database) as session:
        found = find_customer(session, customer)
        item = record_feedback(
            session,
            found,
            kind,
            score=score,
            ratings=ratings,
            verbatim=comment,
            member=_member(session, by),
            invitation_id=invitation,
            case_id=case,
        )
        follow = needs_follow_up(item)
        say(f"Feedback #{item.id} recorded for {found.name or f'#{found.id}'}.")
        if follow:
            say(f"A {follow} task is open for the owner (due within 2 days).")


# --- keepwell feedback ------------------------------------------------------------------


@feedback_app.command("list")
def feedback_list(
    kind: Annotated[
        str | None, typer.Option("--kind", help="nps, csat, scorecard or relationship.")
    ] = None,
    min_score: Annotated[int | None, typer.Option("--min-score", help="Score at least.")] = None,
    max_score: Annotated[int | None, typer.Option("--max-score", help="Score at most.")] = None,
    customer: Annotated[
        str | None,
        typer.Option("--customer", metavar="REF", help="Only this customer's (#id, id, e-mail)."),
    ] = None,
    owner: Annotated[
        str | None, typer.Option("--owner", help="Only customers of this member (e-mail).")
    ] = None,
    loop: Annotated[str | None, typer.Option("--loop", help="open or closed.")] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="Answered on this day or later (YYYY-MM-DD).")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="At most this many (1-500).")] = 50,
    database: Database = None,
    as_json: JsonOpt = False,
) -> None:
    """Feedback, newest first: scores, their words, whether the loop is closed."""
    from keepwell.accounts.service import find_member
    from keepwell.customers.service import find_customer
    from keepwell.feedback.service import FeedbackFilter, describe, list_feedback

    since_at = _since(since)
    with errors(), session_for(database) as session:
        filters = FeedbackFilter(
            kind=kind,
            min_score=min_score,
            max_score=max_score,
            customer_id=find_customer(session, customer).id if customer else None,
            owner_id=find_member(session, owner).id if owner else None,
            loop=loop,
            since=since_at,
            limit=limit,
        )
        rows = describe(session, list_feedback(session, filters))
    if as_json:
        print_json(rows)
        return
    table = Table("id", "answered", "customer", "answer", "their words", "loop", "actions")
    for row in rows:
        table.add_row(
            str(row["id"]),
            row["answered_at"][:10],
            escape(row["customer"] or f"#{row['customer_id']}"),
            _score_text(row),
            escape(row["verbatim"][:80] + ("…" if len(row["verbatim"]) > 80 else "")),
            row["loop"] + (f" {row['told_at'][:10]}" if row["told_at"] else ""),
            ", ".join(f"#{a}" for a in row["action_ids"]),
        )
    out.print(table)


@feedback_app.command("show")
def feedback_show(
    feedback_id: FeedbackIdArg, database: Database = None, as_json: JsonOpt = False
) -> None:
    """One piece of feedback, the actions linked to it and whether the customer was told."""
    from keepwell.feedback.common import get_feedback
    from keepwell.feedback.loop import actions_of
    from keepwell.feedback.service import describe

    with errors(), session_for(database) as session:
        item = get_feedback(session, feedback_id)
        row = describe(session, [item])[0]
        row["actions"] = [
            {"id": a.id, "what": a.what, "done_at": a.done_at.isoformat() if a.done_at else None}
            for a in actions_of(session, item.id)
        ]
    if as_json:
        print_json(row)
        return
    say(f"Feedback #{row['id']} from {row['customer']} ({row['answered_at'][:10]}, "
        f"{row['source']}): {_score_text(row)}")  # fmt: skip
    if row["verbatim"]:
        say(f"“{row['verbatim']}”")
    for action in row["actions"]:
        done = f"done {action['done_at'][:10]}" if action["done_at"] else "not done yet"
        say(f"Action #{action['id']}: {action['what']} ({done})")
    if row["told_at"]:
        say(f"Loop closed {row['told_at'][:10]} by {row['told_channel']}: {row['told_note']}")
    else:
        say("Loop open: the customer has not been told what we did.")


@feedback_app.command("act")
def feedback_act(
    what: Annotated[str, typer.Argument(help='What we do about it ("changed our courier").')],
    feedback_ids: Annotated[
        list[int] | None, typer.Argument(metavar="[ID]...", help="The feedback it answers.")
    ] = None,
    by: By = None,
    database: Database = None,
) -> None:
    """Record an action taken because of feedback, linked to one or many answers."""
    from keepwell.feedback.loop import add_action, feedback_by_ids

    with errors(), session_for(database) as session:
        items = feedback_by_ids(session, feedback_ids or [])
        action = add_action(session, what, items, member=_member(session, by))
        customers = len({f.customer_id for f in items})
        say(f"Action #{action.id}: linked to {len(items)} feedback from {customers} customers.")


@feedback_app.command("link")
def feedback_link(
    action_id: ActionIdArg,
    feedback_ids: Annotated[list[int], typer.Argument(metavar="ID...", help="Feedback to link.")],
    database: Database = None,
) -> None:
    """Link more feedback to an action (whose customers closing it will tell)."""
    from keepwell.feedback.common import get_action
    from keepwell.feedback.loop import feedback_by_ids, link, linked_ids

    with errors(), session_for(database) as session:
        action = get_action(session, action_id)
        added = link(session, action, feedback_by_ids(session, feedback_ids))
        say(f"Action #{action.id}: {added} linked now, {len(linked_ids(session, action.id))} "
            "in all.")  # fmt: skip


@feedback_app.command("close")
def feedback_close(
    action_id: ActionIdArg,
    note: Annotated[str, typer.Option("--note", help="Added to what each one is told.")] = "",
    channel: Channel = "email",
    by: By = None,
    database: Database = None,
) -> None:
    """The action is done: tell every linked customer (logged) and close their loops."""
    from keepwell.feedback.common import get_action
    from keepwell.feedback.loop import close_action

    with errors(), session_for(database) as session:
        done = close_action(
            session,
            get_action(session, action_id),
            note=note,
            channel=channel,
            member=_member(session, by),
        )
        before = f" ({done.already} had been told before)" if done.already else ""
        say(f"Action #{action_id} closed: told {done.customers} customers, "
            f"{len(done.told)} loops closed{before}.")  # fmt: skip


@feedback_app.command("tell")
def feedback_tell(
    feedback_id: FeedbackIdArg,
    note: Annotated[str, typer.Argument(help="What the customer was told.")],
    channel: Channel = "email",
    by: By = None,
    database: Database = None,
) -> None:
    """Record that the customer was told what we did: the loop of that feedback closes."""
    from keepwell.feedback.common import get_feedback
    from keepwell.feedback.loop import tell

    with errors(), session_for(database) as session:
        item = tell(
            session,
            get_feedback(session, feedback_id),
            note=note,
            channel=channel,
            member=_member(session, by),
        )
        say(f"Feedback #{item.id}: loop closed (told by {item.told_channel}).")


# --- keepwell scorecard -----------------------------------------------------------------


@scorecard_app.command("rate")
def scorecard_rate(
    customer: CustomerArg,
    rating: Ratings = None,
    note: Annotated[str, typer.Option("--note", help="What stands behind the ratings.")] = "",
    by: By = None,
    database: Database = None,
) -> None:
    """Our side: rate the relationship with a customer on our categories (1-5 each):
    communication, pays_on_time, predictability, partnership."""
    from keepwell.customers.service import find_customer
    from keepwell.feedback.answers import rate_relationship

    ratings = _ratings(rating) or {}
    with errors(), session_for(database) as session:
        found = find_customer(session, customer)
        item = rate_relationship(session, found, ratings, note=note, member=_member(session, by))
        say(f"Our scorecard #{item.id} for {found.name or f'#{found.id}'} recorded.")


@scorecard_app.command("show")
def scorecard_show(
    customer: CustomerArg, database: Database = None, as_json: JsonOpt = False
) -> None:
    """Both sides of the scorecard, side by side: how they rate us, how we rate them."""
    from keepwell.customers.service import find_customer
    from keepwell.feedback.service import scorecards

    with errors(), session_for(database) as session:
        both = scorecards(session, find_customer(session, customer))
    if as_json:
        print_json(both)
        return
    for title, side in (("They rate us", both["theirs"]), ("We rate them", both["ours"])):
        if side is None:
            say(f"{title}: no scorecard yet.")
            continue
        table = Table("category", "rating", title=f"{title} ({side['answered_at'][:10]})",
                      title_justify="left")  # fmt: skip
        for name, label in side["labels"].items():
            value = side["ratings"].get(name)
            table.add_row(escape(label), "" if value is None else str(value))
        table.add_row("mean", "" if side["mean"] is None else f"{side['mean']:.1f}")
        out.print(table)
        if side["comment"]:
            say(f"“{side['comment']}”")
