"""Referrals: each customer's code, who referred whom, and the referrer's reward.

A code is 8 characters from an alphabet without look-alikes (no I, L, O, 0 or 1),
made when first asked for and unique on the desk; it is read back ignoring case, spaces
and dashes. A customer has one referrer at most, never themselves. Linking a referral
makes the referrer's reward, *pending* until the referred customer first buys: then it
is *earned* (dated by that first order), and a member marks it *given*. Rewards are
earned at linking when the customer has bought already, and for the rest by
`earn_rewards` (run by `keepwell loyalty refresh` and the daily upkeep of `keepwell serve`).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from keepwell import clock
from keepwell.accounts.models import TeamMember
from keepwell.customers.models import Customer
from keepwell.db import flush_or_conflict, get_or_raise, table_of
from keepwell.errors import InvalidInput, check_choice, check_limit, check_text
from keepwell.orders.models import Order
from keepwell.referrals.models import (
    REWARD_STATUSES,
    SOURCES,
    Referral,
    ReferralCode,
    ReferralReward,
)

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
DEFAULT_REWARD = "A thank-you gift"
MAX_NOTE = 20_000
MAX_LIMIT = 500


# --- codes --------------------------------------------------------------------------


def normalize_code(text: str) -> str:
    """A code as typed (`abcd-efgh`, ` ABCD EFGH `) in its stored form (`ABCDEFGH`)."""
    return "".join(text.split()).replace("-", "").upper()


def check_code(text: str, field: str = "referral_code") -> str:
    """The normalized code, or a clear refusal of something that cannot be one."""
    code = normalize_code(text)
    if not code:
        raise InvalidInput(field, "the referral code is empty")
    if len(code) != CODE_LENGTH or any(ch not in ALPHABET for ch in code):
        raise InvalidInput(
            field,
            f"{text.strip()[:40]!r} is not a referral code ({CODE_LENGTH} letters and digits)",
        )
    return code


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def code_of(session: Session, customer: Customer, *, create: bool = True) -> str | None:
    """The customer's referral code, made now if they have none (and `create`)."""
    found = session.get(ReferralCode, customer.id)
    if found is not None:
        return found.code
    if not create:
        return None
    _refuse_erased(customer, "customer")
    for _ in range(10):  # 31^8 codes: a clash is rare, ten in a row never happens
        code = new_code()
        try:
            with session.begin_nested():
                session.add(ReferralCode(customer_id=customer.id, code=code))
                session.flush()
        except IntegrityError:
            again = session.get(ReferralCode, customer.id)
            if again is not None:  # made meanwhile by someone else
                return again.code
            continue
        return code
    raise RuntimeError("could not make a unique referral code")  # pragma: no cover


def customer_by_code(session: Session, text: str, field: str = "referral_code") -> Customer:
    code = check_code(text, field)
    customer_id = session.scalar(
        sa.select(ReferralCode.customer_id).where(ReferralCode.code == code)
    )
    customer = session.get(Customer, customer_id) if customer_id is not None else None
    if customer is None:
        raise InvalidInput(field, f"no customer has the referral code {code!r}")
    return customer


# --- linking ------------------------------------------------------------------------


def link_referral(
    session: Session,
    customer: Customer,
    *,
    code: str | None = None,
    referrer: Customer | None = None,
    member: TeamMember | None = None,
    source: str = "api",
    note: str = "",
) -> Referral:
    """Record that `customer` came to us through a referrer (named by code or directly),
    with the referrer's reward (pending until the customer first buys)."""
    check_choice("source", source, SOURCES)
    note = check_text("note", note, MAX_NOTE)
    if code is None and referrer is None:
        raise InvalidInput("referral_code", "give a referral code or the referring customer")
    by_code = customer_by_code(session, code) if code is not None else None
    if by_code is not None and referrer is not None and by_code.id != referrer.id:
        raise InvalidInput(
            "referral_code",
            f"the code belongs to customer #{by_code.id}, not to #{referrer.id}",
        )
    chosen = by_code or referrer
    assert chosen is not None
    problem = link_problem(session, customer.id, chosen.id)
    if problem is not None:
        raise InvalidInput(*problem)
    _refuse_erased(customer, "customer_id")
    _refuse_erased(chosen, "referrer_id")
    referral = Referral(
        customer_id=customer.id,
        referrer_id=chosen.id,
        code=normalize_code(code) if code is not None else "",
        source=source,
        linked_at=clock.now(),
        linked_by_id=member.id if member is not None else None,
        note=note,
    )
    session.add(referral)
    flush_or_conflict(session, "referral")
    reward = ReferralReward(
        referral_id=referral.id,
        customer_id=chosen.id,
        what=reward_text(session),
        status="pending",
        note="",
    )
    session.add(reward)
    flush_or_conflict(session, "referral reward")
    _earn_one(session, reward, customer.id)
    return referral


