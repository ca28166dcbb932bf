"""`keepwell referral …`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from keepwell import clikit
from keepwell.referrals.models import REWARD_STATUSES, ReferralReward
from keepwell.referrals.schemas import ReferralPublic, RewardPublic
from keepwell.referrals.service import ReferralFilter, RewardFilter

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

referral_app = typer.Typer(
    help="Referral codes, who referred whom, rewards, promoters to ask.", no_args_is_help=True
)


@referral_app.command("code")
@clikit.on_desk
def referral_code(session: Session, customer: clikit.CustomerArg) -> clikit.Shown:
    """The customer's referral code (made now if they have none)."""
    from keepwell.referrals.service import code_of

    return str(code_of(session, customer))


@referral_app.command("link")
@clikit.on_desk
def referral_link(
    session: Session,
    customer: Annotated[
        clikit.TheCustomer,
        typer.Argument(metavar="CUSTOMER", help="The referred customer: #id, id or e-mail."),
    ],
    code: Annotated[str | None, typer.Option("--code", help="The referrer's code.")] = None,
    referrer: Annotated[
        clikit.CustomerOrNone,
        typer.Option("--referrer", metavar="REF", help="The referrer: #id, id or e-mail."),
    ] = None,
    note: Annotated[str, typer.Option("--note", help="How it came about.")] = "",
    by: clikit.By = None,
) -> clikit.Shown:
    """Record who referred a customer (by their code or by naming them)."""
    from keepwell.referrals.service import link_referral

    if code is None and referrer is None:
        raise typer.BadParameter("give --code or --referrer", param_hint="--code")
    referral = link_referral(
        session,
        customer,
        code=code,
        referrer=referrer,
        member=by,
        source="cli",
        note=note,
    )
    return f"Referral #{referral.id}: #{referral.customer_id} referred by #{referral.referrer_id}."


@referral_app.command("unlink")
@clikit.on_desk
def referral_unlink(
    session: Session,
    referral_id: Annotated[int, typer.Argument(metavar="ID", help="The referral's id.")],
) -> clikit.Shown:
    """Remove a referral recorded by mistake (not once its reward was given)."""
    from keepwell.referrals.service import unlink_referral

    unlink_referral(session, referral_id)
    return f"Referral #{referral_id} removed."


@referral_app.command("list")
@clikit.lists(
    ReferralFilter,
    referrer_id=Annotated[
        clikit.CustomerId,
        typer.Option("--referrer", metavar="REF", help="Only those this customer referred."),
    ],
)
def referral_list(session: Session, filters: ReferralFilter) -> clikit.Listing[ReferralPublic]:
    """List referrals, newest first.

    --json prints what GET /api/referrals answers."""
    from keepwell.referrals.service import list_referrals

    columns: list[clikit.Column[ReferralPublic]] = [
        ("id", lambda r: r.id),
        ("customer", lambda r: f"#{r.customer_id}"),
        ("referred by", lambda r: f"#{r.referrer_id}"),
        ("code", lambda r: r.code),
        ("source", lambda r: r.source),
        ("linked", lambda r: r.linked_at.date()),
    ]
    found = list_referrals(session, filters)
    return clikit.Listing([ReferralPublic.model_validate(r) for r in found], columns)


@referral_app.command("rewards")
@clikit.lists(
    RewardFilter, status=Annotated[str | None, clikit.one_of("--status", values=REWARD_STATUSES)]
)
def referral_rewards(session: Session, filters: RewardFilter) -> clikit.Listing[RewardPublic]:
    """List referral rewards, oldest first (pending until the referred customer buys).

    --json prints what GET /api/referral-rewards answers."""
    from keepwell.referrals.service import list_rewards

    columns: list[clikit.Column[RewardPublic]] = [
        ("id", lambda w: w.id),
        ("referrer", lambda w: f"#{w.customer_id}"),
        ("what", lambda w: w.what),
        ("status", lambda w: w.status),
        ("earned", lambda w: w.earned_at and w.earned_at.date()),
        ("given", lambda w: w.given_at and w.given_at.date()),
    ]
    found = list_rewards(session, filters)
    return clikit.Listing([RewardPublic.model_validate(w) for w in found], columns)


@referral_app.command("give")
@clikit.on_desk
def referral_give(
    session: Session,
    reward: Annotated[
        ReferralReward,
        typer.Argument(metavar="ID", help="The reward's id."),
        clikit.record("keepwell.referrals.service:get_reward"),
    ],
    note: Annotated[str, typer.Option("--note", help="What was given.")] = "",
    by: clikit.By = None,
) -> clikit.Shown:
    """Mark an earned reward given."""
    from keepwell.referrals.service import give_reward

    give_reward(session, reward, member=by, note=note)
    return f"Reward #{reward.id} given."


@referral_app.command("ask")
@clikit.on_desk
def referral_ask(
    session: Session,
    owner: clikit.Owner = None,
    limit: clikit.Limit = 50,
    as_json: clikit.JsonOpt = False,
) -> clikit.Shown:
    """Promoters (latest NPS 9-10) who have not referred anyone yet: ask them.

    --json prints what GET /api/referrals/promoters-to-ask answers."""
    from keepwell.referrals.schemas import AskPublic
    from keepwell.referrals.service import promoters_to_ask

    found = promoters_to_ask(session, member_id=owner, limit=limit)
    return clikit.listing(
        [AskPublic.model_validate(s, from_attributes=True) for s in found],
        (
            ("customer", lambda a: a.customer),
            ("NPS", lambda a: a.score),
            ("answered", lambda a: a.answered_at.date()),
            ("code", lambda a: a.code),
        ),
        as_json=as_json,
        empty="No promoters waiting to be asked.",
    )


@referral_app.command("reward")
@clikit.on_desk
def referral_reward(
    session: Session,
    text: Annotated[str | None, typer.Argument(help="What a referrer gets (to change it).")] = None,
) -> clikit.Shown:
    """Show or change what a referrer gets for each referral that buys."""
    from keepwell.referrals.service import reward_text, set_reward_text

    return set_reward_text(session, text) if text is not None else reward_text(session)
