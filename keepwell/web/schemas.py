"""Shapes and value types every API module shares: ids, bounded text, moments, errors.

Bounds are part of the schema (so clients and the fuzz test see them) and keep every
value inside what both databases store: ids fit a 32-bit integer, text has no NUL
character (PostgreSQL refuses it), moments and days lie between 1900 and 2200.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from keepwell import jsontext

MAX_ID = 2**31 - 1
EARLIEST_DAY = date(1900, 1, 1)
LATEST_DAY = date(2199, 12, 31)

Id = Annotated[int, Field(ge=1, le=MAX_ID)]


def text(max_length: int, *, min_length: int = 0) -> Any:
    """Bounds of a string: `Annotated[str, text(200)]` is at most 200 characters."""
    return Field(min_length=min_length, max_length=max_length)


Short = Annotated[str, text(200)]
Name = Annotated[str, text(300)]
Long = Annotated[str, text(20_000)]


def _moment_in_range(value: datetime) -> datetime:
    if not EARLIEST_DAY.year <= value.year <= LATEST_DAY.year:
        raise ValueError(f"give a time between {EARLIEST_DAY.year} and {LATEST_DAY.year}")
    return value.astimezone(UTC)


def _day_in_range(value: date) -> date:
    if not EARLIEST_DAY <= value <= LATEST_DAY:
        raise ValueError(f"give a day between {EARLIEST_DAY} and {LATEST_DAY}")
    return value


# An ISO time with its zone (e.g. 2026-11-27T17:00:00Z), read as UTC.
Moment = Annotated[AwareDatetime, AfterValidator(_moment_in_range)]
# An ISO day (YYYY-MM-DD).
Day = Annotated[date, AfterValidator(_day_in_range)]


class Input(BaseModel):
    """Request bodies: unknown fields are refused (a typo must not pass silently), and so
    is a NUL character in any text, also inside lists and maps (PostgreSQL cannot store
    it; a check rather than a schema pattern, which would make generated examples slow),
    and a list or map nested deeper than jsontext.MAX_DEPTH levels."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        if isinstance(value, str | list | dict):
            reason = jsontext.problem(value)
            if reason is not None:
                raise ValueError(reason)
        return value


class Output(BaseModel):
    """Response bodies, read from the storage objects' attributes."""

    model_config = ConfigDict(from_attributes=True)


class ErrorItem(BaseModel):
    field: str | None = Field(description="The field that was refused (None: no one field).")
    reason: str


class ErrorBody(BaseModel):
    """Every error: one item per refused field (or one without a field)."""

    detail: list[ErrorItem]


ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": text}
    for status, text in (
        (400, "The body could not be read (malformed JSON or form)"),
        (401, "Not signed in (no, a revoked or an unknown token or session)"),
        (403, "Signed in, but the role does not allow it"),
        (404, "No such record"),
        (409, "Changed by someone else meanwhile (a stale version)"),
        (422, "A value was refused: the field and the reason"),
    )
}
