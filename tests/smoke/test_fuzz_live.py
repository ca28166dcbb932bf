"""Schemathesis against a live `keepwell serve` (a process of its own, over HTTP): no
request gets a 5xx, and every answer matches the schema.

tests/api/test_fuzz.py fuzzes the app in-process (ASGI); this run goes through what a
client meets: uvicorn, the server's own imports and its scheduler. It is bounded — a
few derandomized examples per operation — to keep it near a minute. Generated bodies
seldom pass validation, so this run mostly proves that bad requests get 4xx; the smoke
cases (test_api_live.py) are the ones that reach every write.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from keepwell import config, db
from tests.smoke.process import environment, keepwell
from tests.smoke.server import ADMIN, TOKEN_NAME, Served, serving

EXAMPLES = 4
CUSTOMERS = 40  # on the fuzzed demo desk
CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
    content_type_conformance,
]


def grounded(case: Any) -> Any:
    """Point generated ids at the desk's records (1 … CUSTOMERS), so that most requests
    get past "no such record" into the code that writes (negative ids stay as made, and
    tests/api/test_fuzz.py tries ids of every size)."""
    path = case.path_parameters or {}
    for name, value in path.items():
        if name.endswith("_id") and type(value) is int and value >= 0:
            path[name] = value % CUSTOMERS + 1
    body = case.body
    parts = [body] + (body.get("orders") or [] if isinstance(body, dict) else [])
    for part in parts:
        if isinstance(part, dict) and type(part.get("customer_id")) is int:
            part["customer_id"] = abs(part["customer_id"]) % CUSTOMERS + 1
    return case


def restore_access(served: Served) -> None:
    """Undo what the fuzzer may do to its own access (revoke its token, demote or
    deactivate its member, both allowed to an admin): else every operation after that
    would only get 401."""
    engine = db.make_engine(config.database_url(served.database))
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.text("UPDATE api_tokens SET revoked_at = NULL WHERE name = :name"),
                {"name": TOKEN_NAME},
            )
            conn.execute(
                sa.text(
                    "UPDATE team_members SET active = :yes, role = 'admin' WHERE email = :email"
                ),
                {"yes": True, "email": ADMIN},
            )
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """A small demo desk (ids 1, 2, 3 … are real records), served."""
    home = tmp_path_factory.mktemp("fuzz-live")
    path = home / "fuzz.db"
    keepwell(
        "demo",
        "--no-serve",
        "--customers",
        "40",
        "--seed",
        "7",
        "--database",
        str(path),
        env=environment(home),
    )
    with serving(f"sqlite:///{path}", home, fresh=False) as served:
        yield served


def test_no_request_to_the_live_server_gets_a_5xx(fuzzed: Served) -> None:
    schema = schemathesis.openapi.from_url(f"{fuzzed.url}/api/openapi.json")
    headers = {"Authorization": f"Bearer {fuzzed.token}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 100
    failures: list[str] = []
    for operation in operations:

        @given(case=operation.as_strategy().map(grounded))
        @settings(
            max_examples=EXAMPLES,
            derandomize=True,
            database=None,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def fuzz(case: Any) -> None:
            case.call_and_validate(headers=headers, checks=CHECKS)

        try:
            fuzz()
        except Exception as exc:  # noted; every operation is still tried
            failures.append(f"{operation.label}: {exc}")
        finally:
            restore_access(fuzzed)
    assert not failures, "\n\n".join(failures)
