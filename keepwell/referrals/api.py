"""/api/referrals, /api/referral-rewards, a customer's referral code and referrals.

Readers read; members and admins link referrals, make codes and give rewards; admins set
what a reward is. Every change is in the audit trail."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request, Response

from keepwell.referrals import service
from keepwell.referrals.models import ReferralReward, RewardStatus
from keepwell.referrals.schemas import (
    AskPublic,
    CodePublic,
    CustomerReferralsPublic,
    ReferralPublic,
    RewardPublic,
    RewardSettingPublic,
)
from keepwell.web.deps import (
    AdminActor,
    CurrentActor,
    DbSession,
    IfMatch,
    acting_member,
    check_version,
    customer_by_id,
    etag,
    for_update,
    member_by_ref,
    router,
)
from keepwell.web.schemas import Id, Input, Long, text

Code = Annotated[str, text(40, min_length=1)]


class ReferralCreate(Input):
    """The referred customer and who referred them: their code, or their id (or both,
    when they agree)."""

    customer_id: Id
    referral_code: Code | None = None
    referrer_id: Id | None = None
    note: Long = ""


class GiveInput(Input):
    note: Long = ""  # what was given


class RewardSetting(Input):
    reward: Annotated[str, text(200, min_length=1)]


referrals = router("referrals")


@referrals.get("/customers/{customer_id}/referrals", response_model=CustomerReferralsPublic)
def customer_referrals(customer_id: Id, session: DbSession) -> CustomerReferralsPublic:
    """A customer's referral code (null until made), who referred them, whom they
    referred, and their rewards."""
    from keepwell.customers.service import get_customer

    found = service.referrals_of(session, get_customer(session, customer_id))
    return CustomerReferralsPublic(
        customer_id=found.customer_id,
        code=found.code,
        referred_by=ReferralPublic.model_validate(found.referred_by) if found.referred_by else None,
        referred=[ReferralPublic.model_validate(r) for r in found.referred],
        rewards=[RewardPublic.model_validate(r) for r in found.rewards],
    )


@referrals.post("/customers/{customer_id}/referral-code", response_model=CodePublic)
def make_code(customer_id: Id, session: DbSession) -> CodePublic:
    """The customer's referral code, made now if they have none (the same one after)."""
    code = service.code_of(session, customer_by_id(session, customer_id, "customer_id"))
    assert code is not None
    return CodePublic(customer_id=customer_id, code=code)


@referrals.get("/referrals", response_model=list[ReferralPublic])
def list_referrals(
    session: DbSession,
    referrer: Annotated[Id | None, Query(description="Referred by this customer.")] = None,
    customer: Annotated[Id | None, Query(description="This referred customer.")] = None,
    limit: Annotated[int, Query(ge=1, le=service.MAX_LIMIT)] = 50,
) -> list[ReferralPublic]:
    """Referrals, newest first."""
    filters = service.ReferralFilter(referrer_id=referrer, customer_id=customer, limit=limit)
    return [ReferralPublic.model_validate(r) for r in service.list_referrals(session, filters)]


@referrals.post("/referrals", response_model=ReferralPublic, status_code=201)
def link_referral(data: ReferralCreate, session: DbSession, actor: CurrentActor) -> ReferralPublic:
    """Record who referred a customer (with the referrer's reward, earned at the
    customer's first purchase). Unknown codes, self-referral and a customer referred
    already are refused."""
    referral = service.link_referral(
        session,
        customer_by_id(session, data.customer_id),
        code=data.referral_code,
        referrer=(
            customer_by_id(session, data.referrer_id, "referrer_id")
            if data.referrer_id is not None
            else None
        ),
        member=acting_member(session, actor),
        source="api",
        note=data.note,
    )
    return ReferralPublic.model_validate(referral)


@referrals.delete("/referrals/{referral_id}", status_code=204)
def unlink_referral(referral_id: Id, session: DbSession) -> Response:
    """Remove a referral recorded by mistake (not once its reward was given)."""
    service.unlink_referral(session, referral_id)
    return Response(status_code=204)


@referrals.get("/referrals/promoters-to-ask", response_model=list[AskPublic])
def promoters_to_ask(
    session: DbSession,
    owner: Annotated[
        str | None, Query(max_length=320, description="Their owner: member id or e-mail.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=service.MAX_LIMIT)] = 50,
) -> list[AskPublic]:
    """Promoters (latest NPS answer 9–10) who have not referred anyone yet: ask them to
    refer a friend."""
    member = member_by_ref(session, owner, "owner")
    found = service.promoters_to_ask(session, member_id=member.id if member else None, limit=limit)
    return [AskPublic.model_validate(s, from_attributes=True) for s in found]


@referrals.get("/referral-rewards", response_model=list[RewardPublic])
def list_rewards(
    session: DbSession,
    status: RewardStatus | None = None,
    customer: Annotated[Id | None, Query(description="The referrer's.")] = None,
    limit: Annotated[int, Query(ge=1, le=service.MAX_LIMIT)] = 50,
) -> list[RewardPublic]:
    """Referral rewards, oldest first."""
    filters = service.RewardFilter(status=status, customer_id=customer, limit=limit)
    return [RewardPublic.model_validate(r) for r in service.list_rewards(session, filters)]


@referrals.post("/referral-rewards/{reward_id}/give", response_model=RewardPublic)
def give_reward(
    reward_id: Id,
    request: Request,
    session: DbSession,
    actor: CurrentActor,
    response: Response,
    data: GiveInput | None = None,
    if_match: IfMatch = None,
) -> RewardPublic:
    """Mark an earned reward given (say what in the note)."""
    data = data or GiveInput()
    reward = for_update(session, ReferralReward, reward_id, "referral reward")
    check_version(request, "referral reward", reward.version, if_match)
    service.give_reward(session, reward, member=acting_member(session, actor), note=data.note)
    response.headers["ETag"] = etag(reward.version)
    return RewardPublic.model_validate(reward)


@referrals.get("/referral-settings", response_model=RewardSettingPublic)
def get_reward_setting(session: DbSession) -> RewardSettingPublic:
    """What a referrer gets for each referral that buys."""
    return RewardSettingPublic(reward=service.reward_text(session))


@referrals.put("/referral-settings", response_model=RewardSettingPublic)
def put_reward_setting(
    data: RewardSetting, session: DbSession, _: AdminActor
) -> RewardSettingPublic:
    """Change what a referrer gets (admins; rewards made from now on)."""
    return RewardSettingPublic(reward=service.set_reward_text(session, data.reward))
