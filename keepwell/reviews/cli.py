"""`keepwell goal …` and `keepwell review …`."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table
from sqlalchemy.orm import Session

from keepwell import clock
from keepwell.clikit import Database, JsonOpt, errors, out, print_json, say, session_for
from keepwell.reviews.models import ANSWERS, GOAL_STATUSES, REVIEW_STATUSES, Goal

goal_app = typer.Typer(help="Goals agreed with customers.", no_args_is_help=True)
review_app = typer.Typer(
    help="Account reviews: the checklist, due reviews, questions, settings.", no_args_is_help=True
)
question_app = typer.Typer(help="An admin's own review questions.", no_args_is_help=True)
review_app.add_typer(question_app, name="question")

CustomerArg = Annotated[str, typer.Argument(help="The customer: #id, external id or e-mail.")]
By = Annotated[str | None, typer.Option("--by", help="E-mail of the member acting.")]


def _day(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is not a date (YYYY-MM-DD)", param_hint=option
        ) from None


def _goal_json(goal: Goal) -> dict[str, Any]:
    return {
        "id": goal.id, "customer_id": goal.customer_id, "member_id": goal.member_id,
        "what": goal.what, "agreed_on": goal.agreed_on.isoformat(),
        "target_on": goal.target_on.isoformat() if goal.target_on else None,
        "status": goal.status, "closed_on": goal.closed_on.isoformat() if goal.closed_on else None,
        "notes": goal.notes,
    }  # fmt: skip


# --- goals --------------------------------------------------------------------------


@goal_app.command("add")
def goal_add(
    customer: CustomerArg,
    what: Annotated[str, typer.Argument(help="What they want to achieve with us.")],
    target: Annotated[str | None, typer.Option("--target", help="Target date, YYYY-MM-DD.")] = None,
    notes: Annotated[str, typer.Option("--notes", help="Anything worth keeping.")] = "",
    by: By = None,
    database: Database = None,
) -> None:
    """Record a goal agreed with a customer."""
    from keepwell.accounts.service import find_member
    from keepwell.customers.service import find_customer
    from keepwell.reviews.goals import add_goal

    target_on = _day(target, "--target")
    with errors(), session_for(database) as session:
        found = find_customer(session, customer)
        member = find_member(session, by) if by else None
        goal = add_goal(session, found, what=what, target_on=target_on, notes=notes, member=member)
        say(f"Goal #{goal.id} for {found.name or f'#{found.id}'}: {goal.what}")


@goal_app.command("update")
def goal_update(
    goal_id: Annotated[int, typer.Argument(metavar="ID", help="The goal's id.")],
    what: Annotated[str | None, typer.Option("--what", help="New wording.")] = None,
    target: Annotated[
        str | None, typer.Option("--target", help="New target date (YYYY-MM-DD, or 'none').")
    ] = None,
    status: Annotated[
        str | None, typer.Option("--status", help=f"One of {', '.join(GOAL_STATUSES)}.")
    ] = None,
    notes: Annotated[str | None, typer.Option("--notes", help="Replace the notes.")] = None,
    database: Database = None,
) -> None:
    """Change a goal: met, missed, dropped (or open again), its wording, target or notes."""
    from keepwell.reviews.goals import UNSET, get_goal, update_goal

    if status is not None and status not in GOAL_STATUSES:
        raise typer.BadParameter(f"use one of {', '.join(GOAL_STATUSES)}", param_hint="--status")
    target_on: Any = UNSET
    if target is not None:
        target_on = None if target.strip().lower() == "none" else _day(target, "--target")
    with errors(), session_for(database) as session:
        goal = update_goal(
            session, get_goal(session, goal_id), what=what, target_on=target_on, notes=notes,
            status=status,
        )  # fmt: skip
        say(f"Goal #{goal.id}: {goal.status}.")


@goal_app.command("delete")
def goal_delete(
    goal_id: Annotated[int, typer.Argument(metavar="ID", help="The goal's id.")],
    database: Database = None,
) -> None:
    """Forget a goal entered by mistake."""
    from keepwell.reviews.goals import delete_goal, get_goal

    with errors(), session_for(database) as session:
        delete_goal(session, get_goal(session, goal_id))
    say(f"Goal #{goal_id} deleted.")


@goal_app.command("list")
def goal_list(
    customer: Annotated[
        str | None, typer.Option("--customer", help="Only this customer's.")
    ] = None,
    status: Annotated[
        str | None, typer.Option("--status", help=f"One of {', '.join(GOAL_STATUSES)}.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="At most this many (1-500).")] = 50,
    database: Database = None,
    as_json: JsonOpt = False,
) -> None:
    """List goals by target date."""
    from keepwell.customers.service import find_customer
    from keepwell.reviews.goals import GoalFilter, list_goals

    with errors(), session_for(database) as session:
        filters = GoalFilter(
            customer_id=find_customer(session, customer).id if customer else None,
            status=status,
            limit=limit,
        )
        rows = [_goal_json(g) for g in list_goals(session, filters)]
    if as_json:
        print_json(rows)
        return
    if not rows:
        say("No goals.")
        return
    table = Table("id", "customer", "what", "target", "status")
    for r in rows:
        table.add_row(
            str(r["id"]),
            f"#{r['customer_id']}",
            escape(r["what"]),
            r["target_on"] or "",
            r["status"],
        )
    out.print(table)


# --- reviews ------------------------------------------------------------------------


def _print_checklist(session: Session, review_id: int, as_json: bool) -> None:
    from keepwell.reviews.service import checklist, get_review

    data = checklist(session, get_review(session, review_id)).to_dict()
    if as_json:
        print_json(data)
        return
    r = data["review"]
    say(f"Review #{r['id']} of {data['customer']} — {r['status']}, due {r['due_on']}")
    table = Table("question", "asks", "the records say", "suggested", "answer", show_lines=True)
    for item in data["items"]:
        answer = item["answer"] or ""
        if item["note"]:
            answer += f" — {item['note']}"
        table.add_row(
            item["question"], escape(item["text"]), escape(item["hint"]), item["suggested"] or "",
            escape(answer),
        )  # fmt: skip
    out.print(table)
    for goal in data["goals"]:
        say(
            f"goal #{goal['id']} [{goal['status']}] {goal['what']} "
            f"(target {goal['target_on'] or '—'})"
        )


@review_app.command("list")
def review_list(
    owner: Annotated[str | None, typer.Option("--owner", help="Member e-mail.")] = None,
    customer: Annotated[
        str | None, typer.Option("--customer", help="Only this customer's.")
    ] = None,
    status: Annotated[
        str | None, typer.Option("--status", help=f"One of {', '.join(REVIEW_STATUSES)}.")
    ] = None,
    due_by: Annotated[str | None, typer.Option("--due-by", help="Due by this day.")] = None,
    limit: Annotated[int, typer.Option("--limit", help="At most this many (1-500).")] = 50,
    database: Database = None,
    as_json: JsonOpt = False,
) -> None:
    """List account reviews, soonest due first."""
    from keepwell.accounts.service import find_member
    from keepwell.customers.service import find_customer
    from keepwell.reviews.service import ReviewFilter, list_reviews

    day = _day(due_by, "--due-by")
    with errors(), session_for(database) as session:
        filters = ReviewFilter(
            status=status,
            member_id=find_member(session, owner).id if owner else None,
            customer_id=find_customer(session, customer).id if customer else None,
            due_by=day,
            limit=limit,
        )
        rows: list[dict[str, Any]] = [
            {
                "id": r.id,
                "customer_id": r.customer_id,
                "member_id": r.member_id,
                "kind": r.kind,
                "due_on": r.due_on.isoformat(),
                "status": r.status,
                "completed_at": r.completed_at.isoformat() if r.completed_at else None,
                "answered": r.answered,
                "yes": r.yes,
            }
            for r in list_reviews(session, filters)
        ]
    if as_json:
        print_json(rows)
        return
    if not rows:
        say("No reviews.")
        return
    table = Table("id", "customer", "kind", "due", "status", "yes/answered")
    for r in rows:
        table.add_row(
            str(r["id"]), f"#{r['customer_id']}", r["kind"], r["due_on"], r["status"],
            f"{r['yes']}/{r['answered']}" if r["status"] == "done" else "",
        )  # fmt: skip
    out.print(table)


@review_app.command("start")
def review_start(
    customer: CustomerArg,
    due: Annotated[str | None, typer.Option("--due", help="Due day (default today).")] = None,
    by: By = None,
    database: Database = None,
) -> None:
    """Start an account review of any customer now (or due on a day)."""
    from keepwell.accounts.service import find_member
    from keepwell.customers.service import find_customer
    from keepwell.reviews.service import start_review

    due_on = _day(due, "--due")
    with errors(), session_for(database) as session:
        member = find_member(session, by) if by else None
        review = start_review(
            session, find_customer(session, customer), member=member, due_on=due_on
        )
        say(f"Review #{review.id} due {review.due_on}: `keepwell review show {review.id}`.")


@review_app.command("show")
def review_show(
    review_id: Annotated[int, typer.Argument(metavar="ID", help="The review's id.")],
    database: Database = None,
    as_json: JsonOpt = False,
) -> None:
    """The review's checklist: what the records say, the suggested and the given answers."""
    with errors(), session_for(database) as session:
        _print_checklist(session, review_id, as_json)


