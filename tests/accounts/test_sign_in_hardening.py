"""What an outside probe of a running desk found about signing in, each pinned down:

- the password check (Argon2, 0.1-0.2 s) ran inside the sign-in's write transaction, so
  on SQLite every other write queued behind failed sign-ins;
- an unknown e-mail was refused without a password check: fast, so it could be told
  apart from a known one by timing;
- /api/session took a form from any site (login CSRF: another site's page signed its
  visitor in as the attacker).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from keepwell import clock, db
from keepwell.accounts import auth, passwords
from keepwell.accounts.models import TeamMember, WebSession
from keepwell.accounts.service import add_member, add_user
from tests.api.conftest import Desk, make_desk

PASSWORD = "correct horse battery"
ANA = "ana@shop.example"


@pytest.fixture(autouse=True)
def fixed_clock() -> Iterator[None]:
    """The throttle's waits (2 s after three failures) are counted on this clock, not
    raced against the real one on a busy machine."""
    with clock.frozen("2026-11-25T09:00:00"):
        yield


def with_ana(engine: Engine) -> Desk:
    desk = make_desk(engine)
    with db.transaction(engine) as session:
        add_user(session, ANA, name="Ana", role="member", password=PASSWORD)
        add_member(session, "nopassword@shop.example", "No Password", "member")
        gone, _ = add_user(session, "gone@shop.example", name="Gone", password=PASSWORD)
        gone.active = False
    return desk


@pytest.fixture
def signed(engine: Engine) -> Iterator[Desk]:
    """On SQLite and PostgreSQL: ana@shop.example has a password."""
    desk = with_ana(engine)
    with desk.client:
        yield desk


@pytest.fixture
def signed_sqlite(sqlite_engine: Engine) -> Iterator[Desk]:
    desk = with_ana(sqlite_engine)
    with desk.client:
        yield desk


def api_sign_in(desk: Desk, email: str = ANA, password: str = PASSWORD) -> int:
    answer = desk.client.post("/api/session", json={"email": email, "password": password})
    return int(answer.status_code)


SIGNED_IN = {"api_sign_in": 200, "page_sign_in": 303}  # a session; the page redirects


def page_sign_in(desk: Desk, email: str = ANA, password: str = PASSWORD) -> int:
    answer = desk.client.post(
        "/sign-in", data={"email": email, "password": password}, follow_redirects=False
    )
    return int(answer.status_code)


# --- the password check holds no transaction ---------------------------------------


@pytest.mark.parametrize("route", [api_sign_in, page_sign_in])
def test_another_writer_takes_sqlites_write_lock_while_a_password_is_checked(
    signed_sqlite: Desk, route: object
) -> None:
    """While the password is checked, a second connection asks for SQLite's one
    writer's lock (BEGIN IMMEDIATE) without waiting at all: it gets it, for a wrong
    password and a right one. (Before: "database is locked" — the sign-in held it.)"""
    path = signed_sqlite.engine.url.database
    assert path is not None
    seen: list[str] = []

    def take_the_write_lock() -> None:
        other = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
            seen.append("got it")
        except sqlite3.OperationalError as exc:
            seen.append(str(exc))
        finally:
            other.close()

    assert callable(route)
    with passwords.watching(take_the_write_lock):
        assert route(signed_sqlite, password="wrong password") == 401
        assert route(signed_sqlite) == SIGNED_IN[route.__name__]
    assert seen == ["got it", "got it"]


@pytest.mark.parametrize("route", [api_sign_in, page_sign_in])
def test_no_connection_is_held_while_a_password_is_checked(signed: Desk, route: object) -> None:
    """On both databases: while the password is checked the sign-in holds no connection
    of the app's pool, so no transaction of any kind (and no PostgreSQL connection)."""
    pool = signed.engine.pool
    held: list[int] = []
    assert callable(route)
    with passwords.watching(lambda: held.append(pool.checkedout())):  # type: ignore[attr-defined]
        assert route(signed, password="wrong password") == 401
        assert route(signed, email="eve@shop.example") == 401
        assert route(signed) == SIGNED_IN[route.__name__]
    assert held == [0, 0, 0]


# --- an unknown e-mail costs the same work ------------------------------------------


@pytest.mark.parametrize("route", [api_sign_in, page_sign_in])
def test_every_refused_sign_in_checks_one_password(signed: Desk, route: object) -> None:
    """A known e-mail with a wrong password, an unknown e-mail, a member without a
    password and a deactivated one: each is one Argon2 check, so none answers sooner."""
    assert callable(route)
    for email in (ANA, "eve@shop.example", "nopassword@shop.example", "gone@shop.example"):
        checks: list[str] = []
        with passwords.watching(lambda: checks.append(email)):  # noqa: B023
            assert route(signed, email=email, password="wrong password") == 401
        assert checks == [email], email


