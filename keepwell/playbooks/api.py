"""/api/playbooks (admins edit, everyone reads) and /api/status (the app's status line)."""

from __future__ import annotations

from typing import Any

from fastapi import Depends

from keepwell.ops.doctor import desk_checks
from keepwell.playbooks import engine, service
from keepwell.playbooks.schemas import CheckOut, PlaybookPublic, RunOutput, StatusOut
from keepwell.web.deps import DbSession, admin, router
from keepwell.web.schemas import Day, Input, Long

playbooks = router("playbooks")


class PlaybookChange(Input):
    """The fields to change (all optional); a definition change is checked as a whole."""

    description: Long | None = None
    enabled: bool | None = None
    trigger: str | None = None
    trigger_params: dict[str, Any] | None = None
    condition: dict[str, Any] | None = None
    action: str | None = None
    action_params: dict[str, Any] | None = None


class RunInput(Input):
    date: Day | None = None  # default: today
    dry_run: bool = False


def _public(playbook: Any) -> PlaybookPublic:
    return PlaybookPublic.model_validate(service.describe(playbook))


@playbooks.get("/playbooks", response_model=list[PlaybookPublic])
def list_playbooks(session: DbSession) -> list[PlaybookPublic]:
    """Every playbook, by name."""
    return [_public(p) for p in service.list_playbooks(session)]


@playbooks.get("/playbooks/{name}", response_model=PlaybookPublic)
def get_playbook(name: str, session: DbSession) -> PlaybookPublic:
    """One playbook, by name or id."""
    return _public(service.get_playbook(session, name[:100]))


@playbooks.patch("/playbooks/{name}", response_model=PlaybookPublic, dependencies=[Depends(admin)])
def change_playbook(name: str, data: PlaybookChange, session: DbSession) -> PlaybookPublic:
    """Switch a playbook on or off, or change its definition (admins)."""
    playbook = service.get_playbook(session, name[:100])
    changes = data.model_dump(exclude_unset=True)
    return _public(service.edit_playbook(session, playbook, changes))


@playbooks.post("/playbooks/run", response_model=RunOutput, dependencies=[Depends(admin)])
def run_playbooks(session: DbSession, data: RunInput = RunInput()) -> RunOutput:
    """Run the playbooks for each day not yet done up to `date` (admins)."""
    report = engine.run(session, through=data.date, dry_run=data.dry_run, via="api")
    return RunOutput(
        through=report.through,
        dry_run=report.dry_run,
        days=report.days,
        tasks=report.tasks,
        messages=report.messages,
        errors=report.errors,
    )


@playbooks.get("/status", response_model=StatusOut, tags=["health"])
def status(session: DbSession) -> StatusOut:
    """The status line: the last playbook run (a warning after a day without one), the
    outbox and SMTP — the checks of `keepwell doctor` that need a working database."""
    checks = desk_checks(session)
    worst = max((("ok", "warning", "error").index(c.level) for c in checks), default=0)
    return StatusOut(
        level=("ok", "warning", "error")[worst],
        checks=[
            CheckOut(name=c.name, level=c.level, message=c.message, data=c.data) for c in checks
        ],
    )
