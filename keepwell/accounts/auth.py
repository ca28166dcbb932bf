"""Signing in with an e-mail address and a password, slowed down after failures.

The throttle is kept in the database (`sign_in_throttles`), so it holds across restarts
and across several app processes on one PostgreSQL. It counts failures per e-mail
address *and* IP address: after FREE_FAILURES failures in a row, each further attempt
has to wait 2, 4, 8 … seconds (at most MAX_WAIT) after the last failure. An attempt
during the wait is refused without looking at the password — so a right password does
not help a guesser either — and does not lengthen the wait. A success clears the count.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from keepwell import clock
from keepwell.accounts import passwords
from keepwell.accounts.models import SignInThrottle, TeamMember

FREE_FAILURES = 3
MAX_WAIT = timedelta(minutes=15)
# Failures older than this are forgotten: the count starts again.
FORGET_AFTER = timedelta(hours=24)


@dataclass(frozen=True)
class SignInResult:
    """`member` when the password was right; else `retry_after` seconds to wait (0: may
    try again at once)."""

    member: TeamMember | None
    retry_after: int = 0
    throttled: bool = False  # refused because of the wait, the password unchecked


def throttle_key(email: str, ip: str) -> str:
    return hashlib.sha256(f"{email.strip().lower()}\n{ip}".encode("utf-8", "replace")).hexdigest()


def wait_after(failures: int) -> timedelta:
    """How long to wait after `failures` failures in a row."""
    if failures < FREE_FAILURES:
        return timedelta(0)
    return min(MAX_WAIT, timedelta(seconds=2 ** (failures - FREE_FAILURES + 1)))


def sign_in(session: Session, email: str, password: str, ip: str) -> SignInResult:
    """Check the e-mail address and password of an active member; record the outcome."""
    now = clock.now()
    key = throttle_key(email, ip)
    row = session.get(SignInThrottle, key)
    if row is not None and now - row.last_failed_at > FORGET_AFTER:
        session.delete(row)
        session.flush()
        row = None
    if row is not None and row.blocked_until is not None and row.blocked_until > now:
        return SignInResult(None, _seconds(row.blocked_until - now), throttled=True)
    member = session.scalar(
        sa.select(TeamMember).where(
            TeamMember.email == email.strip().lower(), TeamMember.active.is_(True)
        )
    )
    stored = member.password_hash if member is not None else None
    if member is not None and passwords.verify_password(stored, password):
        if row is not None:
            session.delete(row)
        assert stored is not None
        if passwords.needs_rehash(stored):
            member.password_hash = passwords.hash_password(password)
        member.last_sign_in_at = now
        session.flush()
        return SignInResult(member)
    row = _count_failure(session, key, row, now)
    wait = row.blocked_until - now if row.blocked_until is not None else timedelta(0)
    return SignInResult(None, _seconds(wait))


def _count_failure(
    session: Session, key: str, row: SignInThrottle | None, now: datetime
) -> SignInThrottle:
    if row is None:
        # a new key: forget the stale ones, so a flood of made-up addresses cannot grow
        # the table beyond a day's worth
        session.execute(
            sa.delete(SignInThrottle).where(SignInThrottle.last_failed_at < now - FORGET_AFTER)
        )
        try:
            with session.begin_nested():  # two first failures at once: one row
                row = SignInThrottle(key=key, failures=0, last_failed_at=now)
                session.add(row)
                session.flush()
        except IntegrityError:
            row = session.get(SignInThrottle, key, populate_existing=True)
            assert row is not None
    row.failures += 1
    row.last_failed_at = now
    wait = wait_after(row.failures)
    row.blocked_until = now + wait if wait else None
    session.flush()
    return row


def _seconds(wait: timedelta) -> int:
    return max(0, math.ceil(wait.total_seconds()))