@review_app.command("answer")
def review_answer(
    review_id: Annotated[int, typer.Argument(metavar="ID", help="The review's id.")],
    question: Annotated[str, typer.Argument(help="The question's key (see `review show`).")],
    answer: Annotated[str, typer.Argument(help=f"One of {', '.join(ANSWERS)}.")],
    note: Annotated[str, typer.Option("--note", help="What lies behind the answer.")] = "",
    by: By = None,
    database: Database = None,
) -> None:
    """Answer one checklist question: yes, no or partly, with a note."""
    from keepwell.accounts.service import find_member
    from keepwell.reviews.service import AnswerIn, answer_review, get_review

    with errors(), session_for(database) as session:
        member = find_member(session, by) if by else None
        answer_review(
            session,
            get_review(session, review_id),
            [AnswerIn(question, answer, note)],
            member=member,
        )
        say(f"Review #{review_id}: {question} = {answer}.")


@review_app.command("complete")
def review_complete(
    review_id: Annotated[int, typer.Argument(metavar="ID", help="The review's id.")],
    note: Annotated[str, typer.Option("--note", help="The review's summary.")] = "",
    by: By = None,
    database: Database = None,
) -> None:
    """Finish a review whose questions are all answered; schedules a key account's next."""
    from keepwell.accounts.service import find_member
    from keepwell.reviews.service import complete_review, get_review

    with errors(), session_for(database) as session:
        member = find_member(session, by) if by else None
        done, following = complete_review(
            session, get_review(session, review_id), member=member, note=note
        )
        after = f" Next review #{following.id} due {following.due_on}." if following else ""
        say(f"Review #{done.id} done: {done.yes} of {done.answered} answered yes.{after}")


