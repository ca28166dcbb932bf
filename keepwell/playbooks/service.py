"""Playbooks as data: check, load the shipped ones, list, show, edit, switch on and off;
what each did lately (its ledger), and a preview of what a run would do.

A playbook is a trigger (keepwell.playbooks.triggers), a condition on the customer and
an action (a task for a person, or an e-mail through the outbox). The shipped playbooks
are in builtin.toml; `install_builtins` (run by `keepwell init`) adds new ones and brings
unedited ones up to date, and never touches an admin's edits or an admin's switch.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

from keepwell import clock
from keepwell.db import flush_or_conflict, table_of
from keepwell.errors import InvalidInput, NotFound
from keepwell.playbooks.models import ACTIONS, CATEGORIES, TRIGGERS, Playbook, PlaybookRun

if TYPE_CHECKING:
    from keepwell.playbooks.engine import RunReport

BUILTIN = Path(__file__).parent / "builtin.toml"
MAX_NAME = 100
MAX_REASON = 1000
MAX_DAYS = 3660
CONSENTS = ("any", "contactable", "marketing")
CONTEXTS = ("personal", "conversations")
# The parameters each trigger takes: name -> (kind, low, high).
PARAMS: dict[str, dict[str, tuple[str, float, float]]] = {
    "order_placed": {},
    "first_order": {"days": ("int", 0, MAX_DAYS)},
    "days_after_order": {"days": ("int", 0, MAX_DAYS)},
    "special_date": {"kind": ("str", 1, 40), "days_ahead": ("int", 0, 366)},
    "tenure_milestone": {"years": ("ints", 1, 200), "days_ahead": ("int", 0, 366)},
    "quiet": {"days": ("int", 1, MAX_DAYS)},
    "promise_due_soon": {"days": ("int", 0, 60), "quiet_days": ("int", 1, 365)},
    "promise_overdue": {},
    "case_resolved": {},
    "case_backlog": {"min_open": ("int", 1, 1_000_000), "min_age_days": ("int", 0, 365)},
    "survey_detractor": {"max_score": ("int", 0, 10), "kind": ("str", 1, 20)},
    "score_threshold": {"p_alive_below": ("float", 0, 1), "every_days": ("int", 1, 3660)},
    "product_update": {},
    "tier_change": {"to_tier": ("str", 1, 40)},
}


def _check_value(field: str, value: Any, spec: tuple[str, float, float]) -> Any:
    kind, low, high = spec
    if kind == "int":
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise InvalidInput(field, f"give a whole number from {low:g} to {high:g}")
        return value
    if kind == "float":
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not low <= value <= high
        ):
            raise InvalidInput(field, f"give a number from {low:g} to {high:g}")
        return float(value)
    if kind == "ints":
        if not isinstance(value, list) or not value:
            raise InvalidInput(field, "give a list of whole numbers")
        return sorted({_check_value(field, v, ("int", low, high)) for v in value})
    if not isinstance(value, str) or not low <= len(value.strip()) <= high or "\x00" in value:
        raise InvalidInput(field, f"give a text of {low:g} to {high:g} characters")
    return value.strip()


def _check_task(field: str, params: Any) -> dict[str, Any]:
    if not isinstance(params, dict):
        raise InvalidInput(field, "give a map with kind, due_in_days and reason")
    unknown = set(params) - {"kind", "due_in_days", "reason", "context"}
    if unknown:
        raise InvalidInput(field, f"unknown {', '.join(sorted(unknown))}")
    kind = _check_value(f"{field}.kind", params.get("kind", ""), ("str", 1, 40))
    due = _check_value(f"{field}.due_in_days", params.get("due_in_days", 0), ("int", 0, 365))
    reason = params.get("reason", "")
    if not isinstance(reason, str) or not reason.strip() or "\x00" in reason:
        raise InvalidInput(f"{field}.reason", "say why the task is there")
    if len(reason) > MAX_REASON:
        raise InvalidInput(f"{field}.reason", f"longer than {MAX_REASON} characters")
    context = params.get("context", "personal")
    if context not in CONTEXTS:
        raise InvalidInput(f"{field}.context", f"use one of {', '.join(CONTEXTS)}")
    return {"kind": kind.lower(), "due_in_days": due, "reason": reason.strip(), "context": context}


def check_definition(
    trigger: Any, trigger_params: Any, condition: Any, action: Any, action_params: Any
) -> tuple[str, dict[str, Any], dict[str, Any], str, dict[str, Any]]:
    """The definition, checked and normalised; bad input names the field and reason."""
    from keepwell.outreach.mail import template_names

    if trigger not in TRIGGERS:
        raise InvalidInput("trigger", f"use one of {', '.join(TRIGGERS)}, not {trigger!r}")
    if not isinstance(trigger_params, dict):
        raise InvalidInput("trigger_params", "give a map")
    allowed = PARAMS[trigger]
    unknown = set(trigger_params) - set(allowed)
    if unknown:
        raise InvalidInput(
            "trigger_params",
            f"{trigger} takes {', '.join(allowed) or 'no parameters'}, "
            f"not {', '.join(sorted(unknown))}",
        )
    params = {
        k: _check_value(f"trigger_params.{k}", v, allowed[k]) for k, v in trigger_params.items()
    }
    if not isinstance(condition, dict):
        raise InvalidInput("condition", "give a map")
    unknown = set(condition) - {"segment", "min_revenue_minor", "consent"}
    if unknown:
        raise InvalidInput("condition", f"unknown {', '.join(sorted(unknown))}")
    checked: dict[str, Any] = {}
    if "segment" in condition:
        checked["segment"] = _check_value(
            "condition.segment", condition["segment"], ("str", 1, 100)
        )
    if "min_revenue_minor" in condition:
        checked["min_revenue_minor"] = _check_value(
            "condition.min_revenue_minor", condition["min_revenue_minor"], ("int", 0, 10**15)
        )
    if "consent" in condition:
        if condition["consent"] not in CONSENTS:
            raise InvalidInput("condition.consent", f"use one of {', '.join(CONSENTS)}")
        checked["consent"] = condition["consent"]
    if action not in ACTIONS:
        raise InvalidInput("action", f"use one of {', '.join(ACTIONS)}, not {action!r}")
    if action == "task":
        done = _check_task("action_params", action_params)
    else:
        if not isinstance(action_params, dict):
            raise InvalidInput("action_params", "give a map with template and category")
        unknown = set(action_params) - {"template", "category", "fallback"}
        if unknown:
            raise InvalidInput("action_params", f"unknown {', '.join(sorted(unknown))}")
        template = action_params.get("template")
        if template not in template_names():
            raise InvalidInput(
                "action_params.template",
                f"no e-mail template {template!r}; there are {', '.join(template_names())}",
            )
        category = action_params.get("category", "service")
        if category not in CATEGORIES:
            raise InvalidInput("action_params.category", "use service or marketing")
        done = {"template": template, "category": category}
        if action_params.get("fallback") is not None:
            done["fallback"] = _check_task("action_params.fallback", action_params["fallback"])
    return trigger, params, checked, action, done


def _check_name(name: Any) -> str:
    if not isinstance(name, str):
        raise InvalidInput("name", "give a name")
    cleaned: str = name.strip().lower()
    if not cleaned or len(cleaned) > MAX_NAME or not all(c.isalnum() or c in "-_" for c in cleaned):
        raise InvalidInput("name", f"use 1 to {MAX_NAME} letters, digits, - and _")
    return cleaned


# --- the shipped playbooks ---------------------------------------------------------------


def builtin_definitions() -> list[dict[str, Any]]:
    data = tomllib.loads(BUILTIN.read_text(encoding="utf-8"))
    found: list[dict[str, Any]] = list(data.get("playbook", []))
    return found


@dataclass(frozen=True)
class Installed:
    added: int
    updated: int
    kept: int  # edited by an admin, left as they are


def install_builtins(session: Session) -> Installed:
    """Load builtin.toml: add the new, update the unedited, keep the edited; never
    change whether a playbook is switched on.

    Written with Core statements, so the shipped definitions stay out of the audit
    trail (as a file import does): what it records is what people changed.
    """
    table = table_of(Playbook)
    added = updated = kept = 0
    now = clock.now()
    for raw in builtin_definitions():
        name = _check_name(raw["name"])
        trigger, params, condition, action, action_params = check_definition(
            raw["trigger"],
            raw.get("trigger_params", {}),
            raw.get("condition", {}),
            raw["action"],
            raw.get("action_params", {}),
        )
        fields = {
            "description": str(raw.get("description", "")),
            "trigger": trigger,
            "trigger_params": params,
            "condition": condition,
            "action": action,
            "action_params": action_params,
        }
        found = session.execute(sa.select(table).where(table.c.name == name)).first()
        if found is None:
            session.execute(
                sa.insert(table).values(
                    name=name, enabled=True, builtin=True, created_at=now, version=1, **fields
                )
            )
            added += 1
        elif found.edited_at is not None or not found.builtin:
            kept += 1
        elif any(getattr(found, k) != v for k, v in fields.items()):
            session.execute(
                sa.update(table)
                .where(table.c.id == found.id)
                .values(version=table.c.version + 1, **fields)
            )
            updated += 1
    session.expire_all()  # loaded playbooks see the new definitions
    return Installed(added, updated, kept)


# --- reading and editing -------------------------------------------------------------------


def list_playbooks(session: Session, *, enabled: bool | None = None) -> list[Playbook]:
    query = sa.select(Playbook).order_by(Playbook.name)
    if enabled is not None:
        query = query.where(Playbook.enabled.is_(enabled))
    return list(session.scalars(query))


def get_playbook(session: Session, ref: int | str) -> Playbook:
    """A playbook by id or name."""
    text = str(ref).strip().lower()
    found = None
    if text.isascii() and text.isdigit() and len(text) < 10:
        found = session.get(Playbook, int(text))
    elif text and len(text) <= MAX_NAME and all(c.isalnum() or c in "-_" for c in text):
        found = session.scalar(sa.select(Playbook).where(Playbook.name == text))
    if found is None:
        raise NotFound(f"no playbook {ref!r}")
    return found


def set_enabled(session: Session, playbook: Playbook, enabled: bool) -> Playbook:
    """Switch a playbook on or off (the switch survives `keepwell init`)."""
    if playbook.enabled != enabled:
        playbook.enabled = enabled
        flush_or_conflict(session, "playbook")
    return playbook


def create_playbook(
    session: Session,
    *,
    name: str,
    trigger: str,
    action: str,
    description: str = "",
    trigger_params: dict[str, Any] | None = None,
    condition: dict[str, Any] | None = None,
    action_params: dict[str, Any] | None = None,
    enabled: bool = True,
) -> Playbook:
    """An admin's own playbook."""
    name = _check_name(name)
    if session.scalar(sa.select(Playbook.id).where(Playbook.name == name)) is not None:
        raise InvalidInput("name", f"there is a playbook named {name!r} already")
    checked = check_definition(
        trigger, trigger_params or {}, condition or {}, action, action_params or {}
    )
    now = clock.now()
    playbook = Playbook(
        name=name,
        description=description.strip(),
        enabled=enabled,
        builtin=False,
        trigger=checked[0],
        trigger_params=checked[1],
        condition=checked[2],
        action=checked[3],
        action_params=checked[4],
        created_at=now,
        edited_at=now,
    )
    session.add(playbook)
    flush_or_conflict(session, "playbook")
    return playbook


