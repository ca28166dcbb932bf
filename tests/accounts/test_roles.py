"""Roles and the last admin (keepwell/accounts/service.py): someone must always be able
to manage the team, and a member who leaves loses every way in."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine

from keepwell import db
from keepwell.accounts import tokens
from keepwell.accounts.models import ROLES
from keepwell.accounts.service import add_member, update_member
from keepwell.errors import InvalidInput


def test_a_member_gets_a_known_role_and_a_unique_address(sqlite_engine: Engine) -> None:
    with db.transaction(sqlite_engine) as session:
        assert add_member(session, "Ana@Shop.example", " Ana ").role == "member"
        for role in ROLES:
            assert add_member(session, f"{role}@shop.example", role=role).role == role
        with pytest.raises(InvalidInput) as refused:
            add_member(session, "owner@shop.example", role="owner")
        assert refused.value.field == "role"
        with pytest.raises(InvalidInput) as refused:
            add_member(session, "ana@shop.example")
        assert refused.value.field == "email"
        with pytest.raises(InvalidInput) as refused:
            add_member(session, "not an address")
        assert refused.value.field == "email"


def test_the_last_active_admin_stays_one(sqlite_engine: Engine) -> None:
    with db.transaction(sqlite_engine) as session:
        boss = add_member(session, "boss@shop.example", role="admin")
        for change in ({"role": "member"}, {"role": "viewer"}, {"active": False}):
            with pytest.raises(InvalidInput, match="last active admin"):
                update_member(session, boss, **change)  # type: ignore[arg-type]
            assert boss.role == "admin" and boss.active
        update_member(session, boss, role="admin", active=True, name="  The   Boss ")
        assert (boss.role, boss.active, boss.name) == ("admin", True, "The Boss")
        # a second admin, once deactivated, does not count
        other = add_member(session, "other@shop.example", role="admin")
        update_member(session, other, active=False)
        with pytest.raises(InvalidInput, match="last active admin"):
            update_member(session, boss, role="member")
        # an inactive admin may lose the role
        update_member(session, other, role="member")
        assert other.role == "member"
        # with two active admins, either may step down
        update_member(session, other, role="admin", active=True)
        update_member(session, boss, role="viewer")
        assert boss.role == "viewer"


def test_roles_and_names_are_checked(sqlite_engine: Engine) -> None:
    with db.transaction(sqlite_engine) as session:
        ana = add_member(session, "ana@shop.example")
        with pytest.raises(InvalidInput) as refused:
            update_member(session, ana, role="owner")
        assert refused.value.field == "role" and ana.role == "member"
        with pytest.raises(InvalidInput) as refused:
            update_member(session, ana, name="x" * 201)
        assert refused.value.field == "name"
        assert update_member(session, ana, name="y" * 200).name == "y" * 200
        update_member(session, ana, role="viewer")
        assert ana.role == "viewer"


def test_deactivating_ends_sessions_and_tokens_and_reactivating_brings_none_back(
    sqlite_engine: Engine,
) -> None:
    with db.transaction(sqlite_engine) as session:
        ana = add_member(session, "ana@shop.example")
        _, secret = tokens.create_token(session, ana)
        _, cookie, _ = tokens.start_session(session, ana)
        update_member(session, ana, active=True)  # already active: nothing ends
        assert tokens.token_for_secret(session, secret) is not None
        assert tokens.session_for_secret(session, cookie) is not None
        update_member(session, ana, active=False)
        assert tokens.token_for_secret(session, secret) is None
        assert tokens.session_for_secret(session, cookie) is None
        update_member(session, ana, active=True)
        assert tokens.token_for_secret(session, secret) is None
