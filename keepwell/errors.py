"""Domain errors. Interfaces map them to an HTTP 4xx or a CLI error message."""

from __future__ import annotations

from dataclasses import dataclass


class KeepwellError(Exception):
    """Base of every error Keepwell raises on purpose."""


class ConfigError(KeepwellError):
    """The configuration (database URL, settings) is unusable."""


class DatabaseNotReady(KeepwellError):
    """The database has no schema, or an older one: run `keepwell init`."""


class NotFound(KeepwellError):
    """A record that was asked for does not exist."""


class InvalidInput(KeepwellError):
    """A value was rejected; `field` names what was wrong."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class Conflict(InvalidInput):
    """The record was changed by someone else meanwhile (its version moved on).

    An InvalidInput, so every interface that reports those reports it; the API answers
    409 and retries the request when the client named no version of its own.
    """


def check_choice(field: str, value: str | None, choices: tuple[str, ...]) -> None:
    """Refuse a value that is not one of `choices` (None means "not given")."""
    if value is not None and value not in choices:
        raise InvalidInput(field, f"use one of {', '.join(choices)}, not {value!r}")


def check_text(field: str, value: str, limit: int, *, required: str | None = None) -> str:
    """`value` without the white space around it; refused when longer than `limit`
    characters, and, when `required` says what to ask for, when empty."""
    text = value.strip()
    if required is not None and not text:
        raise InvalidInput(field, required)
    if len(text) > limit:
        raise InvalidInput(field, f"longer than {limit:,} characters")
    return text


def require_aware(field: str, moment: object) -> None:
    """Refuse anything but a timezone-aware date and time."""
    from datetime import datetime

    if not isinstance(moment, datetime):
        raise InvalidInput(field, "give a date and time")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidInput(field, "give a time zone (or UTC)")


def check_limit(limit: int, maximum: int) -> None:
    """Refuse a page size outside 1..maximum."""
    if not 1 <= limit <= maximum:
        raise InvalidInput("limit", f"give 1 to {maximum}, not {limit}")


MAX_OFFSET = 10_000  # rows a list skips at most (deeper: narrow the filter, or use keyset)


def check_offset(offset: int, maximum: int = MAX_OFFSET) -> None:
    """Refuse an offset outside 0..maximum."""
    if not 0 <= offset <= maximum:
        raise InvalidInput("offset", f"give 0 to {maximum}, not {offset}")


@dataclass(frozen=True)
class RowError:
    """One rejected row of an input file: where it is and why it was rejected."""

    file: str
    line: int
    column: str
    reason: str

    def __str__(self) -> str:
        where = f"column {self.column}: " if self.column else ""
        return f"{self.file}:{self.line}: {where}{self.reason}"


class ImportRejected(KeepwellError):
    """An import was refused as a whole; nothing was written."""

    shown = 20

    def __init__(self, errors: list[RowError], total: int | None = None) -> None:
        self.errors = errors
        self.total = total if total is not None else len(errors)
        super().__init__(self.describe())

    def describe(self) -> str:
        lines = [str(e) for e in self.errors[: self.shown]]
        hidden = self.total - min(len(self.errors), self.shown)
        if hidden > 0:
            lines.append(f"… and {hidden} more bad rows")
        noun = "row" if self.total == 1 else "rows"
        lines.append(f"rejected: {self.total} bad {noun}; nothing was imported")
        return "\n".join(lines)
