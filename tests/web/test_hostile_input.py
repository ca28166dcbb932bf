"""What an outside probe sends the pages and the API, on SQLite and PostgreSQL: a NUL
character in a form, a query string or a JSON value, and JSON nested hundreds of levels
deep. Each is refused with a clear 422 — a page for a page (the form shown again, with
what was typed and why), JSON for the API — and nothing is stored."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from keepwell import db, jsontext
from keepwell.accounts.models import TeamMember
from keepwell.accounts.service import add_user
from keepwell.accounts.tokens import create_token
from keepwell.cli import app as cli
from keepwell.customers.models import Customer
from keepwell.customers.service import create_customer
from keepwell.errors import InvalidInput
from keepwell.feedback import surveys
from keepwell.feedback.models import Feedback
from keepwell.settings.models import Setting
from keepwell.touches.models import Touch
from keepwell.web.app import create_app

PASSWORD = "a long enough password"
NUL = "a NUL character is not allowed in text"
DEEP = "[" * 900 + "]" * 900
TOO_DEEP = "JSON nested deeper than 32 levels of lists and maps"


@dataclass
class Desk:
    engine: Engine
    client: TestClient  # signed in as an admin, in a browser's way (cookie, CSRF token)
    token: str  # the admin's API token
    customer_id: int

    def count(self, model: type) -> int:
        with db.transaction(self.engine) as session:
            return int(session.scalar(sa.select(sa.func.count()).select_from(model)) or 0)

    def form(self, **fields: str) -> dict[str, str]:
        return {**fields, "csrf_token": self.client.cookies.get("keepwell_csrf") or ""}


@pytest.fixture
def desk(engine: Engine) -> Iterator[Desk]:
    with db.transaction(engine) as session:
        admin, _ = add_user(session, "admin@shop.example", role="admin", password=PASSWORD)
        _, token = create_token(session, admin, "probe")
        customer_id = create_customer(session, {"name": "Ana Lima"}).id
    client = TestClient(create_app(engine), base_url="https://testserver")
    with client:
        signed = client.post(
            "/sign-in", data={"email": "admin@shop.example", "password": PASSWORD},
            follow_redirects=False,
        )  # fmt: skip
        assert signed.status_code == 303
        yield Desk(engine, client, token, customer_id)


def is_page(answer: object) -> bool:
    return answer.headers["content-type"].startswith("text/html")  # type: ignore[attr-defined]


# --- NUL -------------------------------------------------------------------------------


def test_a_nul_in_a_form_shows_the_form_again_and_stores_nothing(desk: Desk) -> None:
    path = f"/customers/{desk.customer_id}/interactions"
    # htmx: the refusal is swapped in beside the form
    answer = desk.client.post(
        path, data=desk.form(summary="Called\x00 her", channel="call"),
        headers={"HX-Request": "true"},
    )  # fmt: skip
    assert answer.status_code == 422 and is_page(answer)
    assert f"summary: {NUL}" in answer.text
    assert answer.headers["HX-Retarget"] == "#log-error"
    # without JavaScript: a page that says so
    answer = desk.client.post(path, data=desk.form(summary="Called\x00 her", channel="call"))
    assert answer.status_code == 422 and is_page(answer) and NUL in answer.text
    assert desk.count(Touch) == 0

    # the settings form comes back with what was typed and why
    typed = '{"greeting": "Hi\\u0000"}'
    answer = desk.client.post("/admin/settings", data=desk.form(key="mail.style", value=typed))
    assert answer.status_code == 422 and is_page(answer)
    assert f"value: {NUL}" in answer.text
    assert '<form method="post" action="/admin/settings">' in answer.text
    assert "{&#34;greeting&#34;: &#34;Hi\\u0000&#34;}" in answer.text
    # and a NUL in a form field itself, on the members form
    before = desk.count(TeamMember)
    answer = desk.client.post(
        "/admin/members", data=desk.form(email="bea@shop.example", name="Bea\x00", role="member")
    )
    assert answer.status_code == 422 and is_page(answer)
    assert (
        f"name: {NUL}" in answer.text
        and '<form method="post" action="/admin/members">' in answer.text
    )
    assert desk.count(TeamMember) == before
    assert desk.count(Setting) == 0


def test_a_nul_in_a_query_string_is_refused_before_anything_streams(desk: Desk) -> None:
    for path in ("/customers/export.csv?q=%00", "/customers?q=a%00b", "/tasks?status=%00"):
        answer = desk.client.get(path)
        assert answer.status_code == 422 and is_page(answer), (path, answer.text[:200])
        assert NUL in answer.text
    answer = desk.client.get(
        "/api/customers?q=%00", headers={"Authorization": f"Bearer {desk.token}"}
    )
    assert answer.status_code == 422
    assert answer.json() == {"detail": [{"field": "q", "reason": NUL}]}
    # and the API refuses NUL inside a JSON value, not only in its top-level text
    answer = desk.client.patch(
        "/api/playbooks/1", json={"trigger_params": {"years": ["1\x00"]}},
        headers={"Authorization": f"Bearer {desk.token}"},
    )  # fmt: skip
    assert answer.status_code == 422 and NUL in answer.text


def test_no_nul_is_stored_whoever_writes(desk: Desk) -> None:
    """The rule holds below the forms too: a service call from a script or a command."""
    with pytest.raises(InvalidInput) as refused, db.transaction(desk.engine) as session:
        create_customer(session, {"name": "Carl\x00Roth"})
    assert (refused.value.field, refused.value.reason) == ("name", NUL)
    with pytest.raises(InvalidInput) as refused, db.transaction(desk.engine) as session:
        customer = session.get(Customer, desk.customer_id)
        assert customer is not None
        customer.company = "Roth\x00 GmbH"
    assert (refused.value.field, refused.value.reason) == ("company", NUL)
    with db.transaction(desk.engine) as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Customer)) == 1
        assert session.get(Customer, desk.customer_id).company in (None, "")  # type: ignore[union-attr]


def test_a_nul_in_a_survey_answer_shows_the_survey_again(desk: Desk) -> None:
    with db.transaction(desk.engine) as session:
        customer = session.get(Customer, desk.customer_id)
        assert customer is not None
        _, url = surveys.invite(session, customer, "nps")
    path = urlsplit(url).path
    with TestClient(create_app(desk.engine), base_url="https://testserver") as stranger:
        answer = stranger.post(path, data={"score": "9", "verbatim": "Lovely\x00"})
        assert answer.status_code == 422 and is_page(answer)
        assert "NUL character" in answer.text and 'name="verbatim"' in answer.text
        assert desk.count(Feedback) == 0
        assert stranger.post(path, data={"score": "9", "verbatim": "Lovely"}).status_code == 200
    assert desk.count(Feedback) == 1


# --- JSON nested too deep --------------------------------------------------------------


def test_deep_json_in_the_settings_form_is_refused(desk: Desk) -> None:
    answer = desk.client.post("/admin/settings", data=desk.form(key="a.b", value=DEEP))
    assert answer.status_code == 422 and is_page(answer)
    assert "value: nested deeper than 32 levels" in answer.text
    assert desk.count(Setting) == 0
    # 32 levels are fine
    ok = "[" * 32 + "]" * 32
    answer = desk.client.post(
        "/admin/settings", data=desk.form(key="a.b", value=ok), follow_redirects=False
    )
    assert answer.status_code == 303
    assert desk.count(Setting) == 1


@pytest.mark.parametrize("levels", [33, 900, 100_000])
def test_deep_json_bodies_are_refused_by_the_api(desk: Desk, levels: int) -> None:
    deep = "[" * levels + "]" * levels
    auth = {"Authorization": f"Bearer {desk.token}", "Content-Type": "application/json"}
    for method, path, body in (
        ("PATCH", "/api/playbooks/1", '{"trigger_params": {"a": ' + deep + "}}"),
        ("POST", "/api/customers", '{"name": "x", "tags": ' + deep + "}"),
        ("POST", "/api/session", '{"email": ' + deep + ', "password": "x"}'),
    ):
        answer = desk.client.request(method, path, content=body, headers=auth)
        assert answer.status_code == 422, (path, answer.text)
        assert answer.json() == {"detail": [{"field": "body", "reason": TOO_DEEP}]}


def test_deep_json_on_the_command_line_is_refused(desk: Desk) -> None:
    url = desk.engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(cli, ["setting", "set", "a.b", DEEP, "-d", url])
    assert result.exit_code == 1
    assert "nested deeper than 32 levels" in result.stderr and "Traceback" not in result.output
    assert desk.count(Setting) == 0


def test_the_depth_of_json_text_is_found_without_parsing_it() -> None:
    assert not jsontext.nested_too_deep("[" * 32 + "]" * 32)
    assert jsontext.nested_too_deep("[" * 33 + "]" * 33)
    assert jsontext.nested_too_deep(b'{"a":' * 40 + b"1" + b"}" * 40)
    # brackets inside text are text, escaped quotes and all
    assert not jsontext.nested_too_deep('["' + "[" * 100 + '\\"' + "{" * 100 + '"]')
    assert jsontext.nested_too_deep('["a\\\\", ' + "[" * 40 + "]" * 40 + "]")  # a\ ends it
    assert not jsontext.nested_too_deep("[" + "[],[]," * 5000 + "[]]")  # wide, not deep
    assert jsontext.problem([[["x"]]], limit=2) == "nested deeper than 2 levels of lists and maps"
    assert jsontext.problem({"k\x00": 1}) == NUL
