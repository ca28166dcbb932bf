"""Read and change desk settings; the desk's secrets, made on first use.

Settings are small JSON values under a dotted key (`"model.pinned"`,
`"outreach.budget"`). Code that reads one always passes its own default, so a desk
that never changed a setting behaves as documented, and a setting that was never
written costs one primary-key lookup.
"""

from __future__ import annotations

import json
import re
import secrets as random_bytes
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from keepwell import clock, jsontext
from keepwell.db import table_of
from keepwell.errors import InvalidInput
from keepwell.settings.models import MAX_KEY, DeskSecret, Setting

KEY = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$")
MAX_VALUE_BYTES = 64 * 1024
SECRET_BYTES = 32


def check_key(key: str) -> str:
    if not isinstance(key, str) or len(key) > MAX_KEY or not KEY.match(key):
        raise InvalidInput(
            "key", f"{key!r}: use lower-case words joined by dots, at most {MAX_KEY} characters"
        )
    return key


def get(session: Session, key: str, default: Any = None) -> Any:
    """The value stored under `key`, or `default` when it was never set."""
    row = session.get(Setting, check_key(key))
    return default if row is None else row.value


def get_many(session: Session, prefix: str) -> dict[str, Any]:
    """Every setting whose key starts with `prefix` (e.g. "outreach.")."""
    rows = session.scalars(
        sa.select(Setting).where(Setting.key.startswith(prefix, autoescape=True))
    )
    return {row.key: row.value for row in rows}


def put(session: Session, key: str, value: Any) -> Setting:
    """Store `value` (anything JSON can hold, up to 64 KiB) under `key`; audited."""
    check_key(key)
    jsontext.check("value", value)
    try:
        encoded = json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(
            "value", f"must be plain JSON (text, numbers, lists, maps): {exc}"
        ) from None
    if len(encoded.encode()) > MAX_VALUE_BYTES:
        raise InvalidInput("value", f"larger than {MAX_VALUE_BYTES // 1024} KiB")
    row = session.get(Setting, key)
    if row is None:
        row = Setting(key=key, value=json.loads(encoded), updated_at=clock.now())
        session.add(row)
    else:
        row.value = json.loads(encoded)
        row.updated_at = clock.now()
    session.flush()
    return row


def remove(session: Session, key: str) -> bool:
    """Forget `key` (its default applies again). True if it was set."""
    row = session.get(Setting, check_key(key))
    if row is None:
        return False
    session.delete(row)
    session.flush()
    return True


def secret(session: Session, name: str) -> bytes:
    """A stable random key for `name`, made (and stored) the first time it is asked for.

    Two processes asking at once agree: the loser of the insert race reads the
    winner's key.
    """
    check_key(name)
    table = table_of(DeskSecret)
    found = session.execute(sa.select(table.c.value).where(table.c.name == name)).scalar()
    if found is not None:
        return bytes(found)
    value = random_bytes.token_bytes(SECRET_BYTES)
    try:
        with session.begin_nested():
            session.execute(sa.insert(table).values(name=name, value=value, created_at=clock.now()))
    except IntegrityError:
        found = session.execute(sa.select(table.c.value).where(table.c.name == name)).scalar()
        assert found is not None
        return bytes(found)
    return value
