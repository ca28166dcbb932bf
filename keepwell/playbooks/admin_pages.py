"""Playbooks (`/admin/playbooks`, admins only): every playbook with its trigger,
condition, action, switch, and what it did lately (from its ledger, not the tasks).

A playbook's own page edits its definition with `service.edit_playbook` (the checks of
`keepwell playbooks edit`), previews what a run through today would create (the dry
run: nothing is written) and runs it now (idempotent, as the hourly run).
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import Form, Request, Response

from keepwell import clock, jsontext
from keepwell.accounts import service as accounts
from keepwell.accounts.admin_pages import AdminPage, admin_page
from keepwell.errors import InvalidInput
from keepwell.outreach.mail import template_names
from keepwell.playbooks import service
from keepwell.playbooks.models import ACTIONS, TRIGGERS, Playbook
from keepwell.web.deps import DbSession, check_version, for_update
from keepwell.web.pages import attempt, done, money, page_router
from keepwell.web.schemas import Id

pages = page_router()

Text = Annotated[str, Form(max_length=10_000)]
Word = Annotated[str, Form(max_length=40)]


def _render(request: Request, template: str, title: str, **context: Any) -> Response:
    return admin_page(request, template, title, **{**SHOWN, **context})


def _since() -> date:
    return clock.today() - timedelta(days=service.RECENT_DAYS - 1)


# --- the list --------------------------------------------------------------------------


@pages.get("/admin/playbooks")
def playbooks_page(request: Request, session: DbSession, actor: AdminPage) -> Response:
    return _render(
        request, "admin_playbooks.html", "Playbooks",
        rows=service.list_playbooks(session), activity=service.activity(session, _since()),
        recent_days=service.RECENT_DAYS,
    )  # fmt: skip


@pages.post("/admin/playbooks/{playbook_id}/enabled")
def switch_playbook(
    playbook_id: Id,
    request: Request,
    session: DbSession,
    actor: AdminPage,
    enabled: Annotated[str, Form(max_length=5)] = "",
    next_path: Annotated[str, Form(alias="next", max_length=2000)] = "",
) -> Response:
    """Switch a playbook on ("1") or off ("0"), as `keepwell playbooks enable/disable`."""
    if enabled not in ("0", "1"):
        raise InvalidInput("enabled", "give 0 or 1")
    playbook = for_update(session, Playbook, playbook_id, "playbook")
    service.set_enabled(session, playbook, enabled == "1")
    return done(request, next_path or "/admin/playbooks")


# --- one playbook ----------------------------------------------------------------------


def _one(request: Request, session: DbSession, playbook: Playbook, **extra: Any) -> Response:
    described = service.describe(playbook)
    form = extra.pop("form", None) or {
        "description": described["description"],
        "trigger": described["trigger"],
        "trigger_params": _json(described["trigger_params"]),
        "condition": _json(described["condition"]),
        "action": described["action"],
        "action_params": _json(described["action_params"]),
        "version": playbook.version,
    }
    members = accounts.list_members(session)
    return _render(
        request, "admin_playbook.html", f"Playbook {playbook.name}",
        playbook=playbook, form=form, activity=service.activity(session, _since()).get(playbook.id),
        ledger=service.ledger(session, playbook), recent_days=service.RECENT_DAYS,
        triggers=TRIGGERS, actions=ACTIONS, params=service.PARAMS, templates=template_names(),
        consents=service.CONSENTS, contexts=service.CONTEXTS,
        emails={m.id: m.email for m in members}, **extra,
    )  # fmt: skip


@pages.get("/admin/playbooks/{playbook_id}")
def playbook_page(
    playbook_id: Id, request: Request, session: DbSession, actor: AdminPage
) -> Response:
    return _one(request, session, service.get_playbook(session, playbook_id))


@pages.post("/admin/playbooks/{playbook_id}")
def edit_playbook(
    playbook_id: Id,
    request: Request,
    session: DbSession,
    actor: AdminPage,
    description: Text = "",
    trigger: Word = "",
    trigger_params: Text = "",
    condition: Text = "",
    action: Word = "",
    action_params: Text = "",
    version: Annotated[int | None, Form()] = None,
) -> Response:
    """Change the definition: the fields that differ from the stored ones go to
    `service.edit_playbook`, checked as a whole; a refusal shows the form again."""
    playbook = for_update(session, Playbook, playbook_id, "playbook")
    form = {
        "description": description, "trigger": trigger, "trigger_params": trigger_params,
        "condition": condition, "action": action, "action_params": action_params,
        "version": version,
    }  # fmt: skip

    def change() -> bool:
        check_version(request, "playbook", playbook.version, None, given=version)
        given = {
            "description": description.strip(),
            "trigger": trigger.strip(),
            "trigger_params": _json_map("trigger_params", trigger_params),
            "condition": _json_map("condition", condition),
            "action": action.strip(),
            "action_params": _json_map("action_params", action_params),
        }
        current = service.describe(playbook)
        changes = {k: v for k, v in given.items() if v != current[k]}
        if "trigger" in changes:  # a new trigger takes the parameters given with it
            changes["trigger_params"] = given["trigger_params"]
        if changes:
            service.edit_playbook(session, playbook, changes)
        return bool(changes)

    changed, error = attempt(session, change)
    if error is not None:
        return _one(request, session, playbook, error=error, form=form)
    notice = "Saved: `keepwell init` now leaves it as you made it." if changed else "No change."
    return _one(request, session, playbook, notice=notice)


@pages.post("/admin/playbooks/{playbook_id}/preview")
def preview_playbook(
    playbook_id: Id, request: Request, session: DbSession, actor: AdminPage
) -> Response:
    """What a run through today would create (the dry run: nothing is written)."""
    playbook = service.get_playbook(session, playbook_id)
    found = service.preview(session, playbook)
    return _one(request, session, playbook, preview=found)


@pages.post("/admin/playbooks/{playbook_id}/run")
def run_playbook(
    playbook_id: Id, request: Request, session: DbSession, actor: AdminPage
) -> Response:
    """Run it now for each day not yet done through today (what exists is not made again)."""
    playbook = for_update(session, Playbook, playbook_id, "playbook")
    report, error = attempt(session, lambda: service.run_now(session, playbook))
    if report is None:
        return _one(request, session, playbook, error=error)
    notice = (
        f"Ran {playbook.name} through {report.through.isoformat()} ({report.days} day"
        f"{'' if report.days == 1 else 's'}): created {report.tasks} tasks, queued "
        f"{report.messages} messages."
    )
    return _one(request, session, playbook, notice=notice, run_errors=report.errors)


# --- reading and showing definitions -----------------------------------------------------


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=1) if value else "{}"


def _json_map(field: str, text: str) -> Any:
    """A JSON map from a form field (empty: {}); anything else names the field."""
    if not text.strip():
        return {}
    value = jsontext.parse(field, text)
    if not isinstance(value, dict):
        raise InvalidInput(field, 'give a JSON map, like {"days": 14}')
    return value


def params_text(params: dict[str, Any] | None) -> str:
    """A trigger's parameters in a few words: "years 1, 2, 3; days ahead 7"."""
    return (
        "; ".join(
            f"{k.replace('_', ' ')} {', '.join(str(v) for v in x) if isinstance(x, list) else x}"
            for k, x in (params or {}).items()
        )
        or "—"
    )


def condition_text(condition: dict[str, Any] | None) -> str:
    """Which customers: "segment vip; revenue at least 500.00" (none: every customer)."""
    condition = condition or {}
    parts = []
    if "segment" in condition:
        parts.append(f"segment {condition['segment']}")
    if "min_revenue_minor" in condition:
        parts.append(f"revenue at least {money(int(condition['min_revenue_minor']))}")
    if condition.get("consent", "any") != "any":
        parts.append(f"consent: {condition['consent']}")
    return "; ".join(parts) or "every customer"


def action_text(playbook: Playbook) -> str:
    """What it does: "task check_in, due in 0 days", "e-mail check_in (service); else …"."""
    params = playbook.action_params or {}
    if playbook.action == "task":
        return f"task {params.get('kind', '')}, due in {params.get('due_in_days', 0)} days"
    text = f"e-mail {params.get('template', '')} ({params.get('category', 'service')})"
    fallback = params.get("fallback")
    return text + (f"; else task {fallback.get('kind', '')}" if fallback else "")


SHOWN = {"params_text": params_text, "condition_text": condition_text, "action_text": action_text}
