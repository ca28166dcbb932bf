"""Survey links: a token that names one invitation and its expiry, signed (HMAC-SHA256).

A token is `ID.EXPIRES.MAC`: the invitation's id, its expiry in Unix seconds, and the
MAC of both together with the customer and the kind of survey the invitation is for,
under the desk's "survey" secret. So a token cannot be made or changed without the
key, and a genuine token opens only its own customer's own survey. Pure: the key and
the invitation's fields in, text out; the database checks (used, expired) are the
service's.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass

MAX_TOKEN = 120
_TOKEN = re.compile(r"^([1-9][0-9]{0,17})\.([0-9]{1,12})\.([A-Za-z0-9_-]{43})$")


@dataclass(frozen=True)
class Token:
    invitation_id: int
    expires: int  # Unix seconds
    mac: str


def _mac(key: bytes, invitation_id: int, customer_id: int, kind: str, expires: int) -> str:
    message = f"keepwell-survey:v1:{invitation_id}:{customer_id}:{kind}:{expires}".encode()
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def sign(key: bytes, invitation_id: int, customer_id: int, kind: str, expires: int) -> str:
    """The token of an invitation (`expires` in Unix seconds)."""
    return f"{invitation_id}.{expires}.{_mac(key, invitation_id, customer_id, kind, expires)}"


def parse(token: str) -> Token | None:
    """The parts of a well-formed token, or None (not a token at all)."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN:
        return None
    found = _TOKEN.match(token)
    if found is None:
        return None
    return Token(int(found.group(1)), int(found.group(2)), found.group(3))


def genuine(key: bytes, token: Token, customer_id: int, kind: str) -> bool:
    """Whether `token` was signed with `key` for this customer's survey of this kind."""
    expected = _mac(key, token.invitation_id, customer_id, kind, token.expires)
    return hmac.compare_digest(expected, token.mac)
