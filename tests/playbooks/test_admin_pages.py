"""/admin/playbooks without a browser, on SQLite and PostgreSQL: admins only; every
playbook with what it did lately; switching, editing (the service's checks: a refusal
writes nothing), audited as the admin; CSRF; a preview that lists what a run would make
and writes nothing; and a run now that makes exactly that, once."""

from __future__ import annotations

import json
import re
from collections import Counter
from html import unescape
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from keepwell import clock, db
from keepwell.accounts.models import AuditEntry
from keepwell.orders.models import Order
from keepwell.outreach.models import Message
from keepwell.playbooks.models import JobRun, Playbook, PlaybookRun
from keepwell.playbooks.service import builtin_definitions, create_playbook
from keepwell.tasks.models import Task
from keepwell.web.app import create_app
from keepwell.web.pages import day
from tests.web.conftest import ADMIN, World
from tests.web.test_admin import count, csrf, signed_in


def playbook(world: World, name: str) -> Playbook:
    with db.transaction(world.engine) as session:
        found = session.scalar(sa.select(Playbook).where(Playbook.name == name))
        assert found is not None
        session.expunge(found)
        return found


def form_of(web: TestClient, playbook_id: int) -> dict[str, str]:
    """The edit form as the page fills it in (what a browser would post back)."""
    page = web.get(f"/admin/playbooks/{playbook_id}")
    assert page.status_code == 200
    html = page.text

    def textarea(name: str) -> str:
        found = re.search(rf'<textarea id="[^"]+" name="{name}"[^>]*>(.*?)</textarea>', html, re.S)
        assert found is not None, name
        return unescape(found.group(1))

    def selected(name: str) -> str:
        block = re.search(rf'<select id="[^"]+" name="{name}">(.*?)</select>', html, re.S)
        assert block is not None
        found = re.search(r"<option selected>([^<]+)</option>", block.group(1))
        assert found is not None
        return found.group(1)

    version = re.search(r'name="version" value="(\d+)"', html)
    assert version is not None
    return {
        "description": textarea("description"),
        "trigger": selected("trigger"),
        "trigger_params": textarea("trigger_params"),
        "condition": textarea("condition"),
        "action": selected("action"),
        "action_params": textarea("action_params"),
        "version": version.group(1),
        "csrf_token": csrf(web),
    }


def audit_count(world: World) -> int:
    return count(world, AuditEntry, AuditEntry.table_name == "playbooks")


def test_playbook_pages_answer_admins_only(shop: World) -> None:
    target = playbook(shop, "birthday-card")
    stranger = TestClient(create_app(shop.engine), base_url="https://testserver")
    away = stranger.get("/admin/playbooks", follow_redirects=False)
    assert away.status_code == 303 and away.headers["location"] == "/sign-in?next=/admin/playbooks"
    assert "Sign in" in stranger.get("/admin/playbooks").text
    for role in ("member", "viewer"):
        client = signed_in(shop, role)
        assert client.get("/admin/playbooks").status_code == 403, role
        assert client.get(f"/admin/playbooks/{target.id}").status_code == 403, role
        for action in ("enabled", "preview", "run"):
            refused = client.post(
                f"/admin/playbooks/{target.id}/{action}",
                data={"enabled": "0", "csrf_token": csrf(client)},
            )
            assert refused.status_code == 403, (role, action)
        edit = client.post(
            f"/admin/playbooks/{target.id}",
            data={"description": "Taken over.", "version": str(target.version),
                  "csrf_token": csrf(client)},
        )  # fmt: skip
        assert edit.status_code == 403, role
    after = playbook(shop, "birthday-card")
    assert after.enabled is True and after.description == target.description
    assert audit_count(shop) == 0