def test_a_throttled_attempt_checks_no_password_known_or_not(signed: Desk) -> None:
    for email in (ANA, "eve@shop.example"):
        for _ in range(auth.FREE_FAILURES):
            assert api_sign_in(signed, email, "wrong password") == 401
        checks: list[str] = []
        with passwords.watching(lambda found=checks: found.append("checked")):  # type: ignore[misc]
            assert api_sign_in(signed, email) == 429
        assert checks == [], email


def test_failures_counted_during_the_check_make_a_right_password_wait(signed: Desk) -> None:
    """A burst of attempts at once gets no more answers than the same attempts one after
    another: failures recorded while this attempt's password was being checked, which
    now make it wait, refuse it as throttled — its right password notwithstanding."""
    recorded = False

    def others_fail_meanwhile() -> None:
        nonlocal recorded
        if recorded:
            return
        recorded = True
        for _ in range(auth.FREE_FAILURES):  # as concurrent requests would, while we check
            runtime = signed.app.state.keepwell
            result = auth.sign_in(
                runtime.reader, runtime.writer, ANA, "wrong password", "testclient"
            )
            assert result.member is None

    with passwords.watching(others_fail_meanwhile):
        answer = signed.client.post("/api/session", json={"email": ANA, "password": PASSWORD})
    assert answer.status_code == 429 and answer.headers["Retry-After"] == "2"
    with db.transaction(signed.engine) as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(WebSession)) == 0


def test_a_password_changed_during_the_check_does_not_sign_in(signed: Desk) -> None:
    """The password is checked against the hash read in step 1; if an admin set a new
    one meanwhile, the old password does not start a session."""
    from keepwell.accounts.service import find_member, set_password

    def changed_meanwhile() -> None:
        with db.transaction(signed.engine) as session:
            ana = find_member(session, ANA)
            set_password(session, ana, "a brand new password", revoke_tokens=False)

    with passwords.watching(changed_meanwhile):
        assert api_sign_in(signed) == 401
    with db.transaction(signed.engine) as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(WebSession)) == 0
        ana = session.scalars(sa.select(TeamMember).where(TeamMember.email == ANA)).one()
        assert ana.last_sign_in_at is None


# --- login CSRF ---------------------------------------------------------------------

EVIL = "https://evil.example"


def sessions(desk: Desk) -> int:
    with db.transaction(desk.engine) as session:
        return session.scalar(sa.select(sa.func.count()).select_from(WebSession)) or 0


def test_the_api_refuses_a_sign_in_from_another_site(signed: Desk) -> None:
    """Another site's page can post a form or text to /api/session: refused, whatever the
    body, and no session starts; the credentials are right each time."""
    client = signed.client
    credentials = {"email": ANA, "password": PASSWORD}
    form = client.post("/api/session", data=credentials, headers={"Origin": EVIL})
    assert form.status_code == 403 and form.json()["detail"][0]["field"] == "origin"
    for origin in (EVIL, "null"):  # null: a sandboxed frame, a data: URL
        as_json = client.post("/api/session", json=credentials, headers={"Origin": origin})
        assert as_json.status_code == 403, origin
    by_referer = client.post(
        "/api/session", json=credentials, headers={"Referer": f"{EVIL}/win-a-prize"}
    )
    assert by_referer.status_code == 403
    assert "set-cookie" not in form.headers and sessions(signed) == 0


def test_the_api_takes_json_only(signed: Desk) -> None:
    """A form, text that looks like JSON (a cross-site `enctype=text/plain` form) or a
    body without a type — all of which a browser sends cross-site without asking —
    are refused even without an Origin; JSON from this site or a script is fine."""
    client = signed.client
    credentials = {"email": ANA, "password": PASSWORD}
    text = '{"email": "ana@shop.example", "password": "correct horse battery", "x": "="}'
    assert client.post("/api/session", data=credentials).status_code == 415
    plain = client.post("/api/session", content=text, headers={"Content-Type": "text/plain"})
    assert plain.status_code == 415
    untyped = client.post("/api/session", content=text.encode(), headers={"Content-Type": ""})
    assert untyped.status_code == 415
    assert sessions(signed) == 0
    here = "https://testserver"
    same = client.post("/api/session", json=credentials, headers={"Origin": here})
    assert same.status_code == 200
    assert api_sign_in(signed) == 200  # a script: no Origin, no Referer
    assert sessions(signed) == 2


def test_the_sign_in_page_refuses_another_site_and_a_null_origin(signed: Desk) -> None:
    client = signed.client
    credentials = {"email": ANA, "password": PASSWORD}
    for headers in ({"Origin": EVIL}, {"Origin": "null"}, {"Referer": f"{EVIL}/x"}):
        answer = client.post("/sign-in", data=credentials, headers=headers, follow_redirects=False)
        assert answer.status_code == 403, headers
        assert "set-cookie" not in answer.headers
    assert sessions(signed) == 0
    ours = client.post(
        "/sign-in", data=credentials, headers={"Origin": "https://testserver"},
        follow_redirects=False,
    )  # fmt: skip
    assert ours.status_code == 303 and sessions(signed) == 1
