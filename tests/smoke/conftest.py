"""Smoke-test fixtures: a demo desk built once per worker by `keepwell demo`, copied for
each test that writes to it."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.outreach.smtp import smtp_server  # noqa: F401 (a real SMTP server, a fixture)
from tests.smoke.process import Desk, Result, environment, keepwell

pytest.register_assert_rewrite("tests.smoke.api_cases")  # their asserts explain themselves

DEMO_CUSTOMERS = 100
DEMO_SEED = 1
MODEL_CUSTOMERS = 400


@dataclass
class Demo:
    path: Path
    built: Result  # what `keepwell demo --json` printed

    @property
    def shown(self) -> Any:
        return self.built.json()


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    """The demo desk, built by the `keepwell demo` command itself (about 4 s)."""
    where = tmp_path_factory.mktemp("demo")
    path = where / "demo.db"
    built = keepwell(
        "demo",
        "--no-serve",
        "--customers",
        str(DEMO_CUSTOMERS),
        "--seed",
        str(DEMO_SEED),
        "--database",
        str(path),
        "--json",
        env=environment(where),
    )
    return Demo(path, built)


@pytest.fixture
def desk(demo: Demo, tmp_path: Path) -> Desk:
    """A copy of the demo desk, this test's own."""
    path = tmp_path / "desk.db"
    shutil.copy(demo.path, path)
    wal = demo.path.with_name(demo.path.name + "-wal")
    if wal.exists():  # a log not yet folded into the file holds part of the desk
        shutil.copy(wal, path.with_name(path.name + "-wal"))
    (tmp_path / "home").mkdir()
    return Desk(path, tmp_path / "home")


@pytest.fixture
def model_desk(tmp_path: Path) -> Desk:
    """A 400-customer demo desk: enough customers for every customer model to fit (on
    the 100-customer desk BG/NBD's b runs off)."""
    (tmp_path / "home").mkdir()
    path = tmp_path / "models.db"
    keepwell(
        "demo", "--no-serve", "--customers", str(MODEL_CUSTOMERS), "--seed", str(DEMO_SEED),
        "--database", str(path), "--json", env=environment(tmp_path / "home"),
    )  # fmt: skip
    return Desk(path, tmp_path / "home")


@pytest.fixture
def empty_desk(tmp_path: Path) -> Desk:
    """A desk made by `keepwell init`, with nothing on it."""
    (tmp_path / "home").mkdir(exist_ok=True)
    made = Desk(tmp_path / "empty.db", tmp_path / "home")
    result = made.run("init")
    assert "Created" in result.out
    return made
