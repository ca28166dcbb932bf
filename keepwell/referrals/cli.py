"""`keepwell referral …`."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from keepwell.clikit import Database, JsonOpt, errors, out, print_json, say, session_for
from keepwell.referrals.models import REWARD_STATUSES, Referral, ReferralReward

referral_app = typer.Typer(
    help="Referral codes, who referred whom, rewards, promoters to ask.", no_args_is_help=True
)
CustomerArg = Annotated[str, typer.Argument(help="The customer: #id, external id or e-mail.")]


def _referral_json(r: Referral) -> dict[str, Any]:
    return {
        "id": r.id, "customer_id": r.customer_id, "referrer_id": r.referrer_id, "code": r.code,
        "source": r.source, "linked_at": r.linked_at.isoformat(), "note": r.note,
    }  # fmt: skip


def _reward_json(w: ReferralReward) -> dict[str, Any]:
    return {
        "id": w.id, "referral_id": w.referral_id, "customer_id": w.customer_id, "what": w.what,
        "status": w.status, "earned_at": w.earned_at.isoformat() if w.earned_at else None,
        "given_at": w.given_at.isoformat() if w.given_at else None, "note": w.note,
    }  # fmt: skip


@referral_app.command("code")
def referral_code(customer: CustomerArg, database: Database = None) -> None:
    """The customer's referral code (made now if they have none)."""
    from keepwell.customers.service import find_customer
    from keepwell.referrals.service import code_of

    with errors(), session_for(database) as session:
        code = code_of(session, find_customer(session, customer))
    say(str(code))


@referral_app.command("link")
def referral_link(
    customer: Annotated[str, typer.Argument(help="The referred customer: #id, id or e-mail.")],
    code: Annotated[str | None, typer.Option("--code", help="The referrer's code.")] = None,
    referrer: Annotated[
        str | None, typer.Option("--referrer", help="The referrer: #id, id or e-mail.")
    ] = None,
    note: Annotated[str, typer.Option("--note", help="How it came about.")] = "",
    by: Annotated[str | None, typer.Option("--by", help="E-mail of the member.")] = None,
    database: Database = None,
) -> None:
    """Record who referred a customer (by their code or by naming them)."""
    from keepwell.accounts.service import find_member
    from keepwell.customers.service import find_customer
    from keepwell.referrals.service import link_referral

    if code is None and referrer is None:
        raise typer.BadParameter("give --code or --referrer", param_hint="--code")
    with errors(), session_for(database) as session:
        referral = link_referral(
            session,
            find_customer(session, customer),
            code=code,
            referrer=find_customer(session, referrer) if referrer else None,
            member=find_member(session, by) if by else None,
            source="cli",
            note=note,
        )
        say(
            f"Referral #{referral.id}: #{referral.customer_id} referred by #{referral.referrer_id}."
        )


@referral_app.command("unlink")
def referral_unlink(
    referral_id: Annotated[int, typer.Argument(metavar="ID", help="The referral's id.")],
    database: Database = None,
) -> None:
    """Remove a referral recorded by mistake (not once its reward was given)."""
    from keepwell.referrals.service import unlink_referral

    with errors(), session_for(database) as session:
        unlink_referral(session, referral_id)
    say(f"Referral #{referral_id} removed.")


@referral_app.command("list")
def referral_list(
    referrer: Annotated[
        str | None, typer.Option("--referrer", help="Only those this customer referred.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="At most this many (1-500).")] = 50,
    database: Database = None,
    as_json: JsonOpt = False,
) -> None:
    """List referrals, newest first."""
    from keepwell.customers.service import find_customer
    from keepwell.referrals.service import ReferralFilter, list_referrals

    with errors(), session_for(database) as session:
        filters = ReferralFilter(
            referrer_id=find_customer(session, referrer).id if referrer else None, limit=limit
        )
        rows = [_referral_json(r) for r in list_referrals(session, filters)]
    if as_json:
        print_json(rows)
        return
    table = Table("id", "customer", "referred by", "code", "source", "linked")
    for r in rows:
        table.add_row(
            str(r["id"]), f"#{r['customer_id']}", f"#{r['referrer_id']}", r["code"], r["source"],
            r["linked_at"][:10],
        )  # fmt: skip
    out.print(table)


@referral_app.command("rewards")
def referral_rewards(
    status: Annotated[
        str | None, typer.Option("--status", help=f"One of {', '.join(REWARD_STATUSES)}.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="At most this many (1-500).")] = 50,
    database: Database = None,
    as_json: JsonOpt = False,
) -> None:
    """List referral rewards, oldest first (pending until the referred customer buys)."""
    from keepwell.referrals.service import RewardFilter, list_rewards

    with errors(), session_for(database) as session:
        rows = [
            _reward_json(w) for w in list_rewards(session, RewardFilter(status=status, limit=limit))
        ]
    if as_json:
        print_json(rows)
        return
    table = Table("id", "referrer", "what", "status", "earned", "given")
    for r in rows:
        table.add_row(
            str(r["id"]), f"#{r['customer_id']}", escape(r["what"]), r["status"],
            (r["earned_at"] or "")[:10], (r["given_at"] or "")[:10],
        )  # fmt: skip
    out.print(table)


@referral_app.command("give")
def referral_give(
    reward_id: Annotated[int, typer.Argument(metavar="ID", help="The reward's id.")],
    note: Annotated[str, typer.Option("--note", help="What was given.")] = "",
    by: Annotated[str | None, typer.Option("--by", help="E-mail of the member.")] = None,
    database: Database = None,
) -> None:
    """Mark an earned reward given."""
    from keepwell.accounts.service import find_member
    from keepwell.referrals.service import get_reward, give_reward

    with errors(), session_for(database) as session:
        member = find_member(session, by) if by else None
        give_reward(session, get_reward(session, reward_id), member=member, note=note)
    say(f"Reward #{reward_id} given.")


@referral_app.command("ask")
def referral_ask(
    owner: Annotated[str | None, typer.Option("--owner", help="Their owner's e-mail.")] = None,
    limit: Annotated[int, typer.Option("--limit", help="At most this many (1-500).")] = 50,
    database: Database = None,
    as_json: JsonOpt = False,
) -> None:
    """Promoters (latest NPS 9-10) who have not referred anyone yet: ask them."""
    from dataclasses import asdict

    from keepwell.accounts.service import find_member
    from keepwell.referrals.service import promoters_to_ask

    with errors(), session_for(database) as session:
        member = find_member(session, owner) if owner else None
        found = promoters_to_ask(session, member_id=member.id if member else None, limit=limit)
    rows = [asdict(s) for s in found]
    if as_json:
        print_json(rows)
        return
    if not rows:
        say("No promoters waiting to be asked.")
        return
    table = Table("customer", "NPS", "answered", "code")
    for r in rows:
        table.add_row(
            escape(r["customer"]), str(r["score"]), f"{r['answered_at']:%Y-%m-%d}", r["code"] or ""
        )
    out.print(table)


@referral_app.command("reward")
def referral_reward(
    text: Annotated[str | None, typer.Argument(help="What a referrer gets (to change it).")] = None,
    database: Database = None,
) -> None:
    """Show or change what a referrer gets for each referral that buys."""
    from keepwell.referrals.service import reward_text, set_reward_text

    with errors(), session_for(database) as session:
        current = set_reward_text(session, text) if text is not None else reward_text(session)
    say(current)
