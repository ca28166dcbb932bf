"""`keepwell survey …`, `keepwell feedback …` and `keepwell scorecard …`."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Group
from rich.table import Table
from rich.text import Text

from keepwell import clikit
from keepwell.feedback.models import KINDS, Feedback, FeedbackAction
from keepwell.feedback.schemas import FeedbackPublic
from keepwell.feedback.service import FeedbackFilter

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


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

TheFeedback = Annotated[
    Feedback,
    typer.Argument(metavar="ID", help="The feedback's id."),
    clikit.record("keepwell.feedback.common:get_feedback"),
]
TheAction = Annotated[
    FeedbackAction,
    typer.Argument(metavar="ACTION", help="The action's id."),
    clikit.record("keepwell.feedback.common:get_action"),
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


def _score_text(item: FeedbackPublic) -> str:
    if item.score is not None:
        return f"{item.kind.upper()} {item.score}"
    return f"{item.kind} " + " ".join(str(v) for v in (item.ratings or {}).values())


# --- keepwell survey --------------------------------------------------------------------


@survey_app.command("send")
@clikit.on_desk
def survey_send(
    session: Session,
    customer: clikit.CustomerArg,
    kind: Annotated[str, typer.Option("--kind", help="nps, csat or scorecard.")] = "nps",
    case: Annotated[int | None, typer.Option("--case", help="The case a CSAT asks about.")] = None,
    order: Annotated[
        int | None, typer.Option("--order", help="The order (Keepwell id) a CSAT asks about.")
    ] = None,
    expires_days: Annotated[
        int, typer.Option("--expires-days", help="Days the link stays open (1-365).")
    ] = 30,
    by: clikit.By = None,
    as_json: clikit.JsonOpt = False,
) -> clikit.Shown:
    """Make a survey for a customer and print its link (it works once, until it expires).

    --json prints what POST /api/surveys answers."""
    from keepwell.feedback.schemas import SurveySent, survey_public
    from keepwell.feedback.surveys import invite

    invitation, url = invite(
        session,
        customer,
        kind,
        case_id=case,
        order_id=order,
        expires_days=expires_days,
        member=by,
    )
    sent = SurveySent(**survey_public(invitation).model_dump(), url=url)
    if as_json:
        return clikit.record_json(sent)
    who = customer.name or f"#{customer.id}"
    until = clikit.when(sent.expires_at)
    return f"Survey #{sent.id} ({kind}) for {who}, open until {until} UTC:\n{url}"


@survey_app.command("answer")
@clikit.on_desk
def survey_answer(
    session: Session,
    customer: clikit.CustomerArg,
    kind: Annotated[str, typer.Option("--kind", help="nps, csat or scorecard.")] = "nps",
    score: Annotated[int | None, typer.Option("--score", help="NPS 0-10, CSAT 1-5.")] = None,
    rating: Ratings = None,
    comment: Annotated[str, typer.Option("--comment", help="Their words, as said.")] = "",
    invitation: Annotated[
        int | None, typer.Option("--survey", help="The survey (#id) this answers.")
    ] = None,
    case: Annotated[int | None, typer.Option("--case", help="The case it is about.")] = None,
    by: clikit.By = None,
) -> clikit.Shown:
    """Record a survey answer given by phone or in person (a detractor's opens a task)."""
    from keepwell.feedback.answers import needs_follow_up, record_feedback

    item = record_feedback(
        session,
        customer,
        kind,
        score=score,
        ratings=_ratings(rating),
        verbatim=comment,
        member=by,
        invitation_id=invitation,
        case_id=case,
    )
    follow = needs_follow_up(item)
    recorded = f"Feedback #{item.id} recorded for {customer.name or f'#{customer.id}'}."
    if follow:
        return f"{recorded}\nA {follow} task is open for the owner (due within 2 days)."
    return recorded


# --- keepwell feedback ------------------------------------------------------------------


@feedback_app.command("list")
@clikit.lists(
    FeedbackFilter,
    kind=Annotated[str | None, clikit.one_of("--kind", values=KINDS)],
    min_score=Annotated[int | None, typer.Option("--min-score", help="Score at least.")],
    max_score=Annotated[int | None, typer.Option("--max-score", help="Score at most.")],
    customer_id=clikit.CustomerRef,
    owner_id=Annotated[
        clikit.MemberId,
        typer.Option("--owner", metavar="EMAIL", help="Only customers of this member."),
    ],
    loop=Annotated[str | None, clikit.one_of("--loop", values=("open", "closed"))],
    since=Annotated[
        datetime | None, clikit.moment("--since", help="Answered on this day or time, or later.")
    ],
)
def feedback_list(session: Session, filters: FeedbackFilter) -> clikit.Listing[FeedbackPublic]:
    """Feedback, newest first: scores, their words, whether the loop is closed.

    --json prints what GET /api/feedback answers."""
    from keepwell.feedback.service import describe, list_feedback

    found = describe(session, list_feedback(session, filters))
    columns: list[clikit.Column[FeedbackPublic]] = [
        ("id", lambda f: f.id),
        ("answered", lambda f: f.answered_at.date()),
        ("customer", lambda f: f.customer or f"#{f.customer_id}"),
        ("answer", _score_text),
        ("their words", lambda f: f.verbatim[:80] + ("…" if len(f.verbatim) > 80 else "")),
        ("loop", lambda f: f.loop + (f" {f.told_at.date()}" if f.told_at else "")),
        ("actions", lambda f: ", ".join(f"#{a}" for a in f.action_ids)),
    ]
    return clikit.Listing([FeedbackPublic.model_validate(row) for row in found], columns)


@feedback_app.command("show")
@clikit.on_desk
def feedback_show(
    session: Session, item: TheFeedback, as_json: clikit.JsonOpt = False
) -> clikit.Shown:
    """One piece of feedback, the actions linked to it and whether the customer was told.

    --json prints what GET /api/feedback/ID answers."""
    from keepwell.feedback.loop import actions_of
    from keepwell.feedback.schemas import FeedbackDetail, FeedbackPublic, action_public
    from keepwell.feedback.service import describe

    detail = FeedbackDetail(
        feedback=FeedbackPublic.model_validate(describe(session, [item])[0]),
        actions=[action_public(session, a) for a in actions_of(session, item.id)],
    )
    if as_json:
        return clikit.record_json(detail)
    f = detail.feedback
    lines = [
        f"Feedback #{f.id} from {f.customer} ({f.answered_at.date()}, {f.source}): "
        + _score_text(f)
    ]
    if f.verbatim:
        lines.append(f"“{f.verbatim}”")
    for action in detail.actions:
        done = f"done {action.done_at.date()}" if action.done_at else "not done yet"
        lines.append(f"Action #{action.id}: {action.what} ({done})")
    if f.told_at:
        lines.append(f"Loop closed {f.told_at.date()} by {f.told_channel}: {f.told_note}")
    else:
        lines.append("Loop open: the customer has not been told what we did.")
    return "\n".join(lines)


@feedback_app.command("act")
@clikit.on_desk
def feedback_act(
    session: Session,
    what: Annotated[str, typer.Argument(help='What we do about it ("changed our courier").')],
    feedback_ids: Annotated[
        list[int] | None, typer.Argument(metavar="[ID]...", help="The feedback it answers.")
    ] = None,
    by: clikit.By = None,
) -> clikit.Shown:
    """Record an action taken because of feedback, linked to one or many answers."""
    from keepwell.feedback.loop import add_action, feedback_by_ids

    items = feedback_by_ids(session, feedback_ids or [])
    action = add_action(session, what, items, member=by)
    customers = len({f.customer_id for f in items})
    return f"Action #{action.id}: linked to {len(items)} feedback from {customers} customers."


@feedback_app.command("link")
@clikit.on_desk
def feedback_link(
    session: Session,
    action: TheAction,
    feedback_ids: Annotated[list[int], typer.Argument(metavar="ID...", help="Feedback to link.")],
) -> clikit.Shown:
    """Link more feedback to an action (whose customers closing it will tell)."""
    from keepwell.feedback.loop import feedback_by_ids, link, linked_ids

    added = link(session, action, feedback_by_ids(session, feedback_ids))
    return f"Action #{action.id}: {added} linked now, {len(linked_ids(session, action.id))} in all."


@feedback_app.command("close")
@clikit.on_desk
def feedback_close(
    session: Session,
    action: TheAction,
    note: Annotated[str, typer.Option("--note", help="Added to what each one is told.")] = "",
    channel: Channel = "email",
    by: clikit.By = None,
) -> clikit.Shown:
    """The action is done: tell every linked customer (logged) and close their loops."""
    from keepwell.feedback.loop import close_action

    done = close_action(session, action, note=note, channel=channel, member=by)
    before = f" ({done.already} had been told before)" if done.already else ""
    return (
        f"Action #{action.id} closed: told {done.customers} customers, "
        f"{len(done.told)} loops closed{before}."
    )


@feedback_app.command("tell")
@clikit.on_desk
def feedback_tell(
    session: Session,
    item: TheFeedback,
    note: Annotated[str, typer.Argument(help="What the customer was told.")],
    channel: Channel = "email",
    by: clikit.By = None,
) -> clikit.Shown:
    """Record that the customer was told what we did: the loop of that feedback closes."""
    from keepwell.feedback.loop import tell

    tell(session, item, note=note, channel=channel, member=by)
    return f"Feedback #{item.id}: loop closed (told by {item.told_channel})."


# --- keepwell scorecard -----------------------------------------------------------------


@scorecard_app.command("rate")
@clikit.on_desk
def scorecard_rate(
    session: Session,
    customer: clikit.CustomerArg,
    rating: Ratings = None,
    note: Annotated[str, typer.Option("--note", help="What stands behind the ratings.")] = "",
    by: clikit.By = None,
) -> clikit.Shown:
    """Our side: rate the relationship with a customer on our categories (1-5 each):
    communication, pays_on_time, predictability, partnership."""
    from keepwell.feedback.answers import rate_relationship

    item = rate_relationship(session, customer, _ratings(rating) or {}, note=note, member=by)
    return f"Our scorecard #{item.id} for {customer.name or f'#{customer.id}'} recorded."


@scorecard_app.command("show")
@clikit.on_desk
def scorecard_show(
    session: Session, customer: clikit.CustomerArg, as_json: clikit.JsonOpt = False
) -> clikit.Shown:
    """Both sides of the scorecard, side by side: how they rate us, how we rate them."""
    from keepwell.feedback.service import scorecards

    both = scorecards(session, customer)
    if as_json:
        return clikit.json_of(both)
    shown: list[Any] = []
    for title, side in (("They rate us", both["theirs"]), ("We rate them", both["ours"])):
        if side is None:
            shown.append(Text(f"{title}: no scorecard yet."))
            continue
        table = Table("category", "rating", title=f"{title} ({side['answered_at'][:10]})",
                      title_justify="left")  # fmt: skip
        for name, label in side["labels"].items():
            value = side["ratings"].get(name)
            table.add_row(Text(label), "" if value is None else str(value))
        table.add_row("mean", "" if side["mean"] is None else f"{side['mean']:.1f}")
        shown.append(table)
        if side["comment"]:
            shown.append(Text(f"“{side['comment']}”"))
    return Group(*shown)
