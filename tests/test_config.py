from __future__ import annotations

from pathlib import Path

import pytest

from keepwell import config
from keepwell.errors import ConfigError


def test_explicit_url_wins_over_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(config.ENV_DATABASE_URL, "postgresql://u@h/db")
    assert config.database_url() == "postgresql+psycopg://u@h/db"
    assert config.database_url(str(tmp_path / "x.db")) == f"sqlite:///{tmp_path / 'x.db'}"


def test_default_is_a_file_in_the_user_data_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv(config.ENV_DATABASE_URL, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert config.database_url() == f"sqlite:///{tmp_path / 'keepwell' / 'keepwell.db'}"
    assert (tmp_path / "keepwell").is_dir()


def test_unknown_scheme_is_refused() -> None:
    with pytest.raises(ConfigError, match="unsupported database URL scheme 'mysql'"):
        config.database_url("mysql://root@localhost/x")
