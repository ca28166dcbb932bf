"""`keepwell goal …` and `keepwell review …`."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Group
from rich.table import Table
from rich.text import Text

from keepwell import clikit, clock
from keepwell.reviews.goals import GoalFilter
from keepwell.reviews.models import ANSWERS, GOAL_STATUSES, REVIEW_STATUSES, AccountReview, Goal
from keepwell.reviews.schemas import GoalPublic, ReviewPublic
from keepwell.reviews.service import ReviewFilter

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from keepwell.reviews.schemas import ChecklistPublic

goal_app = typer.Typer(help="Goals agreed with customers.", no_args_is_help=True)
review_app = typer.Typer(
    help="Account reviews: the checklist, due reviews, questions, settings.", no_args_is_help=True
)
question_app = typer.Typer(help="An admin's own review questions.", no_args_is_help=True)
review_app.add_typer(question_app, name="question")

TheGoal = Annotated[
    Goal,
    typer.Argument(metavar="ID", help="The goal's id."),
    clikit.record("keepwell.reviews.goals:get_goal"),
]
TheReview = Annotated[
    AccountReview,
    typer.Argument(metavar="ID", help="The review's id."),
    clikit.record("keepwell.reviews.service:get_review"),
]
QuestionId = Annotated[int, typer.Argument(metavar="ID", help="The question's id.")]
Position = Annotated[int | None, typer.Option("--position", help="Order (0 first).")]


# --- goals --------------------------------------------------------------------------


@goal_app.command("add")
@clikit.on_desk
def goal_add(
    session: Session,
    customer: clikit.CustomerArg,
    what: Annotated[str, typer.Argument(help="What they want to achieve with us.")],
    target: Annotated[date | None, clikit.day("--target", help="Target date")] = None,
    notes: Annotated[str, typer.Option("--notes", help="Anything worth keeping.")] = "",
    by: clikit.By = None,
) -> clikit.Shown:
    """Record a goal agreed with a customer."""
    from keepwell.reviews.goals import add_goal

    goal = add_goal(session, customer, what=what, target_on=target, notes=notes, member=by)
    return f"Goal #{goal.id} for {customer.name or f'#{customer.id}'}: {goal.what}"


@goal_app.command("update")
@clikit.on_desk
def goal_update(
    session: Session,
    goal: TheGoal,
    what: Annotated[str | None, typer.Option("--what", help="New wording.")] = None,
    target: Annotated[
        str | None, typer.Option("--target", help="New target date (YYYY-MM-DD, or 'none').")
    ] = None,
    status: Annotated[str | None, clikit.one_of("--status", values=GOAL_STATUSES)] = None,
    notes: Annotated[str | None, typer.Option("--notes", help="Replace the notes.")] = None,
) -> clikit.Shown:
    """Change a goal: met, missed, dropped (or open again), its wording, target or notes."""
    from keepwell.reviews.goals import UNSET, update_goal

    target_on: Any = UNSET
    if target is not None and target.strip().lower() == "none":
        target_on = None
    elif target is not None:
        try:
            target_on = clikit.parse_day(target)
        except typer.BadParameter as exc:
            exc.param_hint = "--target"
            raise
    update_goal(session, goal, what=what, target_on=target_on, notes=notes, status=status)
    return f"Goal #{goal.id}: {goal.status}."


@goal_app.command("delete")
@clikit.on_desk
def goal_delete(session: Session, goal: TheGoal) -> clikit.Shown:
    """Forget a goal entered by mistake."""
    from keepwell.reviews.goals import delete_goal

    delete_goal(session, goal)
    return f"Goal #{goal.id} deleted."


@goal_app.command("list")
@clikit.lists(
    GoalFilter,
    customer_id=clikit.CustomerRef,
    status=Annotated[str | None, clikit.one_of("--status", values=GOAL_STATUSES)],
)
def goal_list(session: Session, filters: GoalFilter) -> clikit.Listing[GoalPublic]:
    """List goals by target date.

    --json prints what GET /api/goals answers."""
    from keepwell.reviews.goals import list_goals

    columns: list[clikit.Column[GoalPublic]] = [
        ("id", lambda g: g.id),
        ("customer", lambda g: f"#{g.customer_id}"),
        ("what", lambda g: g.what),
        ("target", lambda g: g.target_on),
        ("status", lambda g: g.status),
    ]
    rows = [GoalPublic.model_validate(g) for g in list_goals(session, filters)]
    return clikit.Listing(rows, columns, empty="No goals.")


# --- reviews ------------------------------------------------------------------------


def _checklist(session: Session, review: AccountReview) -> ChecklistPublic:
    from keepwell.reviews.schemas import ChecklistPublic
    from keepwell.reviews.service import checklist

    return ChecklistPublic.model_validate(checklist(session, review).to_dict())


@review_app.command("list")
@clikit.lists(
    ReviewFilter,
    member_id=clikit.Owner,
    customer_id=clikit.CustomerRef,
    status=Annotated[str | None, clikit.one_of("--status", values=REVIEW_STATUSES)],
    due_by=Annotated[date | None, clikit.day("--due-by", help="Due by this day")],
)
def review_list(session: Session, filters: ReviewFilter) -> clikit.Listing[ReviewPublic]:
    """List account reviews, soonest due first.

    --json prints what GET /api/reviews answers."""
    from keepwell.reviews.service import list_reviews

    columns: list[clikit.Column[ReviewPublic]] = [
        ("id", lambda r: r.id),
        ("customer", lambda r: f"#{r.customer_id}"),
        ("kind", lambda r: r.kind),
        ("due", lambda r: r.due_on),
        ("status", lambda r: r.status),
        ("yes/answered", lambda r: f"{r.yes}/{r.answered}" if r.status == "done" else ""),
    ]
    rows = [ReviewPublic.model_validate(r) for r in list_reviews(session, filters)]
    return clikit.Listing(rows, columns, empty="No reviews.")


@review_app.command("start")
@clikit.on_desk
def review_start(
    session: Session,
    customer: clikit.CustomerArg,
    due: Annotated[date | None, clikit.day("--due", help="Due day; default: today")] = None,
    by: clikit.By = None,
) -> clikit.Shown:
    """Start an account review of any customer now (or due on a day)."""
    from keepwell.reviews.service import start_review

    review = start_review(session, customer, member=by, due_on=due)
    return f"Review #{review.id} due {review.due_on}: `keepwell review show {review.id}`."


@review_app.command("show")
@clikit.on_desk
def review_show(
    session: Session, review: TheReview, as_json: clikit.JsonOpt = False
) -> clikit.Shown:
    """The review's checklist: what the records say, the suggested and the given answers.

    --json prints what GET /api/reviews/ID answers."""
    data = _checklist(session, review)
    if as_json:
        return clikit.record_json(data)
    r = data.review
    table = Table("question", "asks", "the records say", "suggested", "answer", show_lines=True)
    for item in data.items:
        answer = (item.answer or "") + (f" — {item.note}" if item.note else "")
        table.add_row(
            Text(item.question), Text(item.text), Text(item.hint), Text(item.suggested or ""),
            Text(answer),
        )  # fmt: skip
    goals = [
        Text(f"goal #{g.id} [{g.status}] {g.what} (target {g.target_on or '—'})")
        for g in data.goals
    ]
    head = Text(f"Review #{r.id} of {data.customer} — {r.status}, due {r.due_on}")
    return Group(head, table, *goals)


@review_app.command("answer")
@clikit.on_desk
def review_answer(
    session: Session,
    review: TheReview,
    question: Annotated[str, typer.Argument(help="The question's key (see `review show`).")],
    answer: Annotated[str, typer.Argument(help=f"One of {', '.join(ANSWERS)}.")],
    note: Annotated[str, typer.Option("--note", help="What lies behind the answer.")] = "",
    by: clikit.By = None,
) -> clikit.Shown:
    """Answer one checklist question: yes, no or partly, with a note."""
    from keepwell.reviews.service import AnswerIn, answer_review

    answer_review(session, review, [AnswerIn(question, answer, note)], member=by)
    return f"Review #{review.id}: {question} = {answer}."


@review_app.command("complete")
@clikit.on_desk
def review_complete(
    session: Session,
    review: TheReview,
    note: Annotated[str, typer.Option("--note", help="The review's summary.")] = "",
    by: clikit.By = None,
) -> clikit.Shown:
    """Finish a review whose questions are all answered; schedules a key account's next."""
    from keepwell.reviews.service import complete_review

    done, following = complete_review(session, review, member=by, note=note)
    after = f" Next review #{following.id} due {following.due_on}." if following else ""
    return f"Review #{done.id} done: {done.yes} of {done.answered} answered yes.{after}"


