"""/api/referrals, /api/referral-rewards, a customer's referral code and referrals.

Readers read; members and admins link referrals, make codes and give rewards; admins set
what a reward is. Every change is in the audit trail."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Response
from pydantic import Field

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
from keepwell.web.deps import AdminActor, DbSession, Me, customer_by_id, router
from keepwell.web.records import Keywords, ListQuery, MemberRef, api_list, keywords, locked, named
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


class ReferralQuery(ListQuery[service.ReferralFilter]):
    """Referrals, newest first."""

    referrer_id: Annotated[Id | None, named("referrer", "Referred by this customer.")] = None
    customer_id: Annotated[Id | None, named("customer", "This referred customer.")] = None
    limit: Annotated[int, Field(ge=1, le=service.MAX_LIMIT)] = 50


api_list(referrals, "/referrals", ReferralQuery, service.list_referrals, ReferralPublic)


@referrals.post("/referrals", response_model=ReferralPublic, status_code=201)
def link_referral(data: ReferralCreate, session: DbSession, me: Me) -> ReferralPublic:
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
        member=me,
        source="api",
        note=data.note,
    )
    return ReferralPublic.model_validate(referral)


class PromoterQuery(ListQuery[Keywords]):
    """Promoters (latest NPS answer 9–10) who have not referred anyone yet: ask them to
    refer a friend."""

    member_id: Annotated[MemberRef, named("owner", "Their owner: member id or e-mail.")] = None
    limit: Annotated[int, Field(ge=1, le=service.MAX_LIMIT)] = 50


api_list(
    referrals, "/referrals/promoters-to-ask", PromoterQuery, keywords(service.promoters_to_ask),
    AskPublic,
)  # fmt: skip


@referrals.delete("/referrals/{referral_id}", status_code=204)
def unlink_referral(referral_id: Id, session: DbSession) -> Response:
    """Remove a referral recorded by mistake (not once its reward was given)."""
    service.unlink_referral(session, referral_id)
    return Response(status_code=204)


class RewardQuery(ListQuery[service.RewardFilter]):
    """Referral rewards, oldest first."""

    status: RewardStatus | None = None
    customer_id: Annotated[Id | None, named("customer", "The referrer's.")] = None
    limit: Annotated[int, Field(ge=1, le=service.MAX_LIMIT)] = 50


api_list(referrals, "/referral-rewards", RewardQuery, service.list_rewards, RewardPublic)


@referrals.post("/referral-rewards/{reward_id}/give", response_model=RewardPublic)
def give_reward(
    reward: Annotated[ReferralReward, Depends(locked(ReferralReward, "referral reward"))],
    session: DbSession,
    me: Me,
    data: GiveInput = GiveInput(),
) -> RewardPublic:
    """Mark an earned reward given (say what in the note)."""
    service.give_reward(session, reward, member=me, note=data.note)
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
