"""Signing in: Argon2 hashes, session cookies, CSRF, throttling of failures, sign-out."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from keepwell import clock, db
from keepwell.accounts import auth
from keepwell.accounts.models import ApiToken, SignInThrottle, TeamMember, WebSession
from keepwell.accounts.passwords import verify_password
from keepwell.accounts.service import add_user
from keepwell.accounts.tokens import create_token, digest
from tests.api.conftest import Desk, make_desk

PASSWORD = "correct horse battery"


@pytest.fixture
def signed(sqlite_engine: Engine) -> Iterator[Desk]:
    """A desk with ana@shop.example (member) who has a password."""
    desk = make_desk(sqlite_engine)
    with db.transaction(sqlite_engine) as session:
        add_user(session, "ana@shop.example", name="Ana", role="member", password=PASSWORD)
    with desk.client:
        yield desk


def sign_in(desk: Desk, password: str = PASSWORD, **kwargs: object) -> object:
    return desk.client.post(
        "/api/session", json={"email": "Ana@shop.example", "password": password}, **kwargs
    )


def test_passwords_are_stored_as_argon2id_hashes(signed: Desk) -> None:
    with db.transaction(signed.engine) as session:
        ana = session.scalars(
            sa.select(TeamMember).where(TeamMember.email == "ana@shop.example")
        ).one()
        stored = ana.password_hash
    assert stored is not None and stored.startswith("$argon2id$") and PASSWORD not in stored
    assert verify_password(stored, PASSWORD) and not verify_password(stored, PASSWORD + "!")
    assert not verify_password(None, PASSWORD)


def test_sign_in_sets_secure_httponly_samesite_cookies_and_works(signed: Desk) -> None:
    response = signed.client.post(
        "/api/session", json={"email": "ana@shop.example", "password": PASSWORD}
    )
    assert response.status_code == 200
    cookies = response.headers.get_list("set-cookie")
    session_cookie = next(c for c in cookies if c.startswith("keepwell_session="))
    csrf_cookie = next(c for c in cookies if c.startswith("keepwell_csrf="))
    for flag in ("HttpOnly", "Secure", "SameSite=lax", "Path=/"):
        assert flag.lower() in session_cookie.lower(), session_cookie
    assert "httponly" not in csrf_cookie.lower() and "secure" in csrf_cookie.lower()
    assert response.json()["member"]["email"] == "ana@shop.example"
    assert signed.client.get("/api/me").json()["email"] == "ana@shop.example"
    with db.transaction(signed.engine) as session:
        row = session.scalars(sa.select(WebSession)).one()
        secret = signed.client.cookies.get("keepwell_session")
        assert (
            secret is not None and row.token_hash == digest(secret) and secret not in row.token_hash
        )


def test_a_browser_write_needs_the_csrf_token(signed: Desk) -> None:
    csrf = sign_in(signed).json()["csrf_token"]  # type: ignore[attr-defined]
    client = signed.client
    assert client.post("/api/customers", json={"name": "Bea"}).status_code == 403
    wrong = client.post("/api/customers", json={"name": "Bea"}, headers={"X-CSRF-Token": "x" * 43})
    assert wrong.status_code == 403 and wrong.json()["detail"][0]["field"] == "csrf"
    ok = client.post("/api/customers", json={"name": "Bea"}, headers={"X-CSRF-Token": csrf})
    assert ok.status_code == 201
    other_site = client.post(
        "/api/customers", json={"name": "Eve"},
        headers={"X-CSRF-Token": csrf, "Origin": "https://evil.example"},
    )  # fmt: skip
    assert other_site.status_code == 403 and other_site.json()["detail"][0]["field"] == "origin"
    assert client.get("/api/customers").json()["items"][0]["name"] == "Bea"  # reads need none


def test_a_form_post_carries_the_csrf_token_as_a_field(signed: Desk) -> None:
    signed_in = sign_in(signed)
    assert signed_in.status_code == 200  # type: ignore[attr-defined]
    csrf = signed_in.json()["csrf_token"]  # type: ignore[attr-defined]
    sign_out = signed.client.request("DELETE", "/api/session", data={"csrf_token": csrf})
    assert sign_out.status_code == 204
    assert signed.client.get("/api/me").status_code == 401
    with db.transaction(signed.engine) as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(WebSession)) == 0


def test_signing_out_needs_the_csrf_token_too(signed: Desk) -> None:
    sign_in(signed)
    assert signed.client.delete("/api/session").status_code == 403
    assert signed.client.get("/api/me").status_code == 200


def test_failed_sign_ins_are_slowed_down_per_email_and_address(signed: Desk) -> None:
    with clock.frozen("2026-11-25T09:00:00") as start:
        for _ in range(auth.FREE_FAILURES - 1):
            assert sign_in(signed, "wrong").status_code == 401  # type: ignore[attr-defined]
        third = sign_in(signed, "wrong")
        assert third.status_code == 401 and third.headers["Retry-After"] == "2"  # type: ignore[attr-defined]
        refused = sign_in(signed)  # the right password, during the wait
        assert refused.status_code == 429 and refused.headers["Retry-After"] == "2"  # type: ignore[attr-defined]
    with clock.frozen(start + timedelta(seconds=3)):
        fourth = sign_in(signed, "wrong")
        assert fourth.headers["Retry-After"] == "4"  # type: ignore[attr-defined]  # doubles
    with clock.frozen(start + timedelta(seconds=8)):
        assert sign_in(signed).status_code == 200  # type: ignore[attr-defined]
    with db.transaction(signed.engine) as session:  # a success clears the count
        assert session.scalar(sa.select(sa.func.count()).select_from(SignInThrottle)) == 0


def test_the_wait_grows_to_a_ceiling() -> None:
    waits = [auth.wait_after(n).total_seconds() for n in range(1, 16)]
    assert waits[:5] == [0, 0, 2, 4, 8]
    assert waits == sorted(waits) and waits[-1] == auth.MAX_WAIT.total_seconds()


def test_an_unknown_email_is_refused_like_a_wrong_password(signed: Desk) -> None:
    unknown = signed.client.post(
        "/api/session", json={"email": "eve@shop.example", "password": PASSWORD}
    )
    wrong = sign_in(signed, "wrong")
    assert unknown.status_code == wrong.status_code == 401  # type: ignore[attr-defined]
    assert unknown.json() == wrong.json()  # type: ignore[attr-defined]


def test_an_inactive_member_cannot_sign_in_or_use_a_token(signed: Desk) -> None:
    with db.transaction(signed.engine) as session:
        ana = session.scalars(
            sa.select(TeamMember).where(TeamMember.email == "ana@shop.example")
        ).one()
        _, secret = create_token(session, ana, "script")
        ana.active = False
    assert sign_in(signed).status_code == 401  # type: ignore[attr-defined]
    assert (
        signed.client.get("/api/me", headers={"Authorization": f"Bearer {secret}"}).status_code
        == 401
    )


def test_tokens_are_shown_once_stored_hashed_and_note_their_last_use(signed: Desk) -> None:
    client, member = signed.client, signed.auth("member")
    made = client.post("/api/tokens", json={"name": "shop sync"}, headers=member)
    assert made.status_code == 201
    secret = made.json()["token"]
    assert secret.startswith("kw_") and len(secret) > 40
    listed = client.get("/api/tokens", headers=member).json()
    assert secret not in str(listed) and {t["name"] for t in listed} >= {"shop sync"}
    with db.transaction(signed.engine) as session:
        stored = session.get(ApiToken, made.json()["details"]["id"])
        assert (
            stored is not None
            and stored.token_hash == digest(secret)
            and stored.last_used_at is None
        )
    with clock.frozen("2026-11-25T10:00:00") as now:
        assert (
            client.get("/api/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
        )
    with db.transaction(signed.engine) as session:
        stored = session.get(ApiToken, made.json()["details"]["id"])
        assert stored is not None and stored.last_used_at == now
    revoked = client.delete(f"/api/tokens/{made.json()['details']['id']}", headers=member)
    assert revoked.json()["revoked_at"] is not None
    assert client.get("/api/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 401


def test_only_an_admin_makes_or_sees_tokens_of_others(signed: Desk) -> None:
    client = signed.client
    viewer_id = signed.members["viewer"]
    by_member = client.post(
        "/api/tokens", json={"member_id": viewer_id}, headers=signed.auth("member")
    )
    assert by_member.status_code == 403
    by_admin = client.post(
        "/api/tokens", json={"member_id": viewer_id, "name": "report"}, headers=signed.auth("admin")
    )
    assert by_admin.status_code == 201 and by_admin.json()["details"]["member_id"] == viewer_id
    theirs = client.get("/api/tokens", params={"member": viewer_id}, headers=signed.auth("member"))
    assert theirs.status_code == 403
    token_id = by_admin.json()["details"]["id"]
    assert (
        client.delete(f"/api/tokens/{token_id}", headers=signed.auth("member")).status_code == 404
    )


def test_failures_are_forgotten_after_a_day(signed: Desk) -> None:
    with clock.frozen("2026-11-24T08:00:00"):
        for _ in range(5):
            sign_in(signed, "wrong")
    with clock.frozen("2026-11-25T09:00:00"):
        assert sign_in(signed).status_code == 200  # type: ignore[attr-defined]
        other = signed.client.post("/api/session", json={"email": "eve@x.example", "password": "p"})
        assert other.status_code == 401
    with db.transaction(signed.engine) as session:
        keys = session.scalars(sa.select(SignInThrottle.key)).all()
    assert keys == [auth.throttle_key("eve@x.example", "testclient")]


def test_every_write_route_refuses_a_browser_session_without_the_csrf_token(signed: Desk) -> None:
    """A signed-in browser (cookie session) cannot write anywhere without the CSRF token:
    a forged cross-site form gets 403, whatever route it aims at."""
    from tests.api.test_permissions import ANY_ROLE_WRITES, PUBLIC, READS, concrete, routes

    assert sign_in(signed).status_code == 200  # type: ignore[attr-defined]
    checked = 0
    for method, path in routes(signed):
        if method in READS or (method, path) in PUBLIC or (method, path) in ANY_ROLE_WRITES:
            continue
        answer = signed.client.request(method, concrete(path), json={})
        assert answer.status_code == 403, (method, path, answer.status_code)
        assert answer.json()["detail"][0]["field"] == "csrf", (method, path)
        checked += 1
    assert checked >= 25
    with db.transaction(signed.engine) as session:  # and nothing was written
        assert session.scalar(sa.select(sa.func.count()).select_from(TeamMember)) == 4