@review_app.command("cancel")
@clikit.on_desk
def review_cancel(
    session: Session,
    review: TheReview,
    note: Annotated[str, typer.Option("--note", help="Why.")] = "",
) -> clikit.Shown:
    """Drop a due review."""
    from keepwell.reviews.service import cancel_review

    cancel_review(session, review, note=note)
    return f"Review #{review.id} cancelled."


@review_app.command("schedule")
@clikit.on_desk
def review_schedule(
    session: Session,
    when: Annotated[date | None, clikit.day("--date", help="Due day; default: today")] = None,
) -> clikit.Shown:
    """Give every key account a due review (`keepwell serve` does it daily too)."""
    from keepwell.reviews.service import schedule_reviews

    run = schedule_reviews(session.connection(), when or clock.today())
    return (
        f"{run.scheduled:,} reviews scheduled, {run.reassigned:,} moved to a new owner, "
        f"{run.cancelled:,} cancelled (no longer key accounts)."
    )


@review_app.command("settings")
@clikit.on_desk
def review_settings(
    session: Session,
    interval_days: Annotated[
        int | None, typer.Option("--interval-days", help="Days between a key account's reviews.")
    ] = None,
    key_segment: Annotated[
        list[str] | None,
        typer.Option("--key-segment", help="A key account's segment (repeat; replaces the list)."),
    ] = None,
    min_revenue: Annotated[
        int | None,
        typer.Option("--min-revenue-minor", help="Key account from this revenue (minor units)."),
    ] = None,
    no_min_revenue: Annotated[
        bool, typer.Option("--no-min-revenue", help="Revenue makes no key account.")
    ] = False,
) -> clikit.Shown:
    """Show or change who is a key account and how often they are reviewed (JSON, as
    GET /api/review-settings answers)."""
    from keepwell.reviews.schemas import ReviewSettingsPublic
    from keepwell.reviews.setup import UNSET, review_config, set_review_config

    changes: dict[str, Any] = {}
    if min_revenue is not None or no_min_revenue:
        changes["min_revenue_minor"] = None if no_min_revenue else min_revenue
    if interval_days is None and key_segment is None and not changes:
        config = review_config(session)
    else:
        config = set_review_config(
            session,
            interval_days=interval_days,
            key_segments=key_segment,
            min_revenue_minor=changes.get("min_revenue_minor", UNSET),
        )
    return clikit.record_json(ReviewSettingsPublic.model_validate(config.to_dict()))


