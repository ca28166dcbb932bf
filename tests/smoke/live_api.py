"""The smoke suite's API client: `Api.call` names each request's operation as the
OpenAPI schema does ("POST /api/promises/{promise_id}/keep") and notes every answer that
is not the expected one; `area` registers the cases (tests/smoke/api_cases.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import httpx

from tests.smoke.process import NOW

TODAY = date.fromisoformat(NOW[:10])


def day(offset: int) -> str:
    return (TODAY + timedelta(days=offset)).isoformat()


def moment(offset: int, hour: int = 17) -> str:
    return f"{day(offset)}T{hour:02d}:00:00Z"


@dataclass
class Api:
    client: httpx.Client
    called: set[str] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)
    ids: dict[str, Any] = field(default_factory=dict)

    def call(
        self,
        operation: str,
        expect: int,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        client: httpx.Client | None = None,
        **path: Any,
    ) -> Any:
        """Make the request; a 5xx or another status than `expect` is a problem (noted, and
        the area stops: what follows needs this answer). The JSON answer, if any."""
        method, template = operation.split(" ", 1)
        response = (client or self.client).request(
            method, template.format(**path), json=json, params=params, headers=headers
        )
        self.called.add(operation)
        if response.status_code != expect:
            problem = (
                f"{operation}: {response.status_code}, expected {expect}: {response.text[:500]}"
            )
            self.problems.append(problem)
            raise AssertionError(problem)
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    def page(self, url: str, expect: int, kind: str) -> None:
        """A page outside the API (no token): a survey, a calendar feed. Its URL names the
        desk's public address; the path is asked of the server under test."""
        response = httpx.get(str(self.client.base_url.join(httpx.URL(url).path)), timeout=60)
        kind_got = response.headers.get("content-type", "")
        if response.status_code != expect or not kind_got.startswith(kind):
            problem = f"GET {url}: {response.status_code} {kind_got}, expected {expect} {kind}"
            self.problems.append(problem)
            raise AssertionError(problem)


Area = Callable[[Api], None]
AREAS: list[tuple[Area, tuple[str, ...]]] = []


def area(*operations: str) -> Callable[[Area], Area]:
    """The operations an area calls (test_every_operation_has_a_smoke_case reads them)."""

    def register(fn: Area) -> Area:
        AREAS.append((fn, operations))
        return fn

    return register


def operations() -> set[str]:
    return {op for _, ops in AREAS for op in ops}
