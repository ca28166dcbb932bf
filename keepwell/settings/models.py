"""`settings`: named JSON values (audited); `desk_secrets`: random keys (never audited)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from keepwell import clock
from keepwell.tables import Base, UTCDateTime

MAX_KEY = 100


class Setting(Base):
    """One named setting: a JSON value, who changed it is in the audit trail."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(sa.String(MAX_KEY), primary_key=True)
    value: Mapped[Any] = mapped_column(sa.JSON, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)


class DeskSecret(Base):
    """A random key the desk made for itself (signing survey links, feeds, …).

    Kept apart from `settings` so it never reaches the audit trail or an export.
    """

    __tablename__ = "desk_secrets"

    name: Mapped[str] = mapped_column(sa.String(MAX_KEY), primary_key=True)
    value: Mapped[bytes] = mapped_column(sa.LargeBinary(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
