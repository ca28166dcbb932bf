"""How a page route answers the domain's refusals: each as a page with its own status."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from keepwell.errors import Conflict, InvalidInput, NotFound
from keepwell.web.app import create_app
from keepwell.web.pages import page_router


@pytest.mark.parametrize(
    ("refusal", "status", "title"),
    [
        (Conflict("version", "someone changed it meanwhile; load it again"), 409, "Changed meanwhile"),
        (InvalidInput("due", "give a date"), 422, "That did not work"),
        (NotFound("no customer #7"), 404, "Not found"),
    ],
)
def test_a_refusal_is_answered_as_a_page_with_its_status(
    sqlite_engine: Engine, refusal: Exception, status: int, title: str
) -> None:
    app = create_app(sqlite_engine)
    router = page_router()

    @router.get("/test-refusal")
    def refuse() -> None:
        raise refusal

    app.include_router(router)
    with TestClient(app, base_url="https://testserver") as client:
        answer = client.get("/test-refusal")
    assert answer.status_code == status
    assert title in answer.text
    assert "text/html" in answer.headers["content-type"]