@review_app.command("cancel")
def review_cancel(
    review_id: Annotated[int, typer.Argument(metavar="ID", help="The review's id.")],
    note: Annotated[str, typer.Option("--note", help="Why.")] = "",
    database: Database = None,
) -> None:
    """Drop a due review."""
    from keepwell.reviews.service import cancel_review, get_review

    with errors(), session_for(database) as session:
        cancel_review(session, get_review(session, review_id), note=note)
    say(f"Review #{review_id} cancelled.")


@review_app.command("schedule")
def review_schedule(
    day: Annotated[str | None, typer.Option("--date", help="Due day (default today).")] = None,
    database: Database = None,
) -> None:
    """Give every key account a due review (`keepwell serve` does it daily too)."""
    from keepwell.reviews.service import schedule_reviews

    when = _day(day, "--date") or clock.today()
    with errors(), session_for(database) as session:
        run = schedule_reviews(session.connection(), when)
    say(
        f"{run.scheduled:,} reviews scheduled, {run.reassigned:,} moved to a new owner, "
        f"{run.cancelled:,} cancelled (no longer key accounts)."
    )


@review_app.command("settings")
def review_settings(
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
    database: Database = None,
) -> None:
    """Show or change who is a key account and how often they are reviewed."""
    from keepwell.reviews.setup import UNSET, review_config, set_review_config

    changes: dict[str, Any] = {}
    if min_revenue is not None or no_min_revenue:
        changes["min_revenue_minor"] = None if no_min_revenue else min_revenue
    with errors(), session_for(database) as session:
        if interval_days is None and key_segment is None and not changes:
            config = review_config(session)
        else:
            config = set_review_config(
                session,
                interval_days=interval_days,
                key_segments=key_segment,
                min_revenue_minor=changes.get("min_revenue_minor", UNSET),
            )
    print_json(config.to_dict())


@question_app.command("add")
def question_add(
    text: Annotated[str, typer.Argument(help="The question, as the owner will read it.")],
    position: Annotated[int | None, typer.Option("--position", help="Order (0 first).")] = None,
    database: Database = None,
) -> None:
    """Add a question to every review's checklist."""
    from keepwell.reviews.setup import add_question

    with errors(), session_for(database) as session:
        question = add_question(session, text, position=position)
        say(f"Question q:{question.id} added.")


@question_app.command("update")
def question_update(
    question_id: Annotated[int, typer.Argument(metavar="ID", help="The question's id.")],
    text: Annotated[str | None, typer.Option("--text", help="New wording.")] = None,
    active: Annotated[
        bool | None, typer.Option("--active/--inactive", help="On the checklist or not.")
    ] = None,
    position: Annotated[int | None, typer.Option("--position", help="Order (0 first).")] = None,
    database: Database = None,
) -> None:
    """Reword, reorder, or take a question off (and back on) the checklist."""
    from keepwell.reviews.setup import update_question

    with errors(), session_for(database) as session:
        question = update_question(
            session, question_id, text=text, active=active, position=position
        )
        say(f"Question q:{question.id}: {'active' if question.active else 'inactive'}.")


@question_app.command("list")
def question_list(database: Database = None, as_json: JsonOpt = False) -> None:
    """The checklist's own questions, in order (inactive ones too)."""
    from keepwell.reviews.service import BUILTIN
    from keepwell.reviews.setup import list_questions

    with errors(), session_for(database) as session:
        rows: list[dict[str, Any]] = [
            {
                "id": q.id,
                "key": f"q:{q.id}",
                "text": q.text,
                "active": q.active,
                "position": q.position,
            }
            for q in list_questions(session)
        ]
    if as_json:
        print_json(rows)
        return
    table = Table("key", "question", "active", "position")
    for key, text in BUILTIN:
        table.add_row(key, escape(text), "built in", "")
    for r in rows:
        table.add_row(
            r["key"], escape(r["text"]), "yes" if r["active"] else "no", str(r["position"])
        )
    out.print(table)
