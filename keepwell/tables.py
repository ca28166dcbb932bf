"""The vocabulary every table is written in: the declarative base with its naming
convention, and the column types shared by all models.

Models import this module, never `keepwell.db`: `keepwell.db` imports every model
(`keepwell.models`) so that any engine or session it makes sees the whole schema.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase

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
