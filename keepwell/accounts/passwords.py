"""Passwords: Argon2id hashes (argon2-cffi, RFC 9106's low-memory profile), never stored
or logged in the clear."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from keepwell.errors import InvalidInput

MIN_LENGTH = 10
MAX_LENGTH = 1024  # Argon2 takes any length; this only bounds the work a request can ask

_hasher = PasswordHasher()

# Called, with no arguments, as each password check starts (in whatever thread checks):
# how tests and benchmarks see the work a sign-in does, and what holds meanwhile.
_watchers: list[Callable[[], None]] = []
_watchers_lock = threading.Lock()


@contextmanager
def watching(callback: Callable[[], None]) -> Iterator[None]:
    """Call `callback` at the start of every password check made while the block runs."""
    with _watchers_lock:
        _watchers.append(callback)
    try:
        yield
    finally:
        with _watchers_lock:
            _watchers.remove(callback)


def check_password(password: str) -> None:
    """Refuse a password too short to resist guessing (or absurdly long)."""
    if len(password) < MIN_LENGTH:
        raise InvalidInput("password", f"use at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise InvalidInput("password", f"use at most {MAX_LENGTH} characters")


def hash_password(password: str) -> str:
    check_password(password)
    return _hasher.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """Whether `password` matches the stored hash. Without a hash, a dummy one is checked
    all the same, so an unknown e-mail takes as long to refuse as a wrong password."""
    for watcher in list(_watchers):
        watcher()
    if len(password) > MAX_LENGTH:
        return False
    try:
        return _hasher.verify(stored or _dummy_hash(), password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """Whether the hash was made with weaker parameters than today's."""
    try:
        return _hasher.check_needs_rehash(stored)
    except InvalidHashError:
        return True


def rehashed(stored: str, password: str) -> str | None:
    """A new hash of the (just verified) password when the stored one was made with weaker
    parameters than today's; else None. No length rule: the password was accepted once."""
    return _hasher.hash(password) if needs_rehash(stored) else None


def generate_password() -> str:
    """A random password of 20 URL-safe characters (120 bits)."""
    return secrets.token_urlsafe(15)


@cache
def _dummy_hash() -> str:
    return _hasher.hash(secrets.token_urlsafe(16))
