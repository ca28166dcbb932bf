"""The output models: what the API answers about playbooks, their runs and the desk's status."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel

from keepwell.web.schemas import Output


class PlaybookPublic(Output):
    id: int
    name: str
    description: str
    enabled: bool
    builtin: bool
    edited: bool
    trigger: str
    trigger_params: dict[str, Any]
    condition: dict[str, Any]
    action: str
    action_params: dict[str, Any]
    version: int


class RunOutput(BaseModel):
    through: date
    dry_run: bool
    days: int
    tasks: int
    messages: int
    errors: list[str]


class CheckOut(BaseModel):
    name: str
    level: str
    message: str
    data: dict[str, Any]


class StatusOut(BaseModel):
    level: str
    checks: list[CheckOut]