def test_the_list_shows_every_playbook_and_what_it_did(web: TestClient, shop: World) -> None:
    page = web.get("/admin/playbooks")
    assert page.status_code == 200
    for definition in builtin_definitions():
        assert f'id="playbook-{definition["name"]}"' in page.text
    assert 'href="/admin/playbooks"' in web.get("/admin").text
    # the demo ran the playbooks today: the ledger says so, with what each made
    with db.transaction(shop.engine) as session:
        made = session.execute(
            sa.select(Playbook.name, sa.func.sum(PlaybookRun.tasks))
            .join(PlaybookRun, PlaybookRun.playbook_id == Playbook.id)
            .group_by(Playbook.name)
        ).all()
    assert made and sum(int(n) for _, n in made) > 0
    for name, tasks in made:
        row = re.search(rf'<tr id="playbook-{name}">(.*?)</tr>', page.text, re.S)
        assert row is not None, name
        assert f"{int(tasks):,} tasks" in row.group(1), name
        assert day(clock.today()) in row.group(1) and "<td>never" not in row.group(1), name


def test_switch_off_and_on_is_audited(web: TestClient, shop: World) -> None:
    target = playbook(shop, "birthday-card")
    admin_id = shop.member_id(ADMIN)
    # no CSRF token: refused, nothing written
    refused = web.post(f"/admin/playbooks/{target.id}/enabled", data={"enabled": "0"})
    assert refused.status_code == 403
    assert playbook(shop, "birthday-card").enabled is True and audit_count(shop) == 0
    off = web.post(
        f"/admin/playbooks/{target.id}/enabled",
        data={"enabled": "0", "next": "/admin/playbooks", "csrf_token": csrf(web)},
        follow_redirects=False,
    )
    assert off.status_code == 303 and off.headers["location"] == "/admin/playbooks"
    assert playbook(shop, "birthday-card").enabled is False
    row = re.search(
        r'<tr id="playbook-birthday-card">(.*?)</tr>', web.get("/admin/playbooks").text, re.S
    )
    assert row is not None and '<span class="badge danger">off</span>' in row.group(1)
    assert "Switch on" in row.group(1)
    on = web.post(
        f"/admin/playbooks/{target.id}/enabled",
        data={"enabled": "1", "csrf_token": csrf(web)},
        follow_redirects=False,
    )
    assert on.status_code == 303
    assert playbook(shop, "birthday-card").enabled is True
    with db.transaction(shop.engine) as session:
        entries = list(
            session.scalars(
                sa.select(AuditEntry)
                .where(AuditEntry.table_name == "playbooks")
                .order_by(AuditEntry.id)
            )
        )
    assert [(e.action, e.record_id, e.member_id, e.after) for e in entries] == [
        ("update", str(target.id), admin_id, {"enabled": False}),
        ("update", str(target.id), admin_id, {"enabled": True}),
    ]
    assert playbook(shop, "birthday-card").edited_at is None  # a switch is not an edit
    bad = web.post(
        f"/admin/playbooks/{target.id}/enabled", data={"enabled": "maybe", "csrf_token": csrf(web)}
    )
    assert bad.status_code == 422 and "enabled: give 0 or 1" in bad.text
    assert web.post("/admin/playbooks/999999/enabled",
                    data={"enabled": "0", "csrf_token": csrf(web)}).status_code == 404  # fmt: skip


