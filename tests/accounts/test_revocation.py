"""Old credentials do not outlive account changes: deactivating a member ends their
browser sessions and revokes their tokens for good (reactivating brings neither back);
a new password ends their sessions and, when the one setting it says so, revokes their
tokens. Every revocation is in the audit trail."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from keepwell import db
from keepwell.accounts.models import AuditEntry, TeamMember
from keepwell.accounts.passwords import verify_password
from keepwell.accounts.service import add_user
from keepwell.accounts.tokens import create_token
from keepwell.cli import app as cli
from tests.api.conftest import BASE_URL, Desk, make_desk

PASSWORD = "correct horse battery"
ANA = "ana@shop.example"
runner = CliRunner()


@dataclass
class Ana:
    """A desk where ana@shop.example is signed in from a browser and has an API token."""

    desk: Desk
    id: int
    token: str
    browser: TestClient  # her signed-in browser

    def token_works(self) -> bool:
        answer = self.desk.client.get("/api/me", headers={"Authorization": f"Bearer {self.token}"})
        return bool(answer.status_code == 200)

    def session_works(self) -> bool:
        return bool(self.browser.get("/api/me").status_code == 200)

    def stored(self) -> TeamMember:
        with db.transaction(self.desk.engine) as session:
            member = session.get(TeamMember, self.id)
            assert member is not None
            return member


def ana_on(engine: Engine) -> Iterator[Ana]:
    desk = make_desk(engine)
    with db.transaction(engine) as session:
        member, _ = add_user(session, ANA, name="Ana", password=PASSWORD)
        _, secret = create_token(session, member, "shop sync")
        ana_id = member.id
    with desk.client, TestClient(desk.app, base_url=BASE_URL) as browser:
        signed_in = browser.post("/api/session", json={"email": ANA, "password": PASSWORD})
        assert signed_in.status_code == 200
        ana = Ana(desk, ana_id, secret, browser)
        assert ana.token_works() and ana.session_works()
        yield ana


@pytest.fixture
def ana(engine: Engine) -> Iterator[Ana]:
    """On SQLite and PostgreSQL."""
    yield from ana_on(engine)


@pytest.fixture
def ana_in_a_file(sqlite_engine: Engine) -> Iterator[Ana]:
    """On a SQLite file the command line can open too."""
    yield from ana_on(sqlite_engine)


def audit_of(desk: Desk, table: str) -> list[AuditEntry]:
    with db.transaction(desk.engine) as session:
        return list(
            session.scalars(
                sa.select(AuditEntry).where(AuditEntry.table_name == table).order_by(AuditEntry.id)
            )
        )


# --- deactivation ----------------------------------------------------------------------


def test_deactivating_revokes_sessions_and_tokens_for_good(ana: Ana) -> None:
    admin = ana.desk.auth("admin")
    client = ana.desk.client
    off = client.patch(f"/api/members/{ana.id}", json={"active": False}, headers=admin)
    assert off.status_code == 200
    assert not ana.token_works() and not ana.session_works()
    on = client.patch(f"/api/members/{ana.id}", json={"active": True}, headers=admin)
    assert on.status_code == 200 and on.json()["active"] is True
    # back on the team, but what she had before stays dead: she signs in again
    assert not ana.token_works() and not ana.session_works()
    tokens = client.get("/api/tokens", params={"member": ana.id, "revoked": True}, headers=admin)
    assert [t["revoked_at"] is not None for t in tokens.json()] == [True]
    again = ana.browser.post("/api/session", json={"email": ANA, "password": PASSWORD})
    assert again.status_code == 200 and ana.session_works()


def test_deactivating_is_audited_with_each_revocation(ana: Ana) -> None:
    admin_id = ana.desk.members["admin"]
    off = ana.desk.client.patch(
        f"/api/members/{ana.id}", json={"active": False}, headers=ana.desk.auth("admin")
    )
    assert off.status_code == 200
    revoked = [e for e in audit_of(ana.desk, "api_tokens") if e.action == "update"]
    assert len(revoked) == 1 and revoked[0].member_id == admin_id
    assert revoked[0].after is not None and revoked[0].after["revoked_at"] is not None
    ended = [e for e in audit_of(ana.desk, "web_sessions") if e.action == "delete"]
    assert len(ended) == 1 and ended[0].member_id == admin_id
    assert ended[0].before is not None and ended[0].before["member_id"] == ana.id
    assert ended[0].before["token_hash"] == ended[0].before["csrf_hash"] == "(set)"  # secrets
    started = [e for e in audit_of(ana.desk, "web_sessions") if e.action == "insert"]
    assert len(started) == 1 and (started[0].member_id, started[0].via) == (ana.id, "sign-in")


def test_deactivating_from_the_admin_page_revokes_too(ana: Ana) -> None:
    admin = TestClient(ana.desk.app, base_url=BASE_URL)
    with db.transaction(ana.desk.engine) as session:
        add_user(session, "boss@shop.example", role="admin", password=PASSWORD)
    with admin:
        assert admin.post("/api/session", json={"email": "boss@shop.example", "password": PASSWORD}).status_code == 200  # fmt: skip
        csrf = admin.cookies.get("keepwell_csrf")
        done = admin.post(
            f"/admin/members/{ana.id}", data={"active": "0", "csrf_token": csrf},
            follow_redirects=False,
        )  # fmt: skip
        assert done.status_code == 303
        assert not ana.token_works() and not ana.session_works()
        again = admin.post(
            f"/admin/members/{ana.id}", data={"active": "1", "csrf_token": csrf},
            follow_redirects=False,
        )  # fmt: skip
        assert again.status_code == 303 and ana.stored().active
    assert not ana.token_works() and not ana.session_works()


# --- a new password: over the API and the admin page ---------------------------------


def test_a_new_password_over_the_api_ends_sessions_and_revokes_tokens_if_asked(ana: Ana) -> None:
    client, admin = ana.desk.client, ana.desk.auth("admin")
    path = f"/api/members/{ana.id}/password"
    unchosen = client.post(path, json={"password": "a brand new password"}, headers=admin)
    assert unchosen.status_code == 422 and unchosen.json()["detail"][0]["field"] == "revoke_tokens"
    assert ana.session_works()  # nothing happened
    by_member = client.post(path, json={"revoke_tokens": True}, headers=ana.desk.auth("member"))
    assert by_member.status_code == 403
    kept = client.post(
        path, json={"password": "a brand new password", "revoke_tokens": False}, headers=admin
    )
    assert kept.status_code == 200 and kept.json()["tokens_revoked"] is False
    assert kept.json()["password"] is None
    assert not ana.session_works() and ana.token_works()
    assert verify_password(ana.stored().password_hash, "a brand new password")
    revoked = client.post(path, json={"revoke_tokens": True}, headers=admin)
    assert revoked.status_code == 200 and len(revoked.json()["password"]) == 20
    assert not ana.token_works()
    assert verify_password(ana.stored().password_hash, revoked.json()["password"])


def test_a_new_password_from_the_admin_page_makes_the_choice_explicit(ana: Ana) -> None:
    admin = TestClient(ana.desk.app, base_url=BASE_URL)
    with db.transaction(ana.desk.engine) as session:
        add_user(session, "boss@shop.example", role="admin", password=PASSWORD)
    before = ana.stored().password_hash
    with admin:
        assert admin.post("/api/session", json={"email": "boss@shop.example", "password": PASSWORD}).status_code == 200  # fmt: skip
        csrf = admin.cookies.get("keepwell_csrf")
        form = admin.get("/admin/members").text
        assert 'name="tokens" value="keep"' in form and 'name="tokens" value="revoke"' in form
        assert "checked" not in form.split('id="h-password"')[1]  # no choice made for you
        unchosen = admin.post(
            "/admin/members/password", data={"member": str(ana.id), "csrf_token": csrf}
        )
        assert unchosen.status_code == 422 and "API tokens are kept or revoked" in unchosen.text
        assert ana.stored().password_hash == before and ana.session_works()
        revoked = admin.post(
            "/admin/members/password",
            data={"member": str(ana.id), "tokens": "revoke", "csrf_token": csrf},
        )
        assert revoked.status_code == 200 and "were revoked" in revoked.text
        assert revoked.headers["Cache-Control"] == "no-store"
    assert ana.stored().password_hash != before
    assert not ana.session_works() and not ana.token_works()


# --- a new password: the command line ---------------------------------------------------


def url_of(ana: Ana) -> str:
    return ana.desk.engine.url.render_as_string(hide_password=False)


def test_user_password_keep_tokens_ends_sessions_only(ana_in_a_file: Ana) -> None:
    ana = ana_in_a_file
    done = runner.invoke(cli, ["user", "password", ANA, "--keep-tokens", "-d", url_of(ana)])
    assert done.exit_code == 0, done.output
    assert "browser sessions ended, their API tokens kept" in done.output
    assert not ana.session_works() and ana.token_works()


def test_user_password_revoke_tokens_revokes_them(ana_in_a_file: Ana) -> None:
    ana = ana_in_a_file
    done = runner.invoke(cli, ["user", "password", ANA, "--revoke-tokens", "-d", url_of(ana)])
    assert done.exit_code == 0, done.output
    assert not ana.session_works() and not ana.token_works()
    revoked = [e for e in audit_of(ana.desk, "api_tokens") if e.action == "update"]
    assert len(revoked) == 1 and revoked[0].via == "cli"


@pytest.mark.parametrize(("answer", "token_works"), [("y\n", False), ("n\n", True)])
def test_user_password_asks_about_the_tokens(
    ana_in_a_file: Ana, answer: str, token_works: bool
) -> None:
    ana = ana_in_a_file
    done = runner.invoke(cli, ["user", "password", ANA, "-d", url_of(ana)], input=answer)
    assert done.exit_code == 0, done.output
    assert "has 1 API token" in done.output and "Revoke them too" in done.output
    assert not ana.session_works() and ana.token_works() is token_works


def test_user_password_without_an_answer_changes_nothing(ana_in_a_file: Ana) -> None:
    ana = ana_in_a_file
    before = ana.stored().password_hash
    done = runner.invoke(cli, ["user", "password", ANA, "-d", url_of(ana)], input="")
    assert done.exit_code == 1
    assert "--revoke-tokens or --keep-tokens" in done.output
    assert ana.stored().password_hash == before
    assert ana.session_works() and ana.token_works()


def test_user_password_from_stdin_reads_the_answer_after_it(ana_in_a_file: Ana) -> None:
    ana = ana_in_a_file
    done = runner.invoke(
        cli, ["user", "password", ANA, "--password-stdin", "-d", url_of(ana)],
        input="a brand new password\ny\n",
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    assert verify_password(ana.stored().password_hash, "a brand new password")
    assert not ana.token_works()
