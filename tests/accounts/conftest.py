"""The API desk fixtures, shared with tests/api."""

from tests.api.conftest import desk, sqlite_desk

__all__ = ["desk", "sqlite_desk"]