def test_edit_changes_the_definition_through_the_service(web: TestClient, shop: World) -> None:
    target = playbook(shop, "check-in-30-days")
    form = form_of(web, target.id)
    assert json.loads(form["trigger_params"]) == {"days": 30}
    # nothing changed: nothing written, and the playbook is not marked edited
    same = web.post(f"/admin/playbooks/{target.id}", data=form)
    assert same.status_code == 200 and "No change." in same.text
    assert audit_count(shop) == 0 and playbook(shop, "check-in-30-days").edited_at is None
    # no CSRF token: refused
    without = {k: v for k, v in form.items() if k != "csrf_token"}
    assert (
        web.post(
            f"/admin/playbooks/{target.id}", data={**without, "trigger_params": '{"days": 9}'}
        ).status_code
        == 403
    )
    assert playbook(shop, "check-in-30-days").trigger_params == {"days": 30}
    saved = web.post(
        f"/admin/playbooks/{target.id}",
        data={**form, "trigger_params": '{"days": 28}', "description": "Four weeks on."},
    )
    assert saved.status_code == 200 and "Saved" in saved.text
    after = playbook(shop, "check-in-30-days")
    assert after.trigger_params == {"days": 28} and after.description == "Four weeks on."
    assert after.edited_at is not None and after.action_params == target.action_params
    with db.transaction(shop.engine) as session:
        entry = session.scalars(
            sa.select(AuditEntry).where(AuditEntry.table_name == "playbooks")
        ).one()
    assert entry.member_id == shop.member_id(ADMIN) and entry.record_id == str(target.id)
    assert entry.before is not None and entry.before["trigger_params"] == {"days": 30}
    assert entry.after is not None and entry.after["trigger_params"] == {"days": 28}
    assert "days 28" in web.get("/admin/playbooks").text
    # a form made before that change is refused: someone changed it meanwhile
    stale = web.post(
        f"/admin/playbooks/{target.id}", data={**form, "trigger_params": '{"days": 7}'}
    )
    assert stale.status_code == 422 and "version:" in stale.text
    assert playbook(shop, "check-in-30-days").trigger_params == {"days": 28}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"trigger_params": '{"days": -3}'},
            "trigger_params.days: give a whole number from 0 to 3660",
        ),
        ({"trigger_params": "{days: 3}"}, "trigger_params: not JSON"),
        ({"trigger_params": "[3]"}, "trigger_params: give a JSON map"),
        (
            {"trigger_params": '{"weeks": 3}'},
            "trigger_params: days_after_order takes days, not weeks",
        ),
        ({"trigger": "sometimes"}, "trigger: use one of"),
        (
            {"condition": '{"consent": "maybe"}'},
            "condition.consent: use one of any, contactable, marketing",
        ),
        ({"action": "email"}, "action_params: unknown context, due_in_days, kind, reason"),
        (
            {"action": "email", "action_params": '{"template": "nope"}'},
            "action_params.template: no e-mail template 'nope'",
        ),
        (
            {"action_params": '{"kind": "x", "reason": ""}'},
            "action_params.reason: say why the task is there",
        ),
        ({"description": "x" * 2001}, "description: give a text of at most 2,000 characters"),
    ],
)
def test_a_refused_edit_shows_why_and_writes_nothing(
    web: TestClient, shop: World, change: dict[str, str], message: str
) -> None:
    target = playbook(shop, "check-in-30-days")
    answer = web.post(f"/admin/playbooks/{target.id}", data={**form_of(web, target.id), **change})
    assert answer.status_code == 422
    assert message in unescape(answer.text), answer.text[:2000]
    # the form comes back with what was typed
    typed = next(iter(change.values()))
    assert typed[:50] in unescape(answer.text)
    after = playbook(shop, "check-in-30-days")
    assert (after.trigger, after.trigger_params, after.condition, after.action) == (
        target.trigger, target.trigger_params, target.condition, target.action,
    )  # fmt: skip
    assert after.action_params == target.action_params and after.description == target.description
    assert after.edited_at is None and after.version == target.version
    assert audit_count(shop) == 0


def totals(world: World) -> dict[str, int]:
    return {
        "tasks": count(world, Task),
        "messages": count(world, Message),
        "ledger": count(world, PlaybookRun),
        "jobs": count(world, JobRun),
        "audit": count(world, AuditEntry),
    }


