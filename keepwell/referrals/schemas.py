"""The output models: what the API answers about referrals, rewards and promoters to ask."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from keepwell.web.schemas import Output


class ReferralPublic(Output):
    id: int
    customer_id: int
    referrer_id: int
    code: str
    source: str
    linked_at: datetime
    linked_by_id: int | None
    note: str


class RewardPublic(Output):
    id: int
    referral_id: int
    customer_id: int
    what: str
    status: str
    earned_at: datetime | None
    given_at: datetime | None
    given_by_id: int | None
    note: str
    version: int


class CodePublic(BaseModel):
    customer_id: int
    code: str


class CustomerReferralsPublic(BaseModel):
    customer_id: int
    code: str | None
    referred_by: ReferralPublic | None
    referred: list[ReferralPublic]
    rewards: list[RewardPublic]


class RewardSettingPublic(BaseModel):
    reward: str


class AskPublic(BaseModel):
    customer_id: int
    customer: str
    owner_id: int | None
    score: int
    answered_at: datetime
    code: str | None
