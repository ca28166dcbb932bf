"""A task's dedupe key, as a pure function: the same reason, however written, is one key;
two reasons are two keys, however long."""

from __future__ import annotations

import hashlib

from keepwell.tasks.service import MAX_DEDUPE_KEY, dedupe_key_for, default_dedupe_key


def test_spacing_and_case_do_not_make_another_reason() -> None:
    assert dedupe_key_for("  Confirm-Case:12 \n") == "confirm-case:12"
    assert dedupe_key_for("a  b\tc") == "a b c"
    assert default_dedupe_key(" Follow  Up ", "Ask how  the trial went.") == (
        "follow up:ask how the trial went."
    )


def test_a_key_of_200_characters_is_kept_as_it_is() -> None:
    exact = "x" * MAX_DEDUPE_KEY
    assert MAX_DEDUPE_KEY == 200 and dedupe_key_for(exact) == exact


def test_a_longer_key_keeps_its_head_and_a_hash_of_the_whole() -> None:
    long = "y" * 201
    digest = hashlib.sha256(long.encode()).hexdigest()[:16]
    assert dedupe_key_for(long) == "y" * 183 + "#" + digest
    assert len(dedupe_key_for(long)) == MAX_DEDUPE_KEY
    # two long reasons that differ only at the end stay two keys
    assert dedupe_key_for("z" * 300 + "a") != dedupe_key_for("z" * 300 + "b")
    # and the same long reason, spaced otherwise, is one key
    assert dedupe_key_for("Z" * 300 + "  a") == dedupe_key_for("z" * 300 + " a")
