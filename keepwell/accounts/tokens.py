"""API tokens and browser sessions: random secrets of which only a SHA-256 is stored.

A secret has 256 random bits, so a fast hash is enough (there is nothing to guess from
it); the database never holds anything that would let a stolen copy sign in.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from keepwell import clock
from keepwell.accounts.models import ApiToken, TeamMember, WebSession
from keepwell.db import get_or_raise
from keepwell.errors import InvalidInput, check_text

TOKEN_PREFIX = "kw_"  # noqa: S105 - a prefix, not a secret
SESSION_DAYS = 7
# How often a token's last-used time is written: at most once a minute, so reads stay reads.
LAST_USED_GRANULARITY = timedelta(minutes=1)
MAX_NAME = 200


def new_secret(prefix: str = "") -> str:
    return prefix + secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def same(a: str, b: str) -> bool:
    """Compare secrets (or their digests) in constant time."""
    return hmac.compare_digest(
        a.encode("utf-8", "surrogatepass"), b.encode("utf-8", "surrogatepass")
    )


# --- API tokens ---------------------------------------------------------------------


def create_token(session: Session, member: TeamMember, name: str = "") -> tuple[ApiToken, str]:
    """A new token acting as `member`: (the row, the secret). The secret is not kept."""
    name = check_text("name", " ".join(name.split()), MAX_NAME)
    if not member.active:
        raise InvalidInput("member", f"{member.email} is not an active team member")
    secret = new_secret(TOKEN_PREFIX)
    token = ApiToken(
        member_id=member.id,
        name=name,
        prefix=secret[:10],
        token_hash=digest(secret),
        created_at=clock.now(),
    )
    session.add(token)
    session.flush()
    return token, secret


def list_tokens(
    session: Session, member_id: int | None = None, *, include_revoked: bool = False
) -> list[ApiToken]:
    q = sa.select(ApiToken).order_by(ApiToken.id)
    if member_id is not None:
        q = q.where(ApiToken.member_id == member_id)
    if not include_revoked:
        q = q.where(ApiToken.revoked_at.is_(None))
    return list(session.scalars(q))


def get_token(session: Session, token_id: int) -> ApiToken:
    return get_or_raise(session, ApiToken, token_id, "API token")


def revoke_token(session: Session, token: ApiToken) -> ApiToken:
    """Stop the token working (at once: every request checks it). Revoking twice is fine."""
    if token.revoked_at is None:
        token.revoked_at = clock.now()
        session.flush()
    return token


def revoke_member_tokens(session: Session, member_id: int) -> int:
    """Revoke every live token of a member (each change audited): how many."""
    live = list_tokens(session, member_id)
    for token in live:
        revoke_token(session, token)
    return len(live)


def token_for_secret(session: Session, secret: str) -> ApiToken | None:
    """The live token with this secret, or None (unknown or revoked)."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 100:
        return None
    token = session.scalar(sa.select(ApiToken).where(ApiToken.token_hash == digest(secret)))
    if token is None or token.revoked_at is not None:
        return None
    return token


def last_use_is_stale(token: ApiToken, now: datetime) -> bool:
    return token.last_used_at is None or now - token.last_used_at >= LAST_USED_GRANULARITY


def note_use(session: Session, token_id: int, now: datetime) -> None:
    """Record that the token was used now (a plain UPDATE: not an audited change)."""
    session.execute(sa.update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now))


# --- browser sessions -------------------------------------------------------------


def start_session(session: Session, member: TeamMember) -> tuple[WebSession, str, str]:
    """A browser session for `member`: (the row, the cookie's secret, the CSRF token)."""
    secret, csrf = new_secret(), new_secret()
    now = clock.now()
    session.execute(  # the member's expired sessions go now
        sa.delete(WebSession).where(WebSession.member_id == member.id, WebSession.expires_at <= now)
    )
    row = WebSession(
        member_id=member.id,
        token_hash=digest(secret),
        csrf_hash=digest(csrf),
        created_at=now,
        expires_at=now + timedelta(days=SESSION_DAYS),
    )
    session.add(row)
    session.flush()
    return row, secret, csrf


def session_for_secret(session: Session, secret: str) -> WebSession | None:
    """The unexpired session with this cookie secret, or None."""
    if not secret or len(secret) > 100:
        return None
    row = session.scalar(sa.select(WebSession).where(WebSession.token_hash == digest(secret)))
    if row is None or row.expires_at <= clock.now():
        return None
    return row


def end_session(session: Session, row: WebSession) -> None:
    session.delete(row)
    session.flush()


def end_member_sessions(session: Session, member_id: int) -> int:
    """End every browser session of a member (each one's end audited): how many."""
    rows = list(session.scalars(sa.select(WebSession).where(WebSession.member_id == member_id)))
    for row in rows:
        session.delete(row)
    session.flush()
    return len(rows)


def csrf_matches(row: WebSession, csrf: str) -> bool:
    return bool(csrf) and len(csrf) <= 100 and same(row.csrf_hash, digest(csrf))
