"""Every route is closed without credentials (but sign-in, health and the API's own
description), and a viewer reads but never writes. The routes are enumerated from the
app, so a new route is covered without touching this file."""

from __future__ import annotations

import re
from datetime import date

import pytest
from fastapi.routing import iter_route_contexts

from keepwell import db
from keepwell.accounts.tokens import revoke_token, token_for_secret
from keepwell.ingest.demo import build_world
from tests.api.conftest import Desk

# Open to anyone, on purpose: signing in, the health check, and the API's description
# (its schema and the page that shows it hold no data).
PUBLIC = {
    ("POST", "/api/session"),
    ("GET", "/api/health"),
    ("GET", "/api/openapi.json"),
    ("GET", "/api/docs"),
}
# Signing out is a write every role may do (it ends the caller's own session).
ANY_ROLE_WRITES = {("DELETE", "/api/session")}
READS = {"GET", "HEAD"}


def routes(desk: Desk) -> list[tuple[str, str]]:
    """(method, path) of every API route, those of included routers too (the HTML pages
    redirect to the sign-in page instead: tests/web/test_pages.py checks them)."""
    found = []
    for route in iter_route_contexts(desk.app.routes):
        for method in sorted(route.methods or ()):
            if method != "HEAD" and route.path is not None and route.path.startswith("/api/"):
                found.append((method, route.path))
    return found


def concrete(path: str) -> str:
    """The path with every {parameter} set to 1."""
    return re.sub(r"\{[^}]+\}", "1", path)


def test_the_app_has_the_routes_this_test_expects(sqlite_desk: Desk) -> None:
    found = set(routes(sqlite_desk))
    assert found >= PUBLIC
    assert len(found - PUBLIC) >= 40  # every resource's routes are there to be checked
    assert all(path.startswith("/api/") for _, path in found)


def test_every_route_but_the_public_ones_is_denied_without_credentials(
    sqlite_desk: Desk,
) -> None:
    client = sqlite_desk.client
    checked = 0
    for method, path in routes(sqlite_desk):
        if (method, path) in PUBLIC:
            continue
        for headers in (
            {},
            {"Authorization": "Bearer kw_not-a-token"},
            {"Authorization": "Basic x"},
        ):
            response = client.request(method, concrete(path), headers=headers, json={})
            assert response.status_code == 401, (method, path, headers, response.text)
            assert response.json()["detail"][0]["field"] == "authorization"
            assert response.headers["WWW-Authenticate"] == "Bearer"
        checked += 1
    assert checked >= 40


def test_public_routes_answer_without_credentials(sqlite_desk: Desk) -> None:
    client = sqlite_desk.client
    assert client.get("/api/health").json()["schema_revision"] == db.SCHEMA_REVISION
    assert client.get("/api/openapi.json").json()["info"]["title"] == "Keepwell"
    assert client.get("/api/docs").status_code == 200
    assert (
        client.post("/api/session", json={"email": "x@y.example", "password": "p"}).status_code
        == 401
    )


# The record a path parameter names: its table and key column. A read route with a new
# parameter fails test_a_viewer_reads_every_record_and_writes_nothing until it is named here.
RECORDS = {
    "customer_id": ("customers", "id"),
    "member_id": ("team_members", "id"),
    "promise_id": ("promises", "id"),
    "case_id": ("cases", "id"),
    "task_id": ("tasks", "id"),
    "survey_id": ("survey_invitations", "id"),
    "feedback_id": ("feedback", "id"),
    "action_id": ("feedback_actions", "id"),
    "name": ("playbooks", "name"),
    "goal_id": ("goals", "id"),
    "review_id": ("account_reviews", "id"),
}
MISSING = "999999"  # no record has this id or name


def test_a_viewer_reads_every_record_and_writes_nothing(sqlite_desk: Desk) -> None:
    """The rule: a viewer may read everything and write nothing. So every read answers
    exactly 200 for a record that is there and exactly 404 ("no …") for one that is not,
    the same as the admin gets; every write answers 403 naming the role."""
    build_world(sqlite_desk.engine, customers=40, today=date(2026, 11, 25))  # one of each
    client = sqlite_desk.client
    viewer, admin = sqlite_desk.auth("viewer"), sqlite_desk.auth("admin")
    with sqlite_desk.engine.connect() as conn:
        existing = {
            name: str(conn.exec_driver_sql(f"SELECT min({key}) FROM {table}").scalar_one())
            for name, (table, key) in RECORDS.items()
        }
    assert "None" not in existing.values(), existing  # the demo desk has one of each
    reads = records = writes = 0
    for method, path in routes(sqlite_desk):
        if (method, path) in PUBLIC or (method, path) in ANY_ROLE_WRITES:
            continue
        params = re.findall(r"\{([^}]+)\}", path)
        if method not in READS:
            response = client.request(method, concrete(path), headers=viewer, json={})
            assert response.status_code == 403, (method, path, response.text)
            assert response.json()["detail"][0]["field"] == "role"
            writes += 1
            continue
        assert set(params) <= set(RECORDS), f"{path}: name the record of {params} in RECORDS"
        there = path.format(**{p: existing[p] for p in params})
        response = client.get(there, headers=viewer)
        assert response.status_code == 200, (there, response.text)
        reads += 1
        if not params:
            continue
        missing = path.format(**dict.fromkeys(params, MISSING))
        response = client.get(missing, headers=viewer)
        assert response.status_code == 404, (missing, response.text)
        assert response.json()["detail"][0]["reason"].startswith("no "), missing
        assert response.json() == client.get(missing, headers=admin).json()
        records += 1
    assert reads >= 40 and records >= 15 and writes >= 25
    assert client.get("/api/customers", headers=viewer).json()["items"]


def test_a_member_cannot_do_what_only_an_admin_may(sqlite_desk: Desk) -> None:
    client = sqlite_desk.client
    member = sqlite_desk.auth("member")
    customer = client.post("/api/customers", json={"name": "Bea"}, headers=member).json()
    for method, path, body in (
        ("POST", "/api/members", {"email": "new@shop.example"}),
        ("PATCH", f"/api/members/{sqlite_desk.members['viewer']}", {"role": "admin"}),
        ("DELETE", f"/api/customers/{customer['id']}", None),
    ):
        response = client.request(method, path, headers=member, json=body)
        assert response.status_code == 403, (method, path, response.text)
    assert client.get(f"/api/customers/{customer['id']}", headers=member).status_code == 200


def test_a_revoked_token_stops_working_at_once(sqlite_desk: Desk) -> None:
    client = sqlite_desk.client
    headers = sqlite_desk.auth("member")
    assert client.get("/api/me", headers=headers).status_code == 200
    with db.transaction(sqlite_desk.engine) as session:
        token = token_for_secret(session, sqlite_desk.tokens["member"])
        assert token is not None
        revoke_token(session, token)
    response = client.get("/api/me", headers=headers)
    assert response.status_code == 401
    assert "revoked" in response.json()["detail"][0]["reason"]


@pytest.mark.parametrize("role", ["admin", "member", "viewer"])
def test_each_role_reads_its_own_profile(sqlite_desk: Desk, role: str) -> None:
    me = sqlite_desk.client.get("/api/me", headers=sqlite_desk.auth(role)).json()
    assert (me["email"], me["role"]) == (f"{role}@shop.example", role)
