"""The one source of "now" and "today", so tests and replays can fix time.

`KEEPWELL_NOW` (an ISO timestamp or date) fixes the clock for a whole process;
`frozen()` fixes it inside a block (tests, simulated days).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time

_fixed: datetime | None = None


def _parse(value: str) -> datetime:
    text = value.strip()
    if len(text) == 10:
        return datetime.combine(date.fromisoformat(text), time(12, 0), UTC)
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def now() -> datetime:
    """The current moment, timezone-aware, in UTC."""
    if _fixed is not None:
        return _fixed
    env = os.environ.get("KEEPWELL_NOW")
    if env:
        return _parse(env)
    return datetime.now(UTC)


def today() -> date:
    return now().date()


@contextmanager
def frozen(moment: datetime | date | str) -> Iterator[datetime]:
    """Fix the clock at `moment` inside the block."""
    global _fixed
    if isinstance(moment, str):
        fixed = _parse(moment)
    elif isinstance(moment, datetime):
        fixed = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    else:
        fixed = datetime.combine(moment, time(12, 0), UTC)
    previous, _fixed = _fixed, fixed
    try:
        yield fixed
    finally:
        _fixed = previous
