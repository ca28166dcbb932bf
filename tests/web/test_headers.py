"""Every answer carries the security headers: a page, an API answer, error pages and
answers made outside the routes (413, 500); HSTS only over HTTPS; the pages' templates
hold nothing the Content-Security-Policy would block (no inline script or style)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from keepwell.web.headers import HSTS, NOTHING_POLICY, PAGE_POLICY
from keepwell.web.limits import MAX_BODY_BYTES
from keepwell.web.pages import TEMPLATES_DIR
from tests.api.conftest import Desk, make_desk

COMMON = {
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "strict-transport-security": HSTS,
}


@pytest.fixture
def desk(sqlite_engine: Engine) -> Iterator[Desk]:
    made = make_desk(sqlite_engine)

    def broken() -> None:
        raise RuntimeError("a bug")

    made.app.add_api_route("/api/broken", broken)  # a route that fails, for the 500
    made.client = TestClient(made.app, base_url="https://testserver", raise_server_exceptions=False)
    with made.client:
        yield made


def assert_headers(answer: object, policy: str, **expected: str) -> None:
    headers = answer.headers  # type: ignore[attr-defined]
    for name, value in {**COMMON, **expected}.items():
        assert headers.get(name) == value, (answer.request.url, name, headers)  # type: ignore[attr-defined]
    assert headers["content-security-policy"] == policy


def test_a_page_an_api_answer_and_error_pages_carry_them(desk: Desk) -> None:
    page = desk.client.get("/sign-in")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert_headers(page, PAGE_POLICY)
    for directive in ("script-src 'self'", "style-src 'self'", "frame-ancestors 'none'"):
        assert directive in page.headers["content-security-policy"]
    assert "unsafe" not in PAGE_POLICY  # no inline script or style, no eval

    api = desk.client.get("/api/customers", headers=desk.auth())
    assert api.status_code == 200
    assert_headers(api, NOTHING_POLICY)

    missing = desk.client.get("/customers/999999", headers=desk.auth())  # the error page
    assert missing.status_code == 404 and "Not found" in missing.text
    assert_headers(missing, PAGE_POLICY)
    for status, answer in (
        (401, desk.client.get("/api/customers")),
        (404, desk.client.get("/api/nothing-here")),
        (413, desk.client.post("/api/customers", content=b"x" * (MAX_BODY_BYTES + 1),
                               headers={**desk.auth(), "Content-Type": "application/json"})),
        (500, desk.client.get("/api/broken", headers=desk.auth())),
        (200, desk.client.get("/static/keepwell.css")),
    ):  # fmt: skip
        assert answer.status_code == status
        assert_headers(answer, NOTHING_POLICY)


def test_hsts_only_over_https(sqlite_engine: Engine) -> None:
    desk = make_desk(sqlite_engine)
    with TestClient(desk.app, base_url="http://testserver") as plain:
        answer = plain.get("/sign-in")
    assert answer.headers["x-frame-options"] == "DENY"
    assert "strict-transport-security" not in answer.headers


def test_pages_with_a_policy_of_their_own_keep_it(desk: Desk) -> None:
    docs = desk.client.get("/api/docs")
    assert docs.status_code == 200
    policy = docs.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-eval" not in policy
    assert "<script>" not in docs.text and '<script src="/static/api-docs.js">' in docs.text
    link = desk.client.get("/u/1.forged")  # the unsubscribe page, public
    assert link.status_code == 400
    assert "script" not in link.headers["content-security-policy"]
    assert link.headers["referrer-policy"] == "no-referrer"
    assert link.headers["x-frame-options"] == "DENY"


INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I), "an inline <script>"),
    (re.compile(r"<style\b", re.I), "a <style> element"),
    (re.compile(r"\sstyle=", re.I), "a style attribute"),
    (re.compile(r"\son[a-z]+=", re.I), "an inline event handler"),
    (re.compile(r"\shx-on", re.I), "hx-on (htmx evaluates it as script)"),
    (re.compile(r"javascript:", re.I), "a javascript: URL"),
]


def test_the_pages_hold_nothing_the_policy_blocks() -> None:
    found = []
    for path in sorted(Path(TEMPLATES_DIR).rglob("*.html")):
        text = path.read_text(encoding="utf-8")
        for pattern, what in INLINE:
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                found.append(f"{path.name}:{line}: {what}")
    assert found == []
