"""The CSRF token is the session's own: a cookie and a header that merely agree with
each other (a value an attacker planted in both) do not make a write."""

from __future__ import annotations

import sqlalchemy as sa

from keepwell.customers.models import Customer
from tests.accounts.test_sign_in import sign_in, signed  # noqa: F401 - the fixture
from tests.api.conftest import Desk


def customer_names(desk: Desk) -> list[str]:
    with desk.engine.connect() as conn:
        return list(conn.execute(sa.select(Customer.name).order_by(Customer.id)).scalars())


def write_with(desk: Desk, csrf: str) -> object:
    """A write carrying `csrf` as both the cookie and the header (no Origin header)."""
    desk.client.cookies.delete("keepwell_csrf")
    session = desk.client.cookies.get("keepwell_session")
    assert session
    return desk.client.post(
        "/api/customers",
        json={"name": "Planted"},
        headers={
            "X-CSRF-Token": csrf,
            "Cookie": f"keepwell_session={session}; keepwell_csrf={csrf}",
        },
    )


def test_an_invented_token_in_cookie_and_header_is_refused(signed: Desk) -> None:  # noqa: F811
    genuine = sign_in(signed).json()["csrf_token"]  # type: ignore[attr-defined]
    before = customer_names(signed)
    refused = write_with(signed, "A" * len(genuine))
    assert refused.status_code == 403  # type: ignore[attr-defined]
    assert refused.json()["detail"][0]["field"] == "csrf"  # type: ignore[attr-defined]
    assert customer_names(signed) == before
    # the same request with the session's own token goes through: the refusal above
    # was about the token, not about how the request was made
    accepted = write_with(signed, genuine)
    assert accepted.status_code == 201  # type: ignore[attr-defined]
    assert customer_names(signed) == [*before, "Planted"]
