"""Playbooks as data: check, load the shipped ones, list, show, edit, switch on and off.

A playbook is a trigger (keepwell.playbooks.triggers), a condition on the customer and
an action (a task for a person, or an e-mail through the outbox). The shipped playbooks
are in builtin.toml; `install_builtins` (run by `keepwell init`) adds new ones and brings
unedited ones up to date, and never touches an admin's edits or an admin's switch.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from keepwell import clock
from keepwell.db import flush_or_conflict, table_of
from keepwell.errors import InvalidInput, NotFound
from keepwell.playbooks.models import ACTIONS, CATEGORIES, TRIGGERS, Playbook

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