def edit_playbook(session: Session, playbook: Playbook, changes: dict[str, Any]) -> Playbook:
    """Change a playbook's definition; from then on `keepwell init` leaves it as it is."""
    editable = {"description", "trigger", "trigger_params", "condition", "action", "action_params"}
    unknown = set(changes) - editable - {"enabled"}
    if unknown:
        raise InvalidInput(", ".join(sorted(unknown)), "cannot be changed")
    merged = {
        "trigger": changes.get("trigger", playbook.trigger),
        "trigger_params": changes.get("trigger_params", playbook.trigger_params),
        "condition": changes.get("condition", playbook.condition),
        "action": changes.get("action", playbook.action),
        "action_params": changes.get("action_params", playbook.action_params),
    }
    if "trigger" in changes and "trigger_params" not in changes:
        merged["trigger_params"] = {}
    checked = check_definition(**merged)
    if "description" in changes:
        if not isinstance(changes["description"], str) or len(changes["description"]) > 2000:
            raise InvalidInput("description", "give a text of at most 2,000 characters")
        playbook.description = changes["description"].strip()
    playbook.trigger, playbook.trigger_params, playbook.condition = (
        checked[0],
        checked[1],
        checked[2],
    )
    playbook.action, playbook.action_params = checked[3], checked[4]
    if "enabled" in changes:
        playbook.enabled = bool(changes["enabled"])
    if set(changes) & editable:
        playbook.edited_at = clock.now()
    flush_or_conflict(session, "playbook")
    return playbook


