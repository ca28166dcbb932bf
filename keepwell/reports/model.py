"""What a report is: its table, notes, extras and chart (built by keepwell/reports/service.py
and the concepts' own report builders, e.g. keepwell/feedback/report.py), and the options
every report takes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Report:
    name: str
    title: str
    columns: list[str]
    rows: list[list[Any]]
    notes: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    draw: Callable[[Path], Path] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "report": self.name,
            "title": self.title,
            "columns": self.columns,
            "rows": [dict(zip(self.columns, row, strict=True)) for row in self.rows],
            "notes": self.notes,
            **self.extra,
        }


@dataclass(frozen=True)
class Options:
    day: dt.date  # the report's last day
    months: int = 12  # how many months back (retention, cohorts, promises, cases)
    top: int = 20  # customers listed (clv)
