"""Is the desk healthy? The database, its schema, the daily playbook run, the outbox, SMTP.

One diagnosis serves `keepwell doctor` and the app's status line (GET /api/status).
Follow-up that silently stops is the failure this guards against: the playbook run is
expected daily, and an outbox that cannot send says so.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from keepwell import clock, db

STALE_AFTER = timedelta(days=1)
LEVELS = ("ok", "warning", "error")


@dataclass(frozen=True)
class Check:
    name: str
    level: str  # ok | warning | error
    message: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Diagnosis:
    checks: list[Check]

    @property
    def level(self) -> str:
        worst = max((LEVELS.index(c.level) for c in self.checks), default=0)
        return LEVELS[worst]

    def as_dict(self) -> dict[str, Any]:
        return {"level": self.level, "checks": [asdict(c) for c in self.checks]}


def diagnose(engine: Engine) -> Diagnosis:
    """Every check, starting with whether the database answers at all."""
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError as exc:
        reason = getattr(exc, "orig", exc)
        return Diagnosis(
            [Check("database", "error", f"{db.safe_url(engine)} does not answer: {reason}")]
        )
    checks = [Check("database", "ok", f"{db.safe_url(engine)} answers")]
    schema = _schema(engine)
    checks.append(schema)
    if schema.level == "error":
        return Diagnosis(checks)
    with db.session_factory(engine)() as session, session.begin():
        checks += desk_checks(session)
    return Diagnosis(checks)


def _schema(engine: Engine) -> Check:
    revision = db.current_revision(engine)
    if revision is None:
        return Check("schema", "error", "no Keepwell schema: run `keepwell init`")
    if revision != db.SCHEMA_REVISION:
        return Check(
            "schema",
            "error",
            f"schema {revision}, this Keepwell needs {db.SCHEMA_REVISION}: run `keepwell init`",
            {"revision": revision},
        )
    return Check("schema", "ok", f"schema {revision} is current", {"revision": revision})


def desk_checks(session: Session) -> list[Check]:
    """The checks that need a working database: playbook run, outbox, SMTP."""
    return [playbook_check(session), *outbox_checks(session)]


def _ago(moment: datetime, now: datetime) -> str:
    seconds = max(0, int((now - moment).total_seconds()))
    if seconds < 120:
        return "just now"
    if seconds < 7200:
        return f"{seconds // 60} minutes ago"
    if seconds < 2 * 86400:
        return f"{seconds // 3600} hours ago"
    return f"{seconds // 86400} days ago"


def playbook_check(session: Session) -> Check:
    from keepwell.playbooks.engine import last_job, last_successful_job

    now = clock.now()
    last = last_job(session)
    if last is None:
        return Check(
            "playbooks",
            "warning",
            "playbooks have never run: run `keepwell playbooks run` or `keepwell serve`",
        )
    good = last_successful_job(session)
    data = {
        "last_run_at": last.started_at.isoformat(),
        "through": last.through.isoformat(),
        "via": last.via,
        "tasks": last.tasks,
        "messages": last.messages,
        "errors": last.errors,
        "last_good_run_at": good.started_at.isoformat() if good else None,
    }
    text = (
        f"last run {_ago(last.started_at, now)} ({last.started_at:%Y-%m-%d %H:%M} UTC, via "
        f"{last.via}, through {last.through.isoformat()}): created {last.tasks} tasks, "
        f"queued {last.messages} messages"
    )
    if last.errors:
        first = last.error.splitlines()[0] if last.error else ""
        return Check("playbooks", "error", f"{text}; {last.errors} errors: {first}", data)
    if now - last.started_at > STALE_AFTER:
        return Check("playbooks", "warning", f"{text}: over a day ago, is it still running?", data)
    return Check("playbooks", "ok", text, data)


def outbox_checks(session: Session) -> list[Check]:
    from keepwell.outreach.mail import outbox_state, smtp_config

    state = outbox_state(session)
    config = smtp_config(session)
    data = {
        "queued": state.queued,
        "failed": state.failed,
        "gave_up": state.gave_up,
        "sent": state.sent,
        "unconfirmed": state.unconfirmed,
        "oldest_waiting_at": state.oldest_queued_at.isoformat() if state.oldest_queued_at else None,
    }
    text = f"{state.queued} queued, {state.failed} failed, {state.sent} sent"
    if state.unconfirmed:
        text += f", {state.unconfirmed} unconfirmed"
    if state.gave_up:
        outbox = Check(
            "outbox",
            "error",
            f"{text}; {state.gave_up} gave up retrying: `keepwell outreach list --status failed`",
            data,
        )
    elif state.unconfirmed:
        outbox = Check(
            "outbox",
            "warning",
            f"{text}: the server may have accepted them; check its log for their Message-ID "
            "(`keepwell outreach list --status unconfirmed`), then confirm or retry each",
            data,
        )
    elif state.failed:
        outbox = Check("outbox", "warning", f"{text} (retrying with backoff)", data)
    else:
        outbox = Check("outbox", "ok", text, data)
    if config.configured:
        smtp = Check(
            "smtp",
            "ok",
            f"SMTP {config.host}:{config.port} ({config.tls}) from {config.sender}",
            {"host": config.host, "port": config.port, "tls": config.tls},
        )
    else:
        level = "warning" if state.queued or state.failed else "ok"
        smtp = Check(
            "smtp",
            level,
            "SMTP is not configured (KEEPWELL_SMTP_HOST, KEEPWELL_SMTP_FROM): messages wait "
            "in the outbox",
            {},
        )
    return [outbox, smtp]
