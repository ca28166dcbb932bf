"""Who a request is from and what it may do, one rule at a time (keepwell/web/deps.py):
the bearer header, the session cookie and its CSRF token, the Origin, and the roles."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from keepwell import clock, db
from keepwell.accounts.models import TeamMember, WebSession
from keepwell.accounts.tokens import revoke_token, token_for_secret
from tests.accounts.test_sign_in import sign_in, signed  # noqa: F401 - the fixture
from tests.api.conftest import Desk

NEW = {"name": "Bea"}


def field(answer: object) -> str:
    return str(answer.json()["detail"][0]["field"])  # type: ignore[attr-defined]


def test_the_bearer_header(signed: Desk) -> None:  # noqa: F811
    get = signed.client.get
    secret = signed.tokens["member"]
    assert get("/api/me", headers={"Authorization": f"bearer {secret}"}).status_code == 200
    assert get("/api/me", headers={"Authorization": f"Bearer  {secret} "}).status_code == 200
    for refused in (f"Basic {secret}", "Bearer ", "Bearer", f"Token {secret}", "Bearer kw_nope"):
        assert get("/api/me", headers={"Authorization": refused}).status_code == 401, refused
    # a bearer header is answered on its own, whatever cookie comes with it
    sign_in(signed)
    assert get("/api/me", headers={"Authorization": "Bearer kw_nope"}).status_code == 401
    with db.transaction(signed.engine) as session:
        token = token_for_secret(session, secret)
        assert token is not None
        revoke_token(session, token)
    assert get("/api/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 401


def test_a_token_acts_with_its_members_role(signed: Desk) -> None:  # noqa: F811
    client = signed.client
    me = client.get("/api/me", headers=signed.auth("viewer")).json()
    assert (me["email"], me["role"]) == ("viewer@shop.example", "viewer")
    assert client.get("/api/customers", headers=signed.auth("viewer")).status_code == 200
    refused = client.post("/api/customers", json=NEW, headers=signed.auth("viewer"))
    assert refused.status_code == 403
    assert client.post("/api/customers", json=NEW, headers=signed.auth("member")).status_code == 201
    assert client.post("/api/customers", json=NEW, headers=signed.auth("admin")).status_code == 201
    # only an admin schedules the account reviews
    assert client.post("/api/reviews/schedule", headers=signed.auth("member")).status_code == 403
    assert client.post("/api/reviews/schedule", headers=signed.auth("admin")).status_code == 200


def test_a_session_cookie_that_is_unknown_or_expired_signs_nobody_in(signed: Desk) -> None:  # noqa: F811
    client = signed.client
    sign_in(signed)
    assert client.get("/api/me").status_code == 200
    with db.transaction(signed.engine) as session:
        row = session.scalars(sa.select(WebSession)).one()
        row.expires_at = clock.now() + timedelta(seconds=5)
    assert client.get("/api/me").status_code == 200
    with db.transaction(signed.engine) as session:
        session.scalars(sa.select(WebSession)).one().expires_at = clock.now()
    assert client.get("/api/me").status_code == 401
    client.cookies.set("keepwell_session", "made-up")
    assert client.get("/api/me").status_code == 401


def test_a_session_of_a_member_who_may_no_longer_sign_in(signed: Desk) -> None:  # noqa: F811
    sign_in(signed)
    with db.transaction(signed.engine) as session:
        session.scalars(
            sa.select(TeamMember).where(TeamMember.email == "ana@shop.example")
        ).one().active = False
    assert signed.client.get("/api/me").status_code == 401


def test_a_browser_write_comes_from_this_site_with_the_sessions_token(signed: Desk) -> None:  # noqa: F811
    csrf = sign_in(signed).json()["csrf_token"]  # type: ignore[attr-defined]
    post = signed.client.post

    def write(**headers: str) -> object:
        return post("/api/customers", json=NEW, headers={"X-CSRF-Token": csrf, **headers})

    assert write(Origin="https://testserver").status_code == 201  # this site
    assert write(Origin="null").status_code == 201  # a browser that will not say
    for other in ("https://testserver.evil.example", "https://evil.example://testserver"):
        refused = write(Origin=other)
        assert refused.status_code == 403 and field(refused) == "origin", other  # type: ignore[attr-defined]
    assert write(Origin="testserver").status_code == 201  # no scheme: all of it is the host
    # the cookie must agree with the header, and both be the session's
    signed.client.cookies.set("keepwell_csrf", "x" * len(csrf))
    refused = write()
    assert refused.status_code == 403 and field(refused) == "csrf"  # type: ignore[attr-defined]
    signed.client.cookies.set("keepwell_csrf", csrf)
    assert write().status_code == 201


def test_a_viewers_browser_session_reads_only(signed: Desk) -> None:  # noqa: F811
    with db.transaction(signed.engine) as session:
        session.scalars(
            sa.select(TeamMember).where(TeamMember.email == "ana@shop.example")
        ).one().role = "viewer"
    csrf = sign_in(signed).json()["csrf_token"]  # type: ignore[attr-defined]
    assert signed.client.get("/api/customers").status_code == 200
    refused = signed.client.post("/api/customers", json=NEW, headers={"X-CSRF-Token": csrf})
    assert refused.status_code == 403


def test_a_form_field_counts_only_for_a_form_from_a_browser_session(signed: Desk) -> None:  # noqa: F811
    csrf = sign_in(signed).json()["csrf_token"]  # type: ignore[attr-defined]
    # a JSON body cannot carry the token as a field: only the header counts there
    refused = signed.client.request(
        "DELETE", "/api/session", content=f'{{"csrf_token": "{csrf}"}}',
        headers={"content-type": "application/json"},
    )  # fmt: skip
    assert refused.status_code == 403
    # a multipart form can
    gone = signed.client.request("DELETE", "/api/session", files={"csrf_token": (None, csrf)})
    assert gone.status_code == 204
