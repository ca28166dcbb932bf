"""The audit trail: every change of the desk's records — who, when, what, before/after.

Nothing has to call it: a SQLAlchemy `after_flush` hook looks at what each flush
inserted, updated and deleted among the AUDITED tables and writes one `audit_entries`
row per record in the same transaction (so a change and its entry commit together, or
neither does). Who acted is taken from the session (`session.info["actor"]`, set by the
API for each request) or else from `acting()` (the command line sets "cli").

Left out on purpose: secrets (password and token hashes; a change shows as
"(changed)"), columns derived from other records (a customer's order count, next
check-in, …: they follow from the audited records), and bulk imports, which are
recorded once as an import run. Erasing a customer (privacy) leaves an entry that it
happened and blanks what earlier entries said about them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session, UOWTransaction
from sqlalchemy.orm.attributes import get_history

from keepwell import clock
from keepwell.accounts.models import AuditEntry
from keepwell.actor import NOBODY as NOBODY
from keepwell.actor import Actor as Actor
from keepwell.actor import acting as acting
from keepwell.actor import current
from keepwell.actor import set_default_actor as set_default_actor
from keepwell.errors import InvalidInput
from keepwell.tables import table_of

# Tables whose changes are recorded, with the columns left out of before/after.
DERIVED_CUSTOMER_COLUMNS = frozenset(
    {
        "last_contact_at", "last_outbound_at", "next_check_in_at", "order_count",
        "revenue_minor", "last_order_at", "birthday_md", "anniversary_md", "updated_at",
    }
)  # fmt: skip
AUDITED: dict[str, frozenset[str]] = {
    "customers": DERIVED_CUSTOMER_COLUMNS,
    "orders": frozenset(),
    "touches": frozenset(),
    "promises": frozenset(),
    "promise_updates": frozenset(),
    "cases": frozenset(),
    "tasks": frozenset(),
    "special_dates": frozenset({"on_md"}),
    "cadences": frozenset(),
    "owner_changes": frozenset(),
    "team_members": frozenset({"last_sign_in_at"}),
    "api_tokens": frozenset({"last_used_at"}),
    "web_sessions": frozenset(),  # a sign-in starts one; signing out or a revocation ends it
    "playbooks": frozenset(),
    "outbox_messages": frozenset(
        {"attempts", "next_attempt_at", "last_error", "claimed_at", "claimed_by"}
    ),
    "outreach_resources": frozenset(),
    "calendar_feeds": frozenset(),
    "survey_invitations": frozenset(),
    "feedback": frozenset(),
    "feedback_actions": frozenset(),
    "feedback_action_links": frozenset(),
    "settings": frozenset(),
    "goals": frozenset(),
    "review_questions": frozenset(),
    "account_reviews": frozenset(),
    "review_answers": frozenset(),
    "referral_codes": frozenset(),
    "referrals": frozenset(),
    "referral_rewards": frozenset(),
}
# Never written to the trail; a change shows as "(changed)".
SECRET_COLUMNS = frozenset({"password_hash", "token_hash", "csrf_hash"})
ALWAYS_LEFT_OUT = frozenset({"version"})
MAX_LIMIT = 500


def actor_of(session: Session) -> Actor:
    found = session.info.get("actor")
    return found if isinstance(found, Actor) else (current.get() or NOBODY)


# --- the hook -----------------------------------------------------------------------


@event.listens_for(Session, "after_flush")
def _record_changes(session: Session, _flush: UOWTransaction) -> None:
    entries: list[dict[str, Any]] = []
    erased: list[int] = []
    for obj in session.new:
        table = _table(obj)
        if table is not None:
            after = _snapshot(obj, table)
            entries.append(_entry(session, obj, table, "insert", None, after))
    for obj in session.dirty:
        table = _table(obj)
        if table is None or not session.is_modified(obj, include_collections=False):
            continue
        before, after = _diff(obj, table)
        if after or before:
            entries.append(_entry(session, obj, table, "update", before, after))
    for obj in session.deleted:
        table = _table(obj)
        if table is None:
            continue
        if table == "customers":  # privacy: the trail keeps that it happened, nothing more
            erased.append(obj.id)
            entries.append(_entry(session, obj, table, "delete", {"id": obj.id}, None))
        else:
            entries.append(_entry(session, obj, table, "delete", _snapshot(obj, table), None))
    if not entries:
        return
    audit = table_of(AuditEntry)
    conn = session.connection()
    if erased:
        conn.execute(
            sa.update(audit)
            .where(audit.c.customer_id.in_(erased))
            .values(before_data=sa.null(), after_data=sa.null())
        )
    conn.execute(sa.insert(audit), entries)


def _table(obj: Any) -> str | None:
    name = getattr(obj, "__tablename__", None)
    return name if name in AUDITED else None


def _columns(obj: Any, table: str) -> list[tuple[str, str]]:
    """(attribute, column) pairs recorded for this table."""
    mapper = sa.inspect(obj).mapper
    skip = AUDITED[table] | ALWAYS_LEFT_OUT
    return [
        (attr.key, attr.columns[0].name)
        for attr in mapper.column_attrs
        if attr.columns[0].name not in skip
    ]


def _snapshot(obj: Any, table: str) -> dict[str, Any]:
    loaded = sa.inspect(obj).dict
    values: dict[str, Any] = {}
    for key, column in _columns(obj, table):
        if key not in loaded:
            continue
        if column in SECRET_COLUMNS:
            values[column] = "(set)" if loaded[key] is not None else None
        else:
            values[column] = _plain(loaded[key])
    return values


def _diff(obj: Any, table: str) -> tuple[dict[str, Any], dict[str, Any]]:
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for key, column in _columns(obj, table):
        history = get_history(obj, key)
        if not history.has_changes():
            continue
        old = history.deleted[0] if history.deleted else None
        new = history.added[0] if history.added else None
        if old == new and history.deleted:
            continue
        if column in SECRET_COLUMNS:
            before[column], after[column] = "(hidden)", "(changed)"
        else:
            before[column], after[column] = _plain(old), _plain(new)
    return before, after


def _entry(
    session: Session,
    obj: Any,
    table: str,
    action: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> dict[str, Any]:
    actor = actor_of(session)
    identity = sa.inspect(obj).identity
    record_id = ",".join(str(part) for part in identity) if identity else ""
    return {
        "at": clock.now(),
        "member_id": actor.member_id,
        "via": actor.via[:40],
        "action": action,
        "table_name": table,
        "record_id": record_id[:200],
        "customer_id": _customer_of(session, obj, table),
        "before_data": before,
        "after_data": after,
    }


def _customer_of(session: Session, obj: Any, table: str) -> int | None:
    if table == "customers":
        return int(obj.id)
    customer_id = getattr(obj, "customer_id", None)
    if customer_id is not None:
        return int(customer_id)
    if table == "promise_updates":
        from keepwell.promises.models import Promise

        promise = session.identity_map.get(
            sa.inspect(Promise).identity_key_from_primary_key((obj.promise_id,))
        )
        if isinstance(promise, Promise):
            return promise.customer_id
        found = session.connection().scalar(
            sa.select(table_of(Promise).c.customer_id).where(
                table_of(Promise).c.id == obj.promise_id
            )
        )
        return int(found) if found is not None else None
    return None


def _plain(value: Any) -> Any:
    """`value` as JSON can hold it."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