def link_problem(session: Any, customer_id: int, referrer_id: int) -> tuple[str, str] | None:
    """Why `referrer_id` cannot be recorded as the referrer of `customer_id` ((field,
    reason)), or None. Used by the API, the CLI and the import alike."""
    if customer_id == referrer_id:
        return "referrer", f"customer #{customer_id} cannot refer themselves"
    r = table_of(Referral)
    existing = session.execute(
        sa.select(r.c.referrer_id).where(r.c.customer_id == customer_id)
    ).scalar()
    if existing is not None:
        return "customer_id", f"customer #{customer_id} was referred by #{existing} already"
    back = session.execute(
        sa.select(r.c.id).where(r.c.customer_id == referrer_id, r.c.referrer_id == customer_id)
    ).scalar()
    if back is not None:
        return "referrer", f"customer #{referrer_id} was referred by #{customer_id}: not both ways"
    return None


def unlink_referral(session: Session, referral_id: int) -> None:
    """Remove a referral recorded by mistake (and its reward, unless already given)."""
    referral = get_referral(session, referral_id)
    reward = session.scalar(
        sa.select(ReferralReward).where(ReferralReward.referral_id == referral.id)
    )
    if reward is not None and reward.status == "given":
        raise InvalidInput("referral", f"its reward #{reward.id} was given already")
    if reward is not None:
        session.delete(reward)
        # the reward first: the referral's row going first would take the reward with it
        # (ON DELETE CASCADE), and the reward's own versioned DELETE would then match nothing
        session.flush()
    session.delete(referral)
    session.flush()


def get_referral(session: Session, referral_id: int) -> Referral:
    return get_or_raise(session, Referral, referral_id, "referral")


def referrer_of(session: Session, customer_id: int) -> Referral | None:
    return session.scalar(sa.select(Referral).where(Referral.customer_id == customer_id))


@dataclass(frozen=True)
class ReferralFilter:
    """One definition of the referrals list (CLI and API): newest first."""

    referrer_id: int | None = None
    customer_id: int | None = None
    limit: int = 50

    def __post_init__(self) -> None:
        check_limit(self.limit, MAX_LIMIT)

    def query(self) -> sa.Select[Any]:
        q = sa.select(Referral)
        if self.referrer_id is not None:
            q = q.where(Referral.referrer_id == self.referrer_id)
        if self.customer_id is not None:
            q = q.where(Referral.customer_id == self.customer_id)
        return q.order_by(Referral.linked_at.desc(), Referral.id.desc()).limit(self.limit)


def list_referrals(session: Session, filters: ReferralFilter) -> list[Referral]:
    return list(session.scalars(filters.query()))


# --- rewards ------------------------------------------------------------------------


def reward_text(session: Session) -> str:
    from keepwell.settings import service as settings

    text = settings.get(session, "referrals.reward", DEFAULT_REWARD)
    if not isinstance(text, str) or not text.strip() or len(text) > 200:
        raise InvalidInput("referrals.reward", "the setting must be a text of 1 to 200 characters")
    return text.strip()


def set_reward_text(session: Session, text: str) -> str:
    """What a referrer gets for each referral that buys (for rewards made from now on)."""
    from keepwell.settings import service as settings

    text = text.strip()
    if not text or len(text) > 200:
        raise InvalidInput("reward", "give a text of 1 to 200 characters")
    settings.put(session, "referrals.reward", text)
    return text


def get_reward(session: Session, reward_id: int) -> ReferralReward:
    return get_or_raise(session, ReferralReward, reward_id, "referral reward")


def give_reward(
    session: Session, reward: ReferralReward, *, member: TeamMember | None, note: str = ""
) -> ReferralReward:
    """Mark an earned reward given (what was sent goes in the note)."""
    note = check_text("note", note, MAX_NOTE)
    if reward.status == "pending":
        referral = session.get(Referral, reward.referral_id)
        if referral is not None:
            _earn_one(session, reward, referral.customer_id)
    if reward.status == "given":
        raise InvalidInput("status", f"reward #{reward.id} was given already")
    if reward.status != "earned":
        raise InvalidInput(
            "status", f"reward #{reward.id} is not earned yet: the referred customer has not bought"
        )
    reward.status = "given"
    reward.given_at = clock.now()
    reward.given_by_id = member.id if member is not None else None
    reward.note = note
    flush_or_conflict(session, "referral reward")
    return reward


def earn_rewards(conn: Connection) -> int:
    """Pending rewards whose referred customer has bought become earned (dated by the
    first order). One statement for the whole desk; returns how many."""
    w, r, o = table_of(ReferralReward), table_of(Referral), table_of(Order)
    first = (
        sa.select(sa.func.min(o.c.ordered_at))
        .where(o.c.customer_id == r.c.customer_id)
        .correlate(r)
        .scalar_subquery()
    )
    result = conn.execute(
        sa.update(w)
        .where(
            w.c.referral_id == r.c.id,
            w.c.status == "pending",
            sa.exists().where(o.c.customer_id == r.c.customer_id).correlate(r),
        )
        .values(status="earned", earned_at=first, version=w.c.version + 1)
    )
    return int(result.rowcount or 0)


