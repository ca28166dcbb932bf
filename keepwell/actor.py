"""Who is acting: the member (or the command line, or a job) that changes made now are
recorded for in the audit trail (keepwell/accounts/audit.py). Kept apart, with no
database imports, so that a command can say who it is before it loads anything."""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    """Who is acting: a member (None for the command line or a job) and by which way."""

    member_id: int | None
    via: str


NOBODY = Actor(None, "")
current: contextvars.ContextVar[Actor | None] = contextvars.ContextVar(
    "keepwell_actor", default=None
)


@contextmanager
def acting(actor: Actor) -> Iterator[Actor]:
    """Record changes made inside the block as `actor`'s."""
    token = current.set(actor)
    try:
        yield actor
    finally:
        current.reset(token)


def set_default_actor(actor: Actor) -> None:
    """Record changes as `actor`'s from now on in this context (the command line)."""
    current.set(actor)
