"""Signing in with an e-mail address and a password, slowed down after failures.

The throttle is kept in the database (`sign_in_throttles`), so it holds across restarts
and across several app processes on one PostgreSQL. It counts failures per e-mail
address *and* IP address: after FREE_FAILURES failures in a row, each further attempt
has to wait 2, 4, 8 … seconds (at most MAX_WAIT) after the last failure. An attempt
during the wait is refused without looking at the password — so a right password does
not help a guesser either — and does not lengthen the wait. A success clears the count.

A sign-in is three steps, so that the slow part holds no transaction (on SQLite, no one
else's write waits for it):

1. read (a reader's transaction): is this e-mail and address made to wait? the active
   member with this e-mail, and their password hash;
2. check the password (Argon2, 0.1-0.2 s) outside any transaction — always one check,
   against a dummy hash when no member was found, so an unknown e-mail takes as long to
   refuse as a wrong password;
3. record (a short write transaction): the failure, or the success and a new browser
   session. The throttle is read again here: when failures counted meanwhile (a burst
   of attempts at once) now make this attempt wait, it is refused as throttled, its
   check ignored — a burst gets no more answers than the same attempts one by one.

The routes run these steps with `sign_in_in_turn`: at most CHECKS_AT_ONCE sign-ins at a
time in a process, each on a thread of their own small pool, at a lower CPU priority.
An Argon2 check keeps the cores (and 64 MiB) busy; many at once would crowd out every
other request, and wait for the app's shared threads besides. A sign-in waiting for its
turn holds no thread, no connection and no lock: the rest of the desk goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import hashlib
import math
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from keepwell import clock
from keepwell.accounts import audit, passwords, tokens
from keepwell.accounts.models import SignInThrottle, TeamMember

FREE_FAILURES = 3
MAX_WAIT = timedelta(minutes=15)
# Failures older than this are forgotten: the count starts again.
FORGET_AFTER = timedelta(hours=24)
VIA = "sign-in"  # how the audit trail names what a sign-in writes (the browser session)
# Sign-ins at once, per process: half the cores (at least one) check passwords.
CHECKS_AT_ONCE = max(1, (os.cpu_count() or 2) // 2)
# How much lower the sign-in threads' CPU priority is (nice): when the cores are busy,
# the desk's other requests go first and password checks take what is left.
NICER = 10


def _yield_the_cpu() -> None:
    """Lower this thread's CPU priority — on Linux only, where it is per thread (the
    threads Argon2 starts for its lanes inherit it); elsewhere it would be the process's."""
    if sys.platform == "linux":
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), NICER)


_turns = ThreadPoolExecutor(
    max_workers=CHECKS_AT_ONCE, thread_name_prefix="keepwell-sign-in", initializer=_yield_the_cpu
)


@dataclass(frozen=True)
class SignInResult:
    """`member` when the password was right, with the new browser session (its cookie's
    `secret`, its `csrf` token and when it expires); else `retry_after` seconds to wait
    (0: may try again at once)."""

    member: TeamMember | None
    retry_after: int = 0
    throttled: bool = False  # refused because of the wait, the password unchecked
    secret: str = ""
    csrf: str = ""
    expires_at: datetime | None = None


def throttle_key(email: str, ip: str) -> str:
    return hashlib.sha256(f"{email.strip().lower()}\n{ip}".encode("utf-8", "replace")).hexdigest()


def wait_after(failures: int) -> timedelta:
    """How long to wait after `failures` failures in a row."""
    if failures < FREE_FAILURES:
        return timedelta(0)
    return min(MAX_WAIT, timedelta(seconds=2 ** (failures - FREE_FAILURES + 1)))


def sign_in(
    readers: sessionmaker[Session],
    writers: sessionmaker[Session],
    email: str,
    password: str,
    ip: str,
) -> SignInResult:
    """Check the e-mail address and password of an active member, record the outcome
    and, when right, start a browser session — in the three steps above. `readers` and
    `writers` make the sessions of step 1 and step 3 (the app's Runtime has both)."""
    key = throttle_key(email, ip)
    with readers() as session, session.begin():
        wait = _wait(session.get(SignInThrottle, key), clock.now())
        if wait is not None:
            return SignInResult(None, _seconds(wait), throttled=True)
        found = session.execute(
            sa.select(TeamMember.id, TeamMember.password_hash).where(
                TeamMember.email == email.strip().lower(), TeamMember.active.is_(True)
            )
        ).first()
    member_id, stored = (found[0], found[1]) if found is not None else (None, None)
    right = passwords.verify_password(stored, password)  # a dummy hash when stored is None
    new_hash = passwords.rehashed(stored, password) if right and stored is not None else None
    with writers() as session, session.begin():
        return _record(session, key, member_id if right else None, stored, new_hash)


async def sign_in_in_turn(
    readers: sessionmaker[Session],
    writers: sessionmaker[Session],
    email: str,
    password: str,
    ip: str,
) -> SignInResult:
    """`sign_in`, on the sign-ins' own threads when one is free (see above)."""
    loop = asyncio.get_running_loop()
    context = contextvars.copy_context()
    return await loop.run_in_executor(
        _turns, context.run, sign_in, readers, writers, email, password, ip
    )


def _record(
    session: Session, key: str, member_id: int | None, stored: str | None, new_hash: str | None
) -> SignInResult:
    """Step 3: the outcome, written. `member_id` is the member whose password was right."""
    now = clock.now()
    row = session.get(SignInThrottle, key, with_for_update=True)
    if row is not None and now - row.last_failed_at > FORGET_AFTER:
        session.delete(row)
        session.flush()
        row = None
    wait = _wait(row, now)
    if wait is not None:  # failures counted while this password was being checked
        return SignInResult(None, _seconds(wait), throttled=True)
    member = (
        session.get(TeamMember, member_id, with_for_update=True) if member_id is not None else None
    )
    # still active, and the password not changed since it was checked
    if member is not None and member.active and member.password_hash == stored:
        session.info["actor"] = audit.Actor(member.id, VIA)
        if row is not None:
            session.delete(row)
        if new_hash is not None:
            member.password_hash = new_hash
        member.last_sign_in_at = now
        started, secret, csrf = tokens.start_session(session, member)
        return SignInResult(member, secret=secret, csrf=csrf, expires_at=started.expires_at)
    row = _count_failure(session, key, row, now)
    wait = row.blocked_until - now if row.blocked_until is not None else timedelta(0)
    return SignInResult(None, _seconds(wait))


def _wait(row: SignInThrottle | None, now: datetime) -> timedelta | None:
    """How long the attempt must still wait; None when it may go ahead."""
    if row is None or now - row.last_failed_at > FORGET_AFTER:
        return None
    if row.blocked_until is not None and row.blocked_until > now:
        return row.blocked_until - now
    return None


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
            row = session.get(SignInThrottle, key, populate_existing=True, with_for_update=True)
            assert row is not None
    row.failures += 1
    row.last_failed_at = now
    wait = wait_after(row.failures)
    row.blocked_until = now + wait if wait else None
    session.flush()
    return row


def _seconds(wait: timedelta) -> int:
    return max(0, math.ceil(wait.total_seconds()))
