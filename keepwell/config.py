"""Where the database is, and other settings read from the environment."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

from keepwell.errors import ConfigError

ENV_DATABASE_URL = "KEEPWELL_DATABASE_URL"


def default_database_path() -> Path:
    """The SQLite file used when nothing else is said: in the user's data directory."""
    return Path(platformdirs.user_data_dir("keepwell", appauthor=False)) / "keepwell.db"


def sqlite_url(path: Path | str) -> str:
    return f"sqlite:///{Path(path).expanduser().resolve()}"


def database_url(explicit: str | None = None) -> str:
    """Resolve the database URL: `--database`, then KEEPWELL_DATABASE_URL, then the default file.

    A bare path (no `://`) is taken as a SQLite file. `postgresql://` URLs use psycopg 3.
    """
    raw = explicit or os.environ.get(ENV_DATABASE_URL) or ""
    if not raw:
        path = default_database_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        return sqlite_url(path)
    if "://" not in raw:
        return sqlite_url(raw)
    scheme = raw.split("://", 1)[0]
    if scheme in ("postgresql", "postgres"):
        return "postgresql+psycopg://" + raw.split("://", 1)[1]
    if scheme.startswith(("sqlite", "postgresql+")):
        return raw
    raise ConfigError(
        f"unsupported database URL scheme {scheme!r}: use a SQLite file path, "
        "sqlite:///PATH or postgresql://USER@HOST/DB"
    )
