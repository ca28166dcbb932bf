"""The checks every service shares: one text check (errors.check_text) and one "get the
record or say it is not there" (db.get_or_raise)."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine

from keepwell import db
from keepwell.accounts.models import TeamMember
from keepwell.accounts.service import add_member
from keepwell.errors import InvalidInput, NotFound, check_text


def test_a_text_is_stripped_and_bounded() -> None:
    assert check_text("note", "  fine \n", 10) == "fine"
    assert check_text("note", "   ", 10) == ""
    with pytest.raises(InvalidInput) as refused:
        check_text("note", "x" * 2001, 2000)
    assert (refused.value.field, refused.value.reason) == ("note", "longer than 2,000 characters")
    assert check_text("note", " " + "x" * 2000 + " ", 2000) == "x" * 2000  # after stripping


def test_a_required_text_says_what_to_give() -> None:
    with pytest.raises(InvalidInput) as refused:
        check_text("what", " \t", 100, required="say what was promised")
    assert (refused.value.field, refused.value.reason) == ("what", "say what was promised")


def test_a_record_or_not_found(engine: Engine) -> None:
    with db.transaction(engine) as session:
        made = add_member(session, "ada@shop.example", "Ada", "member")
        assert db.get_or_raise(session, TeamMember, made.id, "team member") is made
        assert db.get_or_raise(session, TeamMember, made.id, "team member", lock=True) is made
        with pytest.raises(NotFound, match=r"^no team member #999$"):
            db.get_or_raise(session, TeamMember, 999, "team member")
