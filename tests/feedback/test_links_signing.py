"""Survey link tokens as pure functions: made only with the key, for one customer's one
survey, and read back exactly."""

from __future__ import annotations

import dataclasses

import pytest

from keepwell.feedback import links

KEY = b"k" * 32


def test_a_token_reads_back_as_signed() -> None:
    token = links.sign(KEY, 12, 7, "nps", 1_900_000_000)
    parsed = links.parse(token)
    assert parsed is not None
    assert (parsed.invitation_id, parsed.expires) == (12, 1_900_000_000)
    assert token == f"12.1900000000.{parsed.mac}" and len(parsed.mac) == 43
    assert links.genuine(KEY, parsed, 7, "nps")
    with pytest.raises(dataclasses.FrozenInstanceError):
        parsed.expires = 2_000_000_000  # type: ignore[misc]


@pytest.mark.parametrize(
    ("key", "customer", "kind"),
    [(b"x" * 32, 7, "nps"), (KEY, 8, "nps"), (KEY, 7, "csat")],
)
def test_a_token_opens_only_its_own_customers_own_survey(key: bytes, customer: int, kind: str) -> None:
    parsed = links.parse(links.sign(KEY, 12, 7, "nps", 1_900_000_000))
    assert parsed is not None
    assert not links.genuine(key, parsed, customer, kind)


def test_a_changed_id_or_expiry_is_not_genuine() -> None:
    mac = links.parse(links.sign(KEY, 12, 7, "nps", 1_900_000_000))
    assert mac is not None
    for forged in (f"13.1900000000.{mac.mac}", f"12.1900000001.{mac.mac}"):
        parsed = links.parse(forged)
        assert parsed is not None and not links.genuine(KEY, parsed, 7, "nps")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "0.1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",  # ids start at 1
        "1.1.AAAA",  # a MAC is 43 characters
        "1.1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "1.1234567890123.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",  # expiry of 13 digits
        "1." + "1" * 200 + ".AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    ],
)
def test_what_is_not_a_token_is_refused_before_any_mac(text: str) -> None:
    assert links.parse(text) is None


def test_only_text_can_be_a_token() -> None:
    assert links.parse(None) is None  # type: ignore[arg-type]
    assert links.parse(12) is None  # type: ignore[arg-type]


def test_the_longest_well_formed_token_parses() -> None:
    token = links.sign(KEY, 999_999_999_999_999_999, 7, "nps", 999_999_999_999)
    assert len(token) == 18 + 1 + 12 + 1 + 43
    assert links.parse(token) is not None
