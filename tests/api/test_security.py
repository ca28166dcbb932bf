"""Hostile input: oversized bodies, SQL injection and path traversal through every text
parameter, tokens in URLs. Nothing of it reaches a 5xx, leaks data or writes anything."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from keepwell.web.limits import MAX_BODY_BYTES
from tests.api.conftest import Desk

INJECTIONS = [
    "' OR '1'='1",
    "'; DROP TABLE customers; --",
    '" OR ""="',
    "1 UNION SELECT password_hash FROM team_members --",
    "../../../../etc/passwd",
    "..%2F..%2Fetc%2Fpasswd",
    "%00",
    "\u0000",
    "ｓｅｌｅｃｔ",
    "x" * 5000,
]


def customers_count(desk: Desk) -> int:
    page = desk.client.get("/api/customers?limit=200", headers=desk.auth()).json()
    return len(page["items"])


@pytest.fixture
def populated(desk: Desk) -> Iterator[Desk]:
    for n in range(3):
        made = desk.client.post(
            "/api/customers",
            json={"name": f"Ana {n}", "external_id": f"C{n}", "email": f"ana{n}@example.com"},
            headers=desk.auth(),
        )
        assert made.status_code == 201, made.text
    yield desk


def string_query_parameters(desk: Desk) -> list[tuple[str, str]]:
    """(path, parameter) of every GET route's text query parameter, from the app's schema."""
    schema = desk.client.get("/api/openapi.json").json()
    found = []
    for path, operations in schema["paths"].items():
        get = operations.get("get")
        if not get or "{" in path:
            continue
        for parameter in get.get("parameters", []):
            kinds = [parameter.get("schema", {}), *parameter.get("schema", {}).get("anyOf", [])]
            if parameter["in"] == "query" and any(k.get("type") == "string" for k in kinds):
                found.append((path, parameter["name"]))
    return found


def test_injections_through_every_text_parameter_are_only_data(populated: Desk) -> None:
    desk = populated
    probed = string_query_parameters(desk)
    assert len(probed) >= 5  # the schema has text parameters to probe
    for path, name in probed:
        for payload in INJECTIONS:
            answer = desk.client.get(path, params={name: payload}, headers=desk.auth("admin"))
            assert answer.status_code < 500, (path, name, payload, answer.text)
            assert "$argon2" not in answer.text and "root:" not in answer.text
    # the search treats the payload as text: it matches no one, and nothing was dropped
    found = desk.client.get("/api/customers", params={"q": "' OR '1'='1"}, headers=desk.auth())
    assert found.status_code == 200 and found.json()["items"] == []
    assert customers_count(desk) == 3


@pytest.mark.parametrize(
    "path",
    ["/api/customers/..%2F..%2Fetc%2Fpasswd", "/api/customers/1%20OR%201=1", "/api/../etc/passwd"],
)
def test_traversal_and_injection_in_paths_are_refused(populated: Desk, path: str) -> None:
    answer = populated.client.get(path, headers=populated.auth())
    assert answer.status_code in (404, 422)
    assert "root:" not in answer.text


def test_an_oversized_body_is_refused_before_it_is_read(populated: Desk) -> None:
    desk = populated
    big = b'{"name": "' + b"x" * (MAX_BODY_BYTES + 10) + b'"}'
    answer = desk.client.post(
        "/api/customers", content=big, headers={**desk.auth(), "content-type": "application/json"}
    )
    assert answer.status_code == 413
    assert answer.json()["detail"][0]["field"] == "body"

    def chunks() -> Iterator[bytes]:  # no Content-Length: cut off as it passes the limit
        yield b'{"name": "'
        for _ in range(MAX_BODY_BYTES // 65536 + 2):
            yield b"x" * 65536
        yield b'"}'

    chunked = desk.client.post(
        "/api/customers",
        content=chunks(),
        headers={**desk.auth(), "content-type": "application/json"},
    )
    assert chunked.status_code == 413
    assert customers_count(desk) == 3  # nothing written


def test_tokens_are_taken_from_the_header_only(populated: Desk) -> None:
    token = populated.tokens["member"]
    for params in ({"access_token": token}, {"token": token}):
        assert populated.client.get("/api/customers", params=params).status_code == 401


def test_a_request_cannot_hold_postgresql_for_long(engine: object) -> None:
    """Each request's transaction carries a statement timeout on PostgreSQL."""
    from types import SimpleNamespace

    import sqlalchemy as sa

    from keepwell.web.deps import REQUEST_TIMEOUT_MS, Runtime, request_session

    if engine.dialect.name != "postgresql":  # type: ignore[attr-defined]
        pytest.skip("SQLite bounds waits with its busy timeout instead")
    request = SimpleNamespace(
        method="GET",
        state=SimpleNamespace(),
        app=SimpleNamespace(state=SimpleNamespace(keepwell=Runtime.for_engine(engine))),
    )  # type: ignore[arg-type]
    sessions = request_session(request)  # type: ignore[arg-type]
    session = next(sessions)
    shown = session.execute(sa.text("SHOW statement_timeout")).scalar()
    assert shown == f"{REQUEST_TIMEOUT_MS // 1000}s"
    assert next(sessions, None) is None  # the generator ends: the session is given back
