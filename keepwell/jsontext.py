"""JSON that people send: a setting's value, a playbook's parameters, a request body.

Its nesting is bounded (MAX_DEPTH levels of lists and maps): Python's parser, the
checks and the audit trail all walk a value by recursion, and a value nested some
thousand levels deep would stop them with a RecursionError (a 500) instead of a clear
refusal. Text in it holds no NUL character (PostgreSQL stores none).

`parse` reads JSON text, `check` a value that was parsed elsewhere (by the API's schema,
say); both raise InvalidInput naming the field. `nested_too_deep` looks at JSON text
without parsing it, for a request body before anything parses it.
"""

from __future__ import annotations

import json
from typing import Any

from keepwell.errors import InvalidInput

MAX_DEPTH = 32
NUL_REASON = "a NUL character is not allowed in text"
_NOT_STRUCTURE = bytes(b for b in range(256) if b not in b'[]{}"')


def too_deep_reason(limit: int = MAX_DEPTH) -> str:
    return f"nested deeper than {limit} levels of lists and maps"


def nested_too_deep(text: str | bytes, limit: int = MAX_DEPTH) -> bool:
    """Whether JSON text opens more than `limit` lists or maps inside each other, found
    without parsing it (brackets inside strings do not count)."""
    data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    if data.count(b"[") + data.count(b"{") <= limit:  # cannot nest deeper: most bodies
        return False
    if b"\\" in data:  # escapes gone: escaped backslashes first, then escaped quotes
        data = data.replace(b"\\\\", b"").replace(b'\\"', b"")
    # the pieces between quotes are by turns outside a string and inside one
    brackets = b"".join(data.translate(None, _NOT_STRUCTURE).split(b'"')[::2])
    depth = 0
    for byte in brackets:
        if byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def problem(value: Any, limit: int = MAX_DEPTH) -> str | None:
    """Why a parsed JSON value is refused (too deep, or NUL in a text or key), or None."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return NUL_REASON
            continue
        if isinstance(item, dict):
            children: list[Any] = [*item.keys(), *item.values()]
        elif isinstance(item, list | tuple):
            children = list(item)
        else:
            continue
        if depth >= limit:
            return too_deep_reason(limit)
        stack.extend((child, depth + 1) for child in children)
    return None


def check(field: str, value: Any) -> Any:
    """`value`, or InvalidInput naming `field` when it nests too deep or holds a NUL."""
    reason = problem(value)
    if reason is not None:
        raise InvalidInput(field, reason)
    return value


def parse(field: str, text: str, *, hint: str = "") -> Any:
    """The value JSON `text` holds, or InvalidInput naming `field`: not JSON (with
    `hint` after the reason), nested too deep, or a NUL character in a text."""
    if nested_too_deep(text):
        raise InvalidInput(field, too_deep_reason())
    try:
        value = json.loads(text)
    except (ValueError, RecursionError) as exc:
        detail = exc.args[0][:80] if exc.args and isinstance(exc.args[0], str) else "unreadable"
        raise InvalidInput(field, f"not JSON ({detail})" + (f": {hint}" if hint else "")) from None
    return check(field, value)