def describe(playbook: Playbook) -> dict[str, Any]:
    return {
        "id": playbook.id,
        "name": playbook.name,
        "description": playbook.description,
        "enabled": playbook.enabled,
        "builtin": playbook.builtin,
        "edited": playbook.edited_at is not None,
        "trigger": playbook.trigger,
        "trigger_params": playbook.trigger_params,
        "condition": playbook.condition,
        "action": playbook.action,
        "action_params": playbook.action_params,
        "version": playbook.version,
    }


# --- what the playbooks did lately, and what a run would do (the admin page) -------------

RECENT_DAYS = 30
PREVIEW_ROWS = 100


@dataclass(frozen=True)
class Activity:
    """What one playbook did lately, from its ledger (`playbook_runs`, a row per day
    evaluated) and the newest job run: not from the tasks or the outbox themselves."""

    last_run_at: datetime | None  # when a day of it was last evaluated
    last_day: date | None  # the newest day evaluated
    tasks: int  # created in the days evaluated since `since`
    messages: int  # queued in those days
    errors: list[str]  # its lines in the newest job run's errors


def activity(session: Session, since: date) -> dict[int, Activity]:
    """Each playbook's Activity (by id); a playbook that never ran is not in it.

    One grouped read of the ledger, which grows by one row per playbook and day (not
    with the customers), and the newest job run."""
    from keepwell.playbooks.engine import last_job

    recent = PlaybookRun.run_on >= since
    rows = session.execute(
        sa.select(
            PlaybookRun.playbook_id,
            sa.func.max(PlaybookRun.ran_at),
            sa.func.max(PlaybookRun.run_on),
            sa.func.sum(sa.case((recent, PlaybookRun.tasks), else_=0)),
            sa.func.sum(sa.case((recent, PlaybookRun.messages), else_=0)),
        ).group_by(PlaybookRun.playbook_id)
    ).all()
    job = last_job(session)
    lines = job.error.splitlines() if job is not None and job.error else []
    names = {pid: name for pid, name in session.execute(sa.select(Playbook.id, Playbook.name))}
    found: dict[int, Activity] = {}
    for playbook_id, ran_at, last_day, tasks, messages in rows:
        name = names.get(playbook_id, "")
        errors = [line for line in lines if name and line.startswith(f"{name} ")]
        found[playbook_id] = Activity(ran_at, last_day, int(tasks or 0), int(messages or 0), errors)
    return found