# --- the list -----------------------------------------------------------------------


@dataclass(frozen=True)
class AuditFilter:
    """One definition of the audit list, for the CLI and the API: newest first;
    `before` continues below that entry id."""

    customer_id: int | None = None
    member_id: int | None = None
    table: str | None = None
    before: int | None = None
    limit: int = 50

    def __post_init__(self) -> None:
        if not 1 <= self.limit <= MAX_LIMIT:
            raise InvalidInput("limit", f"give 1 to {MAX_LIMIT}, not {self.limit}")
        if self.table is not None and self.table not in AUDITED:
            raise InvalidInput("table", f"use one of {', '.join(sorted(AUDITED))}")

    def query(self) -> sa.Select[AuditEntry]:
        q = sa.select(AuditEntry)
        if self.customer_id is not None:
            q = q.where(AuditEntry.customer_id == self.customer_id)
        if self.member_id is not None:
            q = q.where(AuditEntry.member_id == self.member_id)
        if self.table is not None:
            q = q.where(AuditEntry.table_name == self.table)
        if self.before is not None:
            q = q.where(AuditEntry.id < self.before)
        return q.order_by(AuditEntry.id.desc()).limit(self.limit)


def list_entries(session: Session, filters: AuditFilter) -> list[AuditEntry]:
    return list(session.scalars(filters.query()))
