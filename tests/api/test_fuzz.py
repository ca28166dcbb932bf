"""The whole API, fuzzed from its own OpenAPI schema (schemathesis): no request gets a
5xx, and every answer matches the schema.

Bounded and deterministic: a fixed number of examples per operation, derandomized, on
a small demo desk on SQLite (so ids 1, 2, 3 … name real records), as an admin (every
route open to it).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from keepwell import clock, db
from keepwell.accounts.service import add_member
from keepwell.accounts.tokens import create_token
from keepwell.ingest.demo import build_world
from keepwell.web.app import create_app
from keepwell.web.deps import Runtime

EXAMPLES = 12
CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
    content_type_conformance,
]


# The schema is the app's own; the app gets its database (Runtime) per test module.
app = create_app(db.make_engine("sqlite://"))
schema = schemathesis.openapi.from_asgi("/api/openapi.json", app)


@pytest.fixture(scope="module")
def fuzz_token(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    path: Path = tmp_path_factory.mktemp("fuzz") / "fuzz.db"
    engine = db.make_engine(f"sqlite:///{path}")
    db.upgrade(engine)
    build_world(engine, customers=40, seed=7)
    with db.transaction(engine) as session:
        admin = add_member(session, "fuzz@shop.example", "Fuzz", "admin")
        _, secret = create_token(session, admin, "fuzz")
    app.state.keepwell = Runtime.for_engine(engine)
    yield secret
    engine.dispose()


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_no_request_gets_a_5xx_or_an_answer_off_the_schema(case: Any, fuzz_token: str) -> None:
    with clock.frozen("2026-11-25T09:30:00"):
        case.call_and_validate(headers={"Authorization": f"Bearer {fuzz_token}"}, checks=CHECKS)
