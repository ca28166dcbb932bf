"""Every API operation once against a real `keepwell serve`, on SQLite and PostgreSQL.

The desk is a plain one, as a user starts it: `keepwell init`, `keepwell user add`,
`keepwell token create`, then `keepwell serve` in its own process, which imports only
what serving needs. (POST /api/orders once answered 500 exactly there, while the
in-process tests passed: orders.import_id could not find the imports table.)
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from keepwell import db
from keepwell.web.app import create_app
from tests.outreach.smtp import SmtpServer
from tests.smoke import api_cases  # noqa: F401 (the cases: registered on import)
from tests.smoke.live_api import AREAS, Api, moment, operations
from tests.smoke.process import keepwell
from tests.smoke.server import Served, empty_postgres_database, free_port, serving


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def live(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    home = tmp_path_factory.mktemp(f"serve-{request.param}")
    if request.param == "sqlite":
        with serving(f"sqlite:///{home / 'keepwell.db'}", home) as served:
            yield served
    else:
        with empty_postgres_database("api") as url, serving(url, home) as served:
            yield served


def schema_operations(schema: dict[str, Any]) -> set[str]:
    return {
        f"{method.upper()} {path}"
        for path, methods in schema["paths"].items()
        for method in methods
        if method in ("get", "post", "put", "patch", "delete")
    }


def test_every_operation_has_a_smoke_case() -> None:
    schema = create_app(db.make_engine("sqlite://")).openapi()
    declared = operations()
    missing = sorted(schema_operations(schema) - declared)
    assert not missing, (
        f"operations with no smoke case in tests/smoke/api_cases.py (@area): {missing}"
    )
    assert not declared - schema_operations(schema), "smoke cases for operations that are gone"


def test_orders_answer_201_on_a_plain_desk(live: Served) -> None:
    """The regression: on a desk fresh from `keepwell init`, served by `keepwell serve`."""
    with live.client() as client:
        made = client.post("/api/customers", json={"name": "Ola Berg"})
        assert made.status_code == 201, made.text
        order = {
            "customer_id": made.json()["id"],
            "ordered_at": moment(-3, 11),
            "amount_minor": 1990,
            "currency": "EUR",
            "product": "Filters",
        }
        one = client.post("/api/orders", json=order)
        assert one.status_code == 201, one.text
        bulk = client.post("/api/orders/bulk", json={"orders": [order, order]})
        assert bulk.status_code == 201, bulk.text
        assert bulk.json()["created"] == 2


def test_the_schema_is_whole(live: Served) -> None:
    """Every $ref of /api/openapi.json names a schema it defines (else /api/docs and
    client generators fail on that operation)."""
    schema = httpx.get(f"{live.url}/api/openapi.json", timeout=30).json()
    text = json.dumps(schema)
    refs = {part.split('"')[0] for part in text.split('"$ref": "#/components/schemas/')[1:]}
    assert refs and not sorted(refs - set(schema["components"]["schemas"]))


def test_every_operation_once_answers_as_expected(live: Served, smtp_server: SmtpServer) -> None:
    schema = httpx.get(f"{live.url}/api/openapi.json", timeout=30).json()
    with live.client() as client:
        api = Api(client)
        api.ids.update(undelivered(live, client, smtp_server))
        for run, declared in AREAS:
            try:
                run(api)
            except (AssertionError, LookupError, TypeError) as exc:  # the other areas still run
                if not api.problems or str(exc) != api.problems[-1]:
                    api.problems.append(f"{run.__name__}: {type(exc).__name__}: {exc}")
            missing = set(declared) - api.called
            if missing and not api.problems:
                api.problems.append(f"{run.__name__} declared but did not call {sorted(missing)}")
    assert not api.problems, "\n".join(api.problems)
    assert api.called == schema_operations(schema)


def undelivered(live: Served, client: httpx.Client, smtp: SmtpServer) -> dict[str, int]:
    """Two notes the outbox could not deliver, queued through the API and handed over by
    `keepwell outreach send` (or by the server's own scheduler, whichever comes first):
    one to an SMTP port where nothing listens (failed), one to a real server that drops
    the connection once it has the text (unconfirmed)."""

    def note(name: str, email: str) -> tuple[int, int]:
        made = client.post(
            "/api/customers", json={"name": name, "email": email, "marketing_consent": True}
        )
        assert made.status_code == 201, made.text
        customer = made.json()["id"]
        body = {"customer_id": customer, "subject": "Hello", "body": "A note"}
        queued = client.post("/api/outreach/notes", json=body)
        assert queued.status_code == 201 and queued.json()["queued"], queued.text
        return customer, int(queued.json()["message_id"])

    def deliver_to(host: str, port: int) -> None:
        setting = {"host": host, "port": port, "tls": "off", "from": "desk@shop.example"}
        keepwell("setting", "set", "outreach.smtp", json.dumps(setting), env=live.env)
        keepwell("outreach", "send", env=live.env, expect=None)

    def settled(customer: int, message: int, status: str) -> int:
        deadline = time.monotonic() + 120  # the scheduler may hold it for a moment
        while True:
            rows = client.get("/api/outreach/messages", params={"customer": customer}).json()
            found = {m["id"]: m["status"] for m in rows}
            if found.get(message) == status:
                return message
            assert found.get(message) in ("queued", "sending"), found
            assert time.monotonic() < deadline, found
            time.sleep(0.2)

    customer, failed = note("Eli Park", "eli@example.com")
    deliver_to("127.0.0.1", free_port())
    settled(customer, failed, "failed")
    smtp.inbox.answers.append("drop")
    customer, lost = note("Fay Lind", "fay@example.com")
    deliver_to(smtp.host, smtp.port)
    settled(customer, lost, "unconfirmed")
    return {"failed_message": failed, "unconfirmed_message": lost}