def add_playbook(world: World, name: str, action: str, enabled: bool = True) -> int:
    """A playbook that fires today for many customers (the demo's run made none of it):
    a task for every scored customer, or a check-in e-mail after the busiest recent
    order day (not one the built-in check-ins look at)."""
    with db.transaction(world.engine) as session:
        if action == "task":
            trigger, trigger_params = "score_threshold", {"p_alive_below": 1.0, "every_days": 1}
            params: dict[str, Any] = {
                "kind": "preview_check", "due_in_days": 2, "reason": "Preview check with {name}."
            }  # fmt: skip
        else:
            today = clock.today()
            days = Counter(
                (today - moment.date()).days
                for moment in session.scalars(sa.select(Order.ordered_at))
                if 1 <= (today - moment.date()).days <= 90
            )
            busiest = max((n, d) for d, n in days.items() if d not in (14, 30))[1]
            trigger, trigger_params = "days_after_order", {"days": busiest}
            params = {"template": "check_in", "category": "service"}
        made = create_playbook(
            session, name=name, trigger=trigger, action=action, trigger_params=trigger_params,
            action_params=params, enabled=enabled,
        )  # fmt: skip
        return made.id


def test_preview_lists_what_a_run_would_make_and_writes_nothing(
    web: TestClient, shop: World
) -> None:
    playbook_id = add_playbook(shop, "everyone-check", "task")
    before = totals(shop)
    # no CSRF token: refused
    assert web.post(f"/admin/playbooks/{playbook_id}/preview").status_code == 403
    answer = web.post(f"/admin/playbooks/{playbook_id}/preview", data={"csrf_token": csrf(web)})
    assert answer.status_code == 200
    assert totals(shop) == before  # no task, message, ledger row, job run or audit entry
    found = re.search(r"would create <strong>([\d,]+) tasks</strong>", answer.text)
    assert found is not None
    planned = int(found.group(1).replace(",", ""))
    assert planned > 10
    rows = re.findall(
        r'<a class="who" href="/customers/(\d+)">[^<]+</a> <span class="badge">preview_check</span>',
        answer.text,
    )
    assert len(rows) == min(planned, 100)
    assert "Preview check with " in answer.text and "Nothing was written." in answer.text
    # run now makes exactly what the preview listed, once
    assert web.post(f"/admin/playbooks/{playbook_id}/run").status_code == 403
    assert totals(shop) == before
    ran = web.post(f"/admin/playbooks/{playbook_id}/run", data={"csrf_token": csrf(web)})
    assert ran.status_code == 200 and f"created {planned} tasks" in ran.text
    made = count(shop, Task, Task.source == "playbook:everyone-check")
    assert made == planned
    assert {int(r) for r in rows} <= set(_customers_with(shop, "preview_check"))
    again = web.post(f"/admin/playbooks/{playbook_id}/run", data={"csrf_token": csrf(web)})
    assert again.status_code == 200 and "created 0 tasks" in again.text
    assert count(shop, Task, Task.source == "playbook:everyone-check") == planned
    # the run is on the page: its ledger and the list's last-run column
    page = web.get(f"/admin/playbooks/{playbook_id}")
    assert f"{planned:,} tasks" in page.text and "It has not run yet." not in page.text


def _customers_with(world: World, kind: str) -> list[int]:
    with db.transaction(world.engine) as session:
        return list(session.scalars(sa.select(Task.customer_id).where(Task.kind == kind)))


def test_preview_of_a_switched_off_email_playbook(web: TestClient, shop: World) -> None:
    playbook_id = add_playbook(shop, "everyone-mail", "email", enabled=False)
    before = totals(shop)
    answer = web.post(f"/admin/playbooks/{playbook_id}/preview", data={"csrf_token": csrf(web)})
    assert answer.status_code == 200
    assert "It is switched off, so a run would do nothing" in answer.text
    section = answer.text[answer.text.index("Preview: a run") :][:3000]
    assert "E-mails it would queue" in answer.text, section
    found = re.search(r"queue <strong>([\d,]+) e-mails</strong>", answer.text)
    assert found is not None and int(found.group(1).replace(",", "")) > 0
    assert totals(shop) == before
    with db.transaction(shop.engine) as session:
        assert session.get(Playbook, playbook_id).enabled is False  # type: ignore[union-attr]
    # switched off, it is not run
    refused = web.post(f"/admin/playbooks/{playbook_id}/run", data={"csrf_token": csrf(web)})
    assert refused.status_code == 422 and "switch it on first" in refused.text
    assert totals(shop) == before
