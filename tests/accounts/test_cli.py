"""`keepwell user …`, `keepwell token …`, and the demo's admin."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from keepwell import db
from keepwell.accounts.models import ApiToken, TeamMember
from keepwell.accounts.passwords import verify_password
from keepwell.accounts.tokens import digest
from keepwell.cli import app

runner = CliRunner()


@pytest.fixture
def database(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'kw.db'}"
    assert runner.invoke(app, ["init", "--database", url]).exit_code == 0
    return url


def stored(url: str, email: str) -> TeamMember:
    engine = db.make_engine(url)
    with db.transaction(engine) as session:
        member = session.scalars(sa.select(TeamMember).where(TeamMember.email == email)).one()
    engine.dispose()
    return member


def test_user_add_prints_a_generated_password_that_signs_in(database: str) -> None:
    result = runner.invoke(
        app,
        [
            "user",
            "add",
            "Ana@Shop.example",
            "--role",
            "admin",
            "--name",
            "Ana",
            "--database",
            database,
        ],
    )
    assert result.exit_code == 0, result.output
    password = re.search(r"Password: (\S+)", result.stdout)
    assert password is not None and len(password.group(1)) == 20
    ana = stored(database, "ana@shop.example")
    assert (ana.role, ana.name) == ("admin", "Ana")
    assert verify_password(ana.password_hash, password.group(1))


def test_user_add_reads_the_password_from_stdin(database: str) -> None:
    result = runner.invoke(
        app, ["user", "add", "bo@shop.example", "--password-stdin", "--database", database],
        input="a long enough secret\n",
    )  # fmt: skip
    assert result.exit_code == 0 and "Password:" not in result.stdout
    assert verify_password(
        stored(database, "bo@shop.example").password_hash, "a long enough secret"
    )
    short = runner.invoke(
        app,
        ["user", "add", "cy@shop.example", "--password-stdin", "--database", database],
        input="short\n",
    )
    assert short.exit_code == 1 and "password: use at least 10 characters" in short.stderr


def test_user_add_refuses_a_bad_role_or_a_second_account(database: str) -> None:
    bad = runner.invoke(
        app, ["user", "add", "ana@shop.example", "--role", "owner", "--database", database]
    )
    assert bad.exit_code == 1 and "unknown role" in bad.stderr
    assert (
        runner.invoke(app, ["user", "add", "ana@shop.example", "--database", database]).exit_code
        == 0
    )
    again = runner.invoke(app, ["user", "add", "ana@shop.example", "--database", database])
    assert again.exit_code == 1 and "exists already" in again.stderr


def test_user_password_sets_a_new_one(database: str) -> None:
    runner.invoke(app, ["user", "add", "ana@shop.example", "--database", database])
    old = stored(database, "ana@shop.example").password_hash
    result = runner.invoke(app, ["user", "password", "ana@shop.example", "--database", database])
    assert result.exit_code == 0
    new = re.search(r"Password: (\S+)", result.stdout)
    assert new is not None
    now = stored(database, "ana@shop.example").password_hash
    assert now != old and verify_password(now, new.group(1))


def test_token_create_list_revoke(database: str) -> None:
    runner.invoke(app, ["member", "add", "shop@shop.example", "--database", database])
    made = runner.invoke(
        app, ["token", "create", "shop@shop.example", "--name", "shop sync", "--database", database]
    )
    assert made.exit_code == 0, made.output
    secret = next(line for line in made.stdout.splitlines() if line.startswith("kw_"))
    listed = runner.invoke(app, ["token", "list", "--json", "--database", database])
    rows = json.loads(listed.stdout)
    assert [(r["member_id"], r["name"], r["last_used_at"]) for r in rows] == [
        (1, "shop sync", None)  # as GET /api/tokens answers: the member's id
    ]
    assert secret not in listed.stdout and rows[0]["prefix"] == secret[:10]
    engine = db.make_engine(database)
    with db.transaction(engine) as session:
        assert session.scalars(sa.select(ApiToken.token_hash)).one() == digest(secret)
    engine.dispose()
    revoked = runner.invoke(app, ["token", "revoke", str(rows[0]["id"]), "--database", database])
    assert revoked.exit_code == 0
    assert (
        json.loads(runner.invoke(app, ["token", "list", "--json", "--database", database]).stdout)
        == []
    )
    gone = runner.invoke(app, ["token", "revoke", "99", "--database", database])
    assert gone.exit_code == 1 and "no API token #99" in gone.stderr


def test_the_demo_prints_an_admin_who_can_sign_in(tmp_path: Path) -> None:
    path = tmp_path / "demo.db"
    result = runner.invoke(
        app, ["demo", "--customers", "60", "--database", str(path), "--no-serve", "--json"]
    )
    assert result.exit_code == 0, result.output
    admin = json.loads(result.stdout)["admin"]
    member = stored(f"sqlite:///{path}", admin["email"])
    assert member.role == "admin" and verify_password(member.password_hash, admin["password"])
    text = runner.invoke(app, ["demo", "--customers", "60", "--database", str(path), "--no-serve"])
    assert f"Sign in as {admin['email']} with the password" in text.stdout
