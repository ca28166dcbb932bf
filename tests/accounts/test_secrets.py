"""API tokens and browser sessions at their edges (keepwell/accounts/tokens.py): what
makes a secret live, when it stops, and what a CSRF token must be."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from keepwell import clock, db
from keepwell.accounts import tokens
from keepwell.accounts.models import ApiToken, WebSession
from keepwell.accounts.service import add_member

NOON = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def test_secrets_compare_whole() -> None:
    assert tokens.same("abc", "abc")
    assert not tokens.same("abc", "abd") and not tokens.same("abc", "abcd")


def test_a_tokens_last_use_is_written_at_most_once_a_minute() -> None:
    token = ApiToken(last_used_at=None)
    assert tokens.last_use_is_stale(token, NOON)
    token.last_used_at = NOON
    assert not tokens.last_use_is_stale(token, NOON + timedelta(seconds=59))
    assert tokens.last_use_is_stale(token, NOON + timedelta(minutes=1))


def test_a_token_is_found_only_by_its_live_secret(sqlite_engine: Engine) -> None:
    with clock.frozen(NOON), db.transaction(sqlite_engine) as session:
        ana = add_member(session, "ana@shop.example")
        token, secret = tokens.create_token(session, ana, "script")
        assert tokens.token_for_secret(session, secret) is token
        assert tokens.token_for_secret(session, secret[3:]) is None  # without kw_
        assert tokens.token_for_secret(session, secret + "x") is None
        assert tokens.token_for_secret(session, "kw_" + "a" * 98) is None  # 101 characters
        tokens.revoke_token(session, token)
        assert token.revoked_at == NOON
        with clock.frozen(NOON + timedelta(hours=1)):
            tokens.revoke_token(session, token)  # again: the first revocation stands
        assert token.revoked_at == NOON
        assert tokens.token_for_secret(session, secret) is None


def test_a_session_lasts_seven_days_and_its_csrf_token_is_its_own(sqlite_engine: Engine) -> None:
    with clock.frozen(NOON), db.transaction(sqlite_engine) as session:
        ana = add_member(session, "ana@shop.example")
        row, secret, csrf = tokens.start_session(session, ana)
        assert row.expires_at == NOON + timedelta(days=7)
        assert tokens.session_for_secret(session, secret) is row
        assert tokens.session_for_secret(session, "") is None
        assert tokens.session_for_secret(session, secret + "x") is None
        assert tokens.csrf_matches(row, csrf)
        assert not tokens.csrf_matches(row, "") and not tokens.csrf_matches(row, csrf + "x")
        assert not tokens.csrf_matches(row, secret)  # the cookie's secret is not the token
    last_moment = NOON + timedelta(days=7) - timedelta(seconds=1)
    with clock.frozen(last_moment), db.transaction(sqlite_engine) as session:
        assert tokens.session_for_secret(session, secret) is not None
    with clock.frozen(NOON + timedelta(days=7)), db.transaction(sqlite_engine) as session:
        assert tokens.session_for_secret(session, secret) is None


def test_signing_in_again_clears_only_the_members_expired_sessions(sqlite_engine: Engine) -> None:
    with clock.frozen(NOON), db.transaction(sqlite_engine) as session:
        ana, bea = add_member(session, "ana@shop.example"), add_member(session, "bea@shop.example")
        old, _, _ = tokens.start_session(session, ana)
        tokens.start_session(session, bea)
        old_id = old.id
    with clock.frozen(NOON + timedelta(days=6)), db.transaction(sqlite_engine) as session:
        tokens.start_session(session, session.merge(ana))  # ana's first is still live
    with clock.frozen(NOON + timedelta(days=7)), db.transaction(sqlite_engine) as session:
        tokens.start_session(session, session.merge(ana))  # the first has just expired
        kept = session.scalars(sa.select(WebSession.id).order_by(WebSession.id)).all()
        assert old_id not in kept and len(kept) == 3  # bea's expired one is hers to clear
