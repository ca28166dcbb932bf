"""The whole API, fuzzed from its own OpenAPI schema (schemathesis): no request gets a
5xx, and every answer matches the schema.

Bounded and deterministic: a fixed number of examples per operation, derandomized, on
a small demo desk on SQLite (so ids 1, 2, 3 … name real records), as an admin (every
route open to it).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import schemathesis
import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy.engine import Engine

from keepwell import clock, db
from keepwell.accounts.models import ApiToken, TeamMember
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


@dataclass
class FuzzAuth:
    secret: str
    token_id: int
    member_id: int
    engine: Engine

    def restore(self) -> None:
        """Undo what a case may do to the fuzzer's own access (DELETE /api/tokens/1 revokes
        its token, PATCH /api/members/ID can demote or deactivate it): else every case
        after that one would only be a 401."""
        with self.engine.begin() as conn:
            conn.execute(
                sa.update(ApiToken).where(ApiToken.id == self.token_id).values(revoked_at=None)
            )
            conn.execute(
                sa.update(TeamMember)
                .where(TeamMember.id == self.member_id)
                .values(active=True, role="admin")
            )


@pytest.fixture(scope="module")
def fuzz_auth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FuzzAuth]:
    path: Path = tmp_path_factory.mktemp("fuzz") / "fuzz.db"
    engine = db.make_engine(f"sqlite:///{path}")
    db.upgrade(engine)
    build_world(engine, customers=40, seed=7)
    with db.transaction(engine) as session:
        admin = add_member(session, "fuzz@shop.example", "Fuzz", "admin")
        token, secret = create_token(session, admin, "fuzz")
        auth = FuzzAuth(secret, token.id, admin.id, engine)
    app.state.keepwell = Runtime.for_engine(engine)
    yield auth
    engine.dispose()


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_no_request_gets_a_5xx_or_an_answer_off_the_schema(case: Any, fuzz_auth: FuzzAuth) -> None:
    try:
        with clock.frozen("2026-11-25T09:30:00"):
            headers = {"Authorization": f"Bearer {fuzz_auth.secret}"}
            case.call_and_validate(headers=headers, checks=CHECKS)
    finally:
        fuzz_auth.restore()