def ledger(session: Session, playbook: Playbook, limit: int = 14) -> list[PlaybookRun]:
    """The playbook's newest days in the ledger, newest first."""
    return list(
        session.scalars(
            sa.select(PlaybookRun)
            .where(PlaybookRun.playbook_id == playbook.id)
            .order_by(PlaybookRun.run_on.desc())
            .limit(limit)
        )
    )


@dataclass(frozen=True)
class PlannedTask:
    customer_id: int
    kind: str
    due_on: date
    reason: str
    member_id: int | None


@dataclass(frozen=True)
class PlannedMessage:
    customer_id: int
    to: str
    subject: str
    category: str


@dataclass(frozen=True)
class Preview:
    """What a run of one playbook today would do; nothing of it was written.

    `tasks` and `messages` count everything; `task_rows` and `message_rows` show the first
    PREVIEW_ROWS of each. `was_off`: the playbook is switched off, so a run would do
    nothing; this is what it would do switched on."""

    name: str
    through: date
    days: int
    tasks: int
    messages: int
    held: dict[str, int]  # messages not queued: why -> how many
    errors: list[str]
    task_rows: list[PlannedTask]
    message_rows: list[PlannedMessage]
    names: dict[int, str]  # customer id -> name, for the rows shown
    was_off: bool