@question_app.command("add")
@clikit.on_desk
def question_add(
    session: Session,
    text: Annotated[str, typer.Argument(help="The question, as the owner will read it.")],
    position: Position = None,
) -> clikit.Shown:
    """Add a question to every review's checklist."""
    from keepwell.reviews.setup import add_question

    return f"Question q:{add_question(session, text, position=position).id} added."


@question_app.command("update")
@clikit.on_desk
def question_update(
    session: Session,
    question_id: QuestionId,
    text: Annotated[str | None, typer.Option("--text", help="New wording.")] = None,
    active: Annotated[
        bool | None, typer.Option("--active/--inactive", help="On the checklist or not.")
    ] = None,
    position: Position = None,
) -> clikit.Shown:
    """Reword, reorder, or take a question off (and back on) the checklist."""
    from keepwell.reviews.setup import update_question

    question = update_question(session, question_id, text=text, active=active, position=position)
    return f"Question q:{question.id}: {'active' if question.active else 'inactive'}."


@question_app.command("list")
@clikit.on_desk
def question_list(session: Session, as_json: clikit.JsonOpt = False) -> clikit.Shown:
    """The checklist's own questions, in order (inactive ones too).

    --json prints what GET /api/review-questions answers."""
    from keepwell.reviews.schemas import QuestionPublic
    from keepwell.reviews.service import BUILTIN
    from keepwell.reviews.setup import list_questions

    rows = [QuestionPublic.model_validate(q) for q in list_questions(session)]
    if as_json:
        return clikit.listing(rows, (), as_json=True)
    table = Table("key", "question", "active", "position")
    for key, text in BUILTIN:
        table.add_row(key, Text(text), "built in", "")
    for q in rows:
        table.add_row(f"q:{q.id}", Text(q.text), "yes" if q.active else "no", str(q.position))
    return table
