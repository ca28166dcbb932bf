"""The admin pages without a browser, on SQLite and PostgreSQL: admins only; members and
roles, API tokens, cadences, the audit trail and settings — through the services,
audited, CSRF-protected; refused input writes nothing."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from keepwell import db
from keepwell.accounts.models import ApiToken, AuditEntry, TeamMember
from keepwell.customers.models import Cadence
from keepwell.settings.models import Setting
from keepwell.web.app import create_app
from tests.web.conftest import PASSWORD, World

ADMIN_GETS = [
    "/admin", "/admin/members", "/admin/tokens", "/admin/audit", "/admin/settings",
    "/admin/cadences", "/admin/playbooks", "/admin/smtp",
]  # fmt: skip


def csrf(client: TestClient) -> str:
    token = client.cookies.get("keepwell_csrf")
    assert token
    return token


def count(world: World, model: type, *where: sa.ColumnElement[bool]) -> int:
    return int(world.scalar(sa.select(sa.func.count()).select_from(model).where(*where)))


def signed_in(world: World, role: str) -> TestClient:
    with db.transaction(world.engine) as session:
        email = session.scalar(
            sa.select(TeamMember.email).where(TeamMember.role == role).order_by(TeamMember.id)
        )
        if email is None:
            from keepwell.accounts.service import add_user

            email = f"{role}@keepwell.example"
            add_user(session, email, role=role, password=PASSWORD)
    client = TestClient(create_app(world.engine), base_url="https://testserver")
    answer = client.post("/sign-in", data={"email": email, "password": PASSWORD},
                         follow_redirects=False)  # fmt: skip
    assert answer.status_code == 303
    return client


def test_admin_pages_answer_admins_only(web: TestClient, shop: World) -> None:
    for path in ADMIN_GETS:
        assert web.get(path).status_code == 200, path
    index = web.get("/admin").text
    for path in ADMIN_GETS[1:]:
        assert f'href="{path}"' in index
    assert "to come" in index  # feedback: a place left for its page
    for role in ("member", "viewer"):
        client = signed_in(shop, role)
        for path in ADMIN_GETS:
            answer = client.get(path)
            assert answer.status_code == 403, (role, path)
        refused = client.post(
            "/admin/settings", data={"key": "a.b", "value": "1", "csrf_token": csrf(client)}
        )
        assert refused.status_code == 403
    assert count(shop, Setting, Setting.key == "a.b") == 0


def test_add_a_member_change_the_role_and_deactivate(web: TestClient, shop: World) -> None:
    token = csrf(web)
    added = web.post("/admin/members", data={
        "email": "New.Person@Example.com", "name": "New Person", "role": "viewer",
        "csrf_token": token,
    })  # fmt: skip
    assert added.status_code == 200
    password = re.search(r'<code class="secret">([^<]+)</code>', added.text)
    assert password is not None
    member_id = shop.member_id("new.person@example.com")
    # the shown password signs in
    client = TestClient(create_app(shop.engine), base_url="https://testserver")
    assert client.post("/sign-in", data={"email": "new.person@example.com",
                       "password": password.group(1)}, follow_redirects=False).status_code == 303  # fmt: skip
    changed = web.post(f"/admin/members/{member_id}", data={"role": "member", "csrf_token": token},
                       follow_redirects=False)  # fmt: skip
    assert changed.status_code == 303
    assert shop.scalar(sa.select(TeamMember.role).where(TeamMember.id == member_id)) == "member"
    off = web.post(f"/admin/members/{member_id}", data={"active": "0", "csrf_token": token},
                   follow_redirects=False)  # fmt: skip
    assert off.status_code == 303
    assert shop.scalar(sa.select(TeamMember.active).where(TeamMember.id == member_id)) is False
    # audited, as the admin who did it
    admin_id = shop.member_id("anna@keepwell.example")
    entries = count(shop, AuditEntry, AuditEntry.table_name == "team_members",
                    AuditEntry.record_id == str(member_id), AuditEntry.member_id == admin_id)  # fmt: skip
    assert entries == 3


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"email": "not-an-address"}, "email"),
        ({"email": ""}, "email"),
        ({"email": "anna@keepwell.example"}, "email"),  # exists already
        ({"email": "x@example.com", "role": "owner"}, "role"),
    ],
)
def test_refused_members_write_nothing(
    web: TestClient, shop: World, data: dict[str, str], field: str
) -> None:
    before = count(shop, TeamMember)
    answer = web.post("/admin/members", data={**data, "csrf_token": csrf(web)})
    assert answer.status_code == 422
    assert f"{field}:" in answer.text
    assert count(shop, TeamMember) == before


def test_the_last_admin_stays_an_admin(web: TestClient, shop: World) -> None:
    with db.transaction(shop.engine) as session:
        admins = list(session.scalars(sa.select(TeamMember).where(TeamMember.role == "admin")))
        for extra in admins[1:]:
            extra.role = "member"
    only = admins[0].id
    answer = web.post(f"/admin/members/{only}", data={"role": "viewer", "csrf_token": csrf(web)})
    assert answer.status_code == 422 and "last active admin" in answer.text
    assert shop.scalar(sa.select(TeamMember.role).where(TeamMember.id == only)) == "admin"


def test_forms_need_the_csrf_token(web: TestClient, shop: World) -> None:
    before = count(shop, TeamMember)
    for path, data in [
        ("/admin/members", {"email": "z@example.com"}),
        ("/admin/tokens", {"member": "1"}),
        ("/admin/settings", {"key": "a.b", "value": "1"}),
        ("/admin/cadences", {"segment": "csrf-test", "days": "30"}),
    ]:
        assert web.post(path, data=data).status_code == 403, path
    assert count(shop, TeamMember) == before
    assert count(shop, Setting) == 0 and count(shop, Cadence, Cadence.segment == "csrf-test") == 0


def test_tokens_are_made_shown_once_and_revoked(web: TestClient, shop: World) -> None:
    me = shop.member_id("anna@keepwell.example")
    made = web.post("/admin/tokens", data={"member": str(me), "name": "zapier",
                                           "csrf_token": csrf(web)})  # fmt: skip
    assert made.status_code == 200
    secret = re.search(r'id="t-secret" readonly value="(kw_[^"]+)"', made.text)
    assert secret is not None
    assert made.headers["cache-control"] == "no-store"
    # the secret works on the API, and is never shown again
    api = TestClient(create_app(shop.engine), base_url="https://testserver")
    headers = {"Authorization": f"Bearer {secret.group(1)}"}
    assert api.get("/api/customers?limit=1", headers=headers).status_code == 200
    assert secret.group(1) not in web.get("/admin/tokens").text
    token_id = shop.scalar(sa.select(ApiToken.id).where(ApiToken.name == "zapier"))
    revoked = web.post(f"/admin/tokens/{token_id}/revoke", data={"csrf_token": csrf(web)},
                       follow_redirects=False)  # fmt: skip
    assert revoked.status_code == 303
    assert api.get("/api/customers?limit=1", headers=headers).status_code == 401
    assert "zapier" not in web.get("/admin/tokens").text
    assert "revoked" in web.get("/admin/tokens?revoked=true").text
    # refused: no member, an unknown one
    for member in ("", "999999", "nobody@example.com"):
        answer = web.post("/admin/tokens", data={"member": member, "csrf_token": csrf(web)})
        assert answer.status_code == 422 and "member:" in answer.text
    assert (
        web.post("/admin/tokens/999999/revoke", data={"csrf_token": csrf(web)}).status_code == 404
    )


def test_cadences_are_set_through_the_service(web: TestClient, shop: World) -> None:
    answer = web.post("/admin/cadences", data={"segment": " VIP ", "days": "21",
                                               "csrf_token": csrf(web)})  # fmt: skip
    assert answer.status_code == 200 and "set to 21 days" in answer.text
    assert shop.scalar(sa.select(Cadence.days).where(Cadence.segment == "vip")) == 21
    for days in ("0", "3661", "-5", "ten", ""):
        refused = web.post("/admin/cadences", data={"segment": "vip", "days": days,
                                                    "csrf_token": csrf(web)})  # fmt: skip
        assert refused.status_code == 422 and "days:" in refused.text
    assert shop.scalar(sa.select(Cadence.days).where(Cadence.segment == "vip")) == 21
    assert "<td>vip</td>" in web.get("/admin/cadences").text


def test_settings_take_json_values(web: TestClient, shop: World) -> None:
    ok = web.post("/admin/settings", data={"key": "outreach.daily_cap", "value": "25",
                                           "csrf_token": csrf(web)}, follow_redirects=False)  # fmt: skip
    assert ok.status_code == 303
    assert shop.scalar(sa.select(Setting.value).where(Setting.key == "outreach.daily_cap")) == 25
    assert "outreach.daily_cap" in web.get("/admin/settings").text
    for key, value, field in [
        ("outreach.daily_cap", "not json", "value"),
        ("Bad Key!", "1", "key"),
        ("", "1", "key"),
        ("a.b", "NaN", "value"),
    ]:
        answer = web.post("/admin/settings", data={"key": key, "value": value,
                                                   "csrf_token": csrf(web)})  # fmt: skip
        assert answer.status_code == 422 and f"{field}:" in answer.text, (key, value)
    assert shop.scalar(sa.select(Setting.value).where(Setting.key == "outreach.daily_cap")) == 25


def test_the_audit_trail_pages_newest_first(web: TestClient, shop: World) -> None:
    from keepwell.settings import service as settings

    with db.transaction(shop.engine) as session:  # enough changes for two pages
        for n in range(60):
            settings.put(session, f"test.n{n}", n)
    web.post("/admin/settings", data={"key": "demo.flag", "value": "true", "csrf_token": csrf(web)})
    page = web.get("/admin/audit")
    assert page.status_code == 200
    assert "insert settings" in page.text and "demo.flag" in page.text
    total = count(shop, AuditEntry)
    assert total > 50
    older = re.search(r'rel="next" href="([^"]+)"', page.text)
    assert older is not None
    second = web.get(older.group(1).replace("&amp;", "&"))
    assert second.status_code == 200 and "Newest" in second.text
    filtered = web.get("/admin/audit?table=settings")
    assert "demo.flag" in filtered.text and "insert customers" not in filtered.text
    for query in ("table=nope", "member=x", "before=-1", "customer=1e3"):
        assert web.get(f"/admin/audit?{query}").status_code == 422, query