def _earn_one(session: Session, reward: ReferralReward, customer_id: int) -> None:
    first: datetime | None = session.scalar(
        sa.select(sa.func.min(Order.ordered_at)).where(Order.customer_id == customer_id)
    )
    if first is not None and reward.status == "pending":
        reward.status = "earned"
        reward.earned_at = first
        flush_or_conflict(session, "referral reward")


@dataclass(frozen=True)
class RewardFilter:
    """One definition of the rewards list (CLI and API): oldest first (who waits longest)."""

    status: str | None = None
    customer_id: int | None = None
    limit: int = 50

    def __post_init__(self) -> None:
        check_choice("status", self.status, REWARD_STATUSES)
        check_limit(self.limit, MAX_LIMIT)

    def query(self) -> sa.Select[Any]:
        q = sa.select(ReferralReward)
        if self.status is not None:
            q = q.where(ReferralReward.status == self.status)
        if self.customer_id is not None:
            q = q.where(ReferralReward.customer_id == self.customer_id)
        return q.order_by(ReferralReward.created_at, ReferralReward.id).limit(self.limit)


def list_rewards(session: Session, filters: RewardFilter) -> list[ReferralReward]:
    return list(session.scalars(filters.query()))


# --- advocates and whom to ask ------------------------------------------------------


def advocates(session: Session) -> set[int]:
    """Customers who referred someone (the lead adds NPS promoters for the hourglass)."""
    return set(session.scalars(sa.select(Referral.referrer_id).distinct()))


@dataclass(frozen=True)
class AskSuggestion:
    """A promoter (latest NPS answer 9 or 10) who has not referred anyone yet."""

    customer_id: int
    customer: str
    owner_id: int | None
    score: int
    answered_at: datetime
    code: str | None


def promoters_to_ask(
    session: Session, *, member_id: int | None = None, limit: int = 50
) -> list[AskSuggestion]:
    """Promoters who have not referred anyone yet, newest answers first: suggested for a
    refer-a-friend ask. The latest NPS answer decides (a 9 followed by a 4 is no promoter)."""
    from keepwell.feedback.models import Feedback
    from keepwell.feedback.service import latest_scores

    check_limit(limit, MAX_LIMIT)
    r = table_of(Referral)
    query = (
        sa.select(Feedback.customer_id)
        .join(Customer, Customer.id == Feedback.customer_id)
        .where(
            Feedback.kind == "nps",
            Feedback.score >= 9,
            ~sa.exists().where(r.c.referrer_id == Feedback.customer_id),
            # not erased; a customer typed in by hand has no external id at all
            sa.or_(Customer.external_id.is_(None), ~Customer.external_id.startswith("erased:")),
        )
        .distinct()
    )
    if member_id is not None:
        query = query.where(Customer.owner_id == member_id)
    candidates = list(session.scalars(query))
    latest = latest_scores(session, candidates, kinds=("nps",))
    promoters = sorted(
        ((cid, score, at) for cid, (_, score, at) in latest.items() if score >= 9),
        key=lambda p: (p[2], p[0]),
        reverse=True,
    )[:limit]
    ids = [cid for cid, _, _ in promoters]
    customers = {c.id: c for c in session.scalars(sa.select(Customer).where(Customer.id.in_(ids)))}
    codes = codes_for(session, ids)
    return [
        AskSuggestion(
            customer_id=cid,
            customer=customers[cid].name,
            owner_id=customers[cid].owner_id,
            score=score,
            answered_at=at,
            code=codes.get(cid),
        )
        for cid, score, at in promoters
    ]


@dataclass(frozen=True)
class CustomerReferrals:
    """One customer's side of referrals: their code, who referred them, whom they did."""

    customer_id: int
    code: str | None
    referred_by: Referral | None
    referred: list[Referral]
    rewards: list[ReferralReward]


def referrals_of(session: Session, customer: Customer) -> CustomerReferrals:
    return CustomerReferrals(
        customer_id=customer.id,
        code=code_of(session, customer, create=False),
        referred_by=referrer_of(session, customer.id),
        referred=list_referrals(session, ReferralFilter(referrer_id=customer.id, limit=MAX_LIMIT)),
        rewards=list_rewards(session, RewardFilter(customer_id=customer.id, limit=MAX_LIMIT)),
    )


def _refuse_erased(customer: Customer, field: str) -> None:
    from keepwell.customers.privacy import is_erased

    if is_erased(customer):
        raise InvalidInput(field, f"customer #{customer.id} was erased")


def codes_for(session: Session, customer_ids: Sequence[int]) -> dict[int, str]:
    """The referral codes these customers have (those without one are left out)."""
    ids = sorted(set(customer_ids))
    found: dict[int, str] = {}
    for start in range(0, len(ids), 5000):
        part = ids[start : start + 5000]
        query = sa.select(ReferralCode.customer_id, ReferralCode.code).where(
            ReferralCode.customer_id.in_(part)
        )
        found.update({customer_id: code for customer_id, code in session.execute(query)})
    return found
