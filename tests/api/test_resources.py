"""Each resource over HTTP: shapes, filters, actions, errors that name the field, nothing
written on a refused request, 409 on a stale version."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from keepwell import clock, db
from keepwell.orders.models import Order
from keepwell.touches.models import Touch
from tests.api.conftest import Desk

NOW = "2026-11-25T09:30:00+00:00"


def count(desk: Desk, model: Any) -> int:
    with db.transaction(desk.engine) as session:
        return session.scalar(sa.select(sa.func.count()).select_from(model)) or 0


def new_customer(desk: Desk, **fields: Any) -> dict[str, Any]:
    response = desk.client.post(
        "/api/customers", json={"name": "Bea Rossi", **fields}, headers=desk.auth()
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_customers_create_get_update_list_and_erase(desk: Desk) -> None:
    c, admin, member = desk.client, desk.auth("admin"), desk.auth()
    bea = new_customer(
        desk, email="Bea@Example.com", external_id="C1", segment="VIP", owner_id=desk.members["member"],
        tags=["Espresso", "espresso"], birthday="1980-11-30",
    )  # fmt: skip
    assert (bea["email"], bea["segment"], bea["tags"], bea["version"]) == (
        "bea@example.com", "vip", ["espresso"], 1,
    )  # fmt: skip
    assert bea["next_check_in_at"] is not None  # derived at once
    got = c.get(f"/api/customers/{bea['id']}", headers=member)
    assert got.headers["ETag"] == '"v1"' and got.json()["name"] == "Bea Rossi"
    changed = c.patch(
        f"/api/customers/{bea['id']}", json={"phone": "+39 055 123", "version": 1}, headers=member
    )
    assert changed.status_code == 200 and changed.json()["version"] == 2
    assert changed.headers["ETag"] == '"v2"'
    for _ in range(3):
        new_customer(desk, name="Carl")
    page = c.get("/api/customers", params={"limit": 2}, headers=member).json()
    assert len(page["items"]) == 2 and page["next_after"] == page["items"][-1]["id"]
    rest = c.get("/api/customers", params={"after": page["next_after"]}, headers=member).json()
    assert len(rest["items"]) == 2 and rest["next_after"] is None
    for q in ("C1", "bea@example.com", "ross"):
        found = c.get("/api/customers", params={"q": q}, headers=member).json()["items"]
        assert [x["id"] for x in found] == [bea["id"]], q
    owned = c.get("/api/customers", params={"owner": desk.members["member"]}, headers=member)
    assert [x["id"] for x in owned.json()["items"]] == [bea["id"]]
    assert c.delete(f"/api/customers/{bea['id']}", headers=admin).status_code == 204
    assert c.get(f"/api/customers/{bea['id']}", headers=member).status_code == 404


def test_a_stale_version_is_refused_with_409_and_changes_nothing(desk: Desk) -> None:
    c, member = desk.client, desk.auth()
    bea = new_customer(desk)
    url = f"/api/customers/{bea['id']}"
    assert c.patch(url, json={"company": "Rossi srl"}, headers=member).status_code == 200
    for stale in ({"json": {"company": "Lost"}, "headers": {**member, "If-Match": '"v1"'}},
                  {"json": {"company": "Lost", "version": 1}, "headers": member}):  # fmt: skip
        response = c.patch(url, **stale)
        assert response.status_code == 409
        assert response.json()["detail"][0]["field"] == "version"
    assert c.get(url, headers=member).json()["company"] == "Rossi srl"


def test_bad_input_names_the_field_and_writes_nothing(desk: Desk) -> None:
    c, member = desk.client, desk.auth()
    cases = [
        ("/api/customers", {"name": "X", "email": "not-an-email"}, "email"),
        ("/api/customers", {"name": "X", "colour": "red"}, "colour"),
        ("/api/customers", {"name": "X", "birthday": "2999-01-01"}, "birthday"),
        ("/api/customers", {"name": "X", "owner_id": 999}, "owner_id"),
        ("/api/interactions", {"customer_id": 999}, "customer_id"),
        ("/api/interactions", {"customer_id": 1, "channel": "fax"}, "channel"),
        ("/api/promises", {"customer_id": 1, "what": "x", "due_at": "2026-12-01T10:00"}, "due_at"),
    ]
    for path, body, field in cases:
        response = c.post(path, json=body, headers=member)
        assert response.status_code == 422, (path, body, response.text)
        assert field in [d["field"] for d in response.json()["detail"]], (body, response.text)
    assert count(desk, Touch) == 0
    assert c.get("/api/customers", headers=member).json()["items"] == []
    bad = c.post(
        "/api/customers",
        content=b"{not json",
        headers={**member, "Content-Type": "application/json"},
    )
    assert bad.status_code == 422


def test_orders_one_and_in_bulk_all_or_nothing(desk: Desk) -> None:
    c, member = desk.client, desk.auth()
    bea = new_customer(desk)
    one = {"customer_id": bea["id"], "ordered_at": "2026-10-01T10:00:00Z", "amount_minor": 4500,
           "currency": "eur", "product": "Grinder", "external_id": "S-1"}  # fmt: skip
    with clock.frozen(NOW):
        made = c.post("/api/orders", json=one, headers=member)
        assert made.status_code == 201 and made.json()["currency"] == "EUR"
        again = c.post("/api/orders", json=one, headers=member)
        assert again.status_code == 422 and again.json()["detail"][0]["field"] == "external_id"
        batch = [
            {**one, "external_id": "S-2", "ordered_at": "2026-10-05T10:00:00Z"},
            {**one, "external_id": "S-3", "amount_minor": -1},
        ]
        refused = c.post("/api/orders/bulk", json={"orders": batch}, headers=member)
        assert refused.status_code == 422
        assert refused.json()["detail"][0]["field"] == "orders.1.amount_minor"
        assert count(desk, Order) == 1  # nothing of the refused batch
        batch[1]["amount_minor"] = 1500
        done = c.post("/api/orders/bulk", json={"orders": batch}, headers=member)
        assert done.status_code == 201 and done.json()["created"] == 2
        listed = c.get(f"/api/customers/{bea['id']}/orders", headers=member).json()
    assert [o["external_id"] for o in listed] == ["S-2", "S-3", "S-1"]  # newest first
    customer = c.get(f"/api/customers/{bea['id']}", headers=member).json()
    assert (customer["order_count"], customer["revenue_minor"]) == (3, 4500 + 4500 + 1500)
    assert customer["last_order_at"].startswith("2026-10-05")


def test_interactions_move_the_check_in_and_are_listed(desk: Desk) -> None:
    c, member = desk.client, desk.auth()
    bea = new_customer(desk)
    logged = c.post(
        "/api/interactions",
        json={"customer_id": bea["id"], "channel": "email", "summary": "Sent the quote",
              "direction": "outbound", "sentiment": "positive"},
        headers=member,
    )  # fmt: skip
    assert logged.status_code == 201
    assert logged.json()["member_id"] == desk.members["member"]  # who logged it
    listed = c.get("/api/interactions", params={"customer": bea["id"]}, headers=member).json()
    assert [t["summary"] for t in listed] == ["Sent the quote"]
    after = c.get(f"/api/customers/{bea['id']}", headers=member).json()
    assert after["last_contact_at"] == logged.json()["happened_at"]


def test_promises_update_keep_and_the_rules_of_their_life(desk: Desk) -> None:
    c, member = desk.client, desk.auth()
    bea = new_customer(desk)
    with clock.frozen(NOW):
        made = c.post(
            "/api/promises",
            json={"customer_id": bea["id"], "what": "Send the invoice copy",
                  "due_at": "2026-11-27T17:00:00Z"},
            headers=member,
        )  # fmt: skip
        assert made.status_code == 201 and made.headers["ETag"] == '"v1"'
        pid = made.json()["id"]
        moved = c.post(
            f"/api/promises/{pid}/updates",
            json={"note": "Bank is slow", "new_due_at": "2026-12-04T17:00:00Z"},
            headers=member,
        )
        assert moved.status_code == 201 and moved.json()["slips"] == 1
        stale = c.post(f"/api/promises/{pid}/keep", headers={**member, "If-Match": '"v1"'})
        assert stale.status_code == 409
        kept = c.post(f"/api/promises/{pid}/keep", json={"outcome": "Sent"}, headers=member)
        assert kept.status_code == 200 and kept.json()["status"] == "kept"
        twice = c.post(f"/api/promises/{pid}/break", json={"outcome": "x"}, headers=member)
        assert twice.status_code == 422 and twice.json()["detail"][0]["field"] == "status"
        detail = c.get(f"/api/promises/{pid}", headers=member).json()
        overdue = c.get("/api/promises", params={"overdue": True}, headers=member).json()
    assert [u["note"] for u in detail["updates"]] == ["Bank is slow"]
    assert overdue == []


def test_cases_respond_resolve_confirm_and_reopen(desk: Desk) -> None:
    c, member = desk.client, desk.auth()
    bea = new_customer(desk, owner_id=desk.members["member"])
    opened = c.post(
        "/api/cases", json={"customer_id": bea["id"], "title": "Grinder arrived broken"},
        headers=member,
    )  # fmt: skip
    assert opened.status_code == 201
    cid = opened.json()["case"]["id"]
    waiting = c.get("/api/cases", params={"waiting": True}, headers=member).json()
    assert [x["id"] for x in waiting] == [cid]
    answered = c.post(
        f"/api/cases/{cid}/responses", json={"summary": "Sending a new one"}, headers=member
    )
    assert answered.status_code == 201 and answered.json()["case"]["first_response_at"]
    resolved = c.post(
        f"/api/cases/{cid}/resolve",
        json={"resolution": "Replaced", "root_cause_category": "delivery"},
        headers=member,
    )
    assert resolved.json()["case"]["status"] == "resolved"
    assert [t["kind"] for t in resolved.json()["tasks"]] == ["confirm_case"]
    reopened = c.post(f"/api/cases/{cid}/reopen", json={"reason": "Broken again"}, headers=member)
    assert reopened.json()["case"]["reopened_count"] == 1
    assert reopened.json()["tasks"][0]["status"] == "cancelled"
    c.post(
        f"/api/cases/{cid}/resolve",
        json={"resolution": "Refund", "root_cause_category": "product"},
        headers=member,
    )
    confirmed = c.post(f"/api/cases/{cid}/confirm", json={"note": "All good"}, headers=member)
    assert confirmed.json()["case"]["status"] == "confirmed"
    assert [i["summary"] for i in confirmed.json()["interactions"]][-1] == "All good"


def test_tasks_add_once_snooze_reassign_complete_cancel(desk: Desk) -> None:
    c, member = desk.client, desk.auth()
    bea = new_customer(desk, owner_id=desk.members["member"])
    body = {"customer_id": bea["id"], "reason": "Ask how the grinder works out"}
    first = c.post("/api/tasks", json=body, headers=member)
    second = c.post("/api/tasks", json=body, headers=member)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]
    tid = first.json()["id"]
    with clock.frozen(NOW):
        snoozed = c.post(f"/api/tasks/{tid}/snooze", json={"until": "2026-12-01"}, headers=member)
        assert snoozed.json()["snoozed_until"] == "2026-12-01"
        assert c.get("/api/tasks", headers=member).json() == []  # hidden until then
        hidden = c.get("/api/tasks", params={"snoozed": True}, headers=member).json()
        assert [t["id"] for t in hidden] == [tid]
    moved = c.post(
        f"/api/tasks/{tid}/reassign", json={"member_id": desk.members["admin"]}, headers=member
    )
    assert moved.json()["member"] == "admin@shop.example"
    done = c.post(
        f"/api/tasks/{tid}/complete",
        json={"outcome": "Loves it", "channel": "call"},
        headers=member,
    )
    assert done.json()["status"] == "done"
    listed = c.get("/api/interactions", params={"customer": bea["id"]}, headers=member).json()
    assert [t["summary"] for t in listed] == ["Loves it"]
    other = c.post("/api/tasks", json={**body, "reason": "Send the care guide"}, headers=member)
    cancelled = c.post(
        f"/api/tasks/{other.json()['id']}/cancel", json={"reason": "Not needed"}, headers=member
    )
    assert (cancelled.json()["status"], cancelled.json()["outcome"]) == ("cancelled", "Not needed")
    gone = c.post(f"/api/tasks/{tid}/cancel", headers=member)
    assert gone.status_code == 422


def test_special_dates_and_what_comes_up(desk: Desk) -> None:
    c, member = desk.client, desk.auth()
    bea = new_customer(desk, owner_id=desk.members["member"], birthday="1980-11-30")
    with clock.frozen(NOW):
        added = c.post(
            f"/api/customers/{bea['id']}/special-dates",
            json={"kind": "renewal", "on_date": "2024-12-01", "label": "Contract"},
            headers=member,
        )
        assert added.status_code == 201 and added.json()["gesture"] == "a call before the renewal"
        coming = c.get("/api/special-dates/upcoming", params={"days": 14}, headers=member).json()
        assert [(u["kind"], u["on"]) for u in coming] == [
            ("birthday", "2026-11-30"), ("renewal", "2026-12-01"),
        ]  # fmt: skip
        assert (
            c.delete(f"/api/special-dates/{added.json()['id']}", headers=member).status_code == 204
        )
        listed = c.get(f"/api/customers/{bea['id']}/special-dates", headers=member).json()
    assert listed == []


def test_the_agenda_of_a_member(desk: Desk) -> None:
    c, member = desk.client, desk.auth()
    bea = new_customer(desk, owner_id=desk.members["member"])
    c.post(
        "/api/tasks",
        json={"customer_id": bea["id"], "reason": "Call back", "due_on": "2026-11-20"},
        headers=member,
    )
    with clock.frozen(NOW):
        mine = c.get("/api/agenda", headers=member).json()
        by_email = c.get(
            "/api/agenda",
            params={"owner": "member@shop.example", "date": "2026-11-25"},
            headers=desk.auth("viewer"),
        ).json()
        unknown = c.get("/api/agenda", params={"owner": "nobody@shop.example"}, headers=member)
    assert mine["member_id"] == desk.members["member"] and mine["counts"]["task"] == 1
    assert by_email["items"] == mine["items"]
    assert unknown.status_code == 422 and unknown.json()["detail"][0]["field"] == "owner"


def test_members_are_managed_by_admins(desk: Desk) -> None:
    c, admin = desk.client, desk.auth("admin")
    made = c.post(
        "/api/members", json={"email": "dan@shop.example", "role": "viewer"}, headers=admin
    )
    assert made.status_code == 201
    assert len(made.json()["password"]) >= 20  # generated, shown once
    mid = made.json()["member"]["id"]
    changed = c.patch(f"/api/members/{mid}", json={"role": "member", "name": "Dan"}, headers=admin)
    assert (changed.json()["role"], changed.json()["name"]) == ("member", "Dan")
    last_admin = c.patch(
        f"/api/members/{desk.members['admin']}", json={"role": "member"}, headers=admin
    )
    assert last_admin.status_code == 422
    emails = [m["email"] for m in c.get("/api/members", headers=desk.auth("viewer")).json()]
    assert "dan@shop.example" in emails and "password" not in str(
        c.get("/api/members", headers=admin).json()
    )


def test_odd_references_are_bad_input_not_errors(sqlite_desk: Desk) -> None:
    c, member = sqlite_desk.client, sqlite_desk.auth()
    for owner in ("²", "99999999999999999999999", "٣", "nobody"):
        response = c.get("/api/agenda", params={"owner": owner}, headers=member)
        assert response.status_code == 422, (owner, response.text)
        assert response.json()["detail"][0]["field"] == "owner"
    too_big = c.get("/api/customers/99999999999999999999", headers=member)
    assert too_big.status_code == 422 and too_big.json()["detail"][0]["field"] == "customer_id"
    nul = c.post("/api/customers", json={"name": "Bad\x00name"}, headers=member)
    assert nul.status_code == 422 and nul.json()["detail"][0]["field"] == "name"
