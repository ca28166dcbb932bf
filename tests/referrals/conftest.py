"""The API desk fixture for this folder's tests (tests/api/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine

from tests.api.conftest import Desk, make_desk


@pytest.fixture
def desk(engine: Engine) -> Iterator[Desk]:
    """On SQLite and on PostgreSQL."""
    made = make_desk(engine)
    with made.client:
        yield made
