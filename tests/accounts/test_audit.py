"""The audit trail: every change recorded with who, when, what, before and after; secrets
never; an erased customer leaves only that it happened."""

from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from keepwell import db
from keepwell.accounts.audit import Actor, AuditFilter, acting, list_entries
from keepwell.accounts.models import AuditEntry
from keepwell.accounts.service import add_member, add_user, set_password
from keepwell.cli import app
from keepwell.customers.models import Customer
from keepwell.touches.service import log_touch
from tests.api.conftest import Desk


def entries(engine: Engine, **filters: object) -> list[AuditEntry]:
    with db.transaction(engine) as session:
        return list_entries(session, AuditFilter(**filters))  # type: ignore[arg-type]


def test_api_changes_are_recorded_with_who_before_and_after(desk: Desk) -> None:
    c, member = desk.client, desk.auth()
    bea = c.post("/api/customers", json={"name": "Bea", "segment": "retail"}, headers=member).json()
    c.patch(f"/api/customers/{bea['id']}", json={"segment": "vip"}, headers=member)
    c.post("/api/interactions", json={"customer_id": bea["id"], "summary": "Hi"}, headers=member)
    found = c.get("/api/audit", params={"customer": bea["id"]}, headers=desk.auth("viewer")).json()
    assert [(e["action"], e["table_name"]) for e in found] == [
        ("insert", "touches"),
        ("update", "customers"),
        ("insert", "customers"),
    ]  # fmt: skip  (newest first; derived columns the touch moved are left out)
    update = found[1]
    assert (update["before"], update["after"]) == ({"segment": "retail"}, {"segment": "vip"})
    assert update["member_id"] == desk.members["member"] and update["via"].startswith("token:")
    assert update["record_id"] == str(bea["id"])
    by_member = c.get(
        "/api/audit", params={"member": desk.members["member"]}, headers=member
    ).json()
    assert {e["id"] for e in found} <= {e["id"] for e in by_member}


def test_a_refused_request_records_nothing(desk: Desk) -> None:
    before = len(entries(desk.engine))
    response = desk.client.post(
        "/api/orders/bulk",
        json={
            "orders": [
                {"customer_id": 999, "ordered_at": "2026-01-01T00:00:00Z", "amount_minor": 1}
            ]
        },
        headers=desk.auth(),
    )
    assert response.status_code == 422
    assert len(entries(desk.engine)) == before


def test_secrets_never_reach_the_trail(sqlite_engine: Engine) -> None:
    with db.transaction(sqlite_engine) as session:
        ana, password = add_user(session, "ana@shop.example", role="admin")
        set_password(session, ana, "a brand new secret", revoke_tokens=False)
        from keepwell.accounts.tokens import create_token

        _, token = create_token(session, ana, "script")
    assert password is not None
    with sqlite_engine.connect() as conn:
        dump = json.dumps(
            [list(r) for r in conn.exec_driver_sql("SELECT * FROM audit_entries")], default=str
        )
    for secret in (password, "a brand new secret", token, "$argon2", token[3:]):
        assert secret not in dump
    assert "(changed)" in dump  # the password change itself is recorded


def test_changes_made_in_code_name_the_actor_given(engine: Engine) -> None:
    with db.transaction(engine) as session:
        ana = add_member(session, "ana@shop.example", "Ana")
        bea = Customer(name="Bea", tags=[], marketing_consent=False)
        session.add(bea)
        session.flush()
        with acting(Actor(ana.id, "job:playbooks")):
            log_touch(session, bea, channel="note", summary="From a job")
    touch = entries(engine, member_id=ana.id)
    assert [(e.table_name, e.via, e.after["summary"]) for e in touch] == [  # type: ignore[index]
        ("touches", "job:playbooks", "From a job")
    ]


def test_erasing_a_customer_blanks_what_the_trail_knew(desk: Desk) -> None:
    c = desk.client
    bea = c.post(
        "/api/customers",
        json={"name": "Bea Secret", "email": "bea@secret.example"},
        headers=desk.auth(),
    ).json()
    c.post(
        "/api/interactions",
        json={"customer_id": bea["id"], "summary": "Her private news"},
        headers=desk.auth(),
    )
    assert c.delete(f"/api/customers/{bea['id']}", headers=desk.auth("admin")).status_code == 204
    found = entries(desk.engine, customer_id=bea["id"])
    assert found[0].action == "delete" and found[0].before == {"id": bea["id"]}
    assert found[0].member_id == desk.members["admin"]
    assert all(e.before is None and e.after is None for e in found[1:]) and len(found) >= 3
    with desk.engine.connect() as conn:
        dump = json.dumps(
            [list(r) for r in conn.execute(sa.select(AuditEntry.__table__))], default=str
        )
    assert "Bea Secret" not in dump and "Her private news" not in dump


def test_audit_list_on_the_command_line(tmp_path: Path) -> None:
    runner = CliRunner()
    database = f"sqlite:///{tmp_path / 'kw.db'}"
    assert runner.invoke(app, ["init", "--database", database]).exit_code == 0
    assert (
        runner.invoke(app, ["member", "add", "ana@shop.example", "--database", database]).exit_code
        == 0
    )
    result = runner.invoke(app, ["audit", "list", "--database", database, "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [(r["action"], r["table_name"], r["via"], r["after"]["email"]) for r in rows] == [
        ("insert", "team_members", "cli", "ana@shop.example")
    ]
    table = runner.invoke(app, ["audit", "list", "--database", database])
    assert "insert team_members" in table.stdout
