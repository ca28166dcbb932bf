"""The vocabulary every table is written in: the declarative base with its naming
convention, the column types shared by all models, and the one rule every text column
keeps: no NUL character (PostgreSQL stores none; SQLite would keep it silently).

Models import this module, never `keepwell.db`: `keepwell.db` imports every model
(`keepwell.models`) so that any engine or session it makes sees the whole schema.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import DeclarativeBase, Session

from keepwell.errors import InvalidInput
from keepwell.jsontext import NUL_REASON, problem

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


def table_of(model: type[Base]) -> sa.Table:
    """The Core table behind an ORM model, typed as such (for bulk statements)."""
    table = model.__table__
    assert isinstance(table, sa.Table)
    return table


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """A moment in time, stored in UTC and always read back timezone-aware.

    SQLite keeps it as ISO text (``YYYY-MM-DD HH:MM:SS.ffffff``, which sorts in time
    order); PostgreSQL as ``timestamptz``. A naive value is taken to be UTC.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def sqlite_timestamp(moment: datetime) -> str:
    """How UTCDateTime stores `moment` on SQLite (for bulk paths that bypass the ORM)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat(" ", "microseconds")


def one_of(column: str, values: Iterable[str], *, nullable: bool = False) -> str:
    """The SQL of a check that `column` holds one of `values` (or NULL when `nullable`),
    written from the same tuple the code checks against."""
    check = f"{column} IN ({', '.join(repr(str(value)) for value in values)})"
    return f"{column} IS NULL OR {check}" if nullable else check


# --- no NUL in stored text ---------------------------------------------------------------


_TEXT_COLUMNS: dict[type[Any], dict[str, bool]] = {}


def _text_columns(model: type[Any]) -> dict[str, bool]:
    """The model's text and JSON columns: attribute → whether it is JSON."""
    found = _TEXT_COLUMNS.get(model)
    if found is None:
        found = {}
        for attr in sa.inspect(model).column_attrs:
            kind = attr.columns[0].type
            if isinstance(kind, sa.String | sa.JSON):
                found[attr.key] = isinstance(kind, sa.JSON)
        _TEXT_COLUMNS[model] = found
    return found


@event.listens_for(Session, "before_flush")
def _refuse_nul(session: Session, _flush: Any, _instances: Any) -> None:
    """Refuse (InvalidInput naming the attribute) a NUL character in a text or JSON value
    being written — from a form, the command line or a script alike, on both databases,
    before any of it reaches SQL (and a JSON value nested deeper than jsontext allows).
    Values already stored are not looked at again: only new records and changes."""
    for obj in session.new:
        if isinstance(obj, Base):
            state = sa.inspect(obj)
            _check_text(type(obj), state.dict, state.dict)
    for obj in session.dirty:
        if isinstance(obj, Base):
            state = sa.inspect(obj)
            _check_text(type(obj), state.committed_state, state.dict)  # the changed ones


def _check_text(model: type[Any], keys: Iterable[str], values: dict[str, Any]) -> None:
    columns = _text_columns(model)
    for key in keys:
        is_json = columns.get(key)
        if is_json is None:
            continue
        value = values.get(key)
        if is_json:
            reason = problem(value)
            if reason is not None:
                raise InvalidInput(key, reason)
        elif isinstance(value, str) and "\x00" in value:
            raise InvalidInput(key, NUL_REASON)