def preview(session: Session, playbook: Playbook) -> Preview:
    """A dry run of one playbook through today (`keepwell playbooks run --dry-run --only
    NAME`), listing the tasks and messages it would create: they are watched as the run
    flushes them, then the run is rolled back with everything it touched (its ledger
    and job rows, their audit entries; switching an off playbook on for the preview)."""
    from keepwell.outreach.models import Message
    from keepwell.playbooks.engine import run
    from keepwell.tasks.models import Task

    tasks: list[PlannedTask] = []
    messages: list[PlannedMessage] = []

    def watch(flushed: Session, _context: Any) -> None:
        for obj in flushed.new:
            if isinstance(obj, Task) and len(tasks) < PREVIEW_ROWS:
                tasks.append(
                    PlannedTask(obj.customer_id, obj.kind, obj.due_on, obj.reason, obj.member_id)
                )
            elif isinstance(obj, Message) and len(messages) < PREVIEW_ROWS:
                messages.append(
                    PlannedMessage(obj.customer_id, obj.to_address, obj.subject, obj.category)
                )

    name, was_off = playbook.name, not playbook.enabled
    outer = session.begin_nested()
    event.listen(session, "after_flush", watch)
    try:
        if was_off:
            playbook.enabled = True
            session.flush()
        report = run(session, dry_run=True, only=name, via="preview")
    finally:
        event.remove(session, "after_flush", watch)
        outer.rollback()
    ids = {t.customer_id for t in tasks} | {m.customer_id for m in messages}
    names: dict[int, str] = {}
    if ids:
        from keepwell.customers.models import Customer

        found = session.execute(sa.select(Customer.id, Customer.name).where(Customer.id.in_(ids)))
        names = {customer_id: name for customer_id, name in found}
    result = report.playbooks[0] if report.playbooks else None
    return Preview(
        name=name,
        through=report.through,
        days=report.days,
        tasks=report.tasks,
        messages=report.messages,
        held=dict(result.held) if result else {},
        errors=report.errors,
        task_rows=tasks,
        message_rows=messages,
        names=names,
        was_off=was_off,
    )


def run_now(session: Session, playbook: Playbook) -> RunReport:
    """Run one playbook for each day not yet done through today, as the hourly run does
    (idempotent: what exists is not made again). A playbook switched off is refused."""
    from keepwell.playbooks.engine import run

    if not playbook.enabled:
        raise InvalidInput("enabled", f"{playbook.name} is switched off: switch it on first")
    return run(session, only=playbook.name, via="web")
