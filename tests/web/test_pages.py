"""The pages without a browser (TestClient), on SQLite and PostgreSQL: sign-in, the
redirects, CSRF and roles, the agenda's actions and the customer page's forms — with
and without htmx — and that a refused form writes nothing."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient

from keepwell import clock, db
from keepwell.accounts.models import WebSession
from keepwell.accounts.service import add_user
from keepwell.agenda.pages import label
from keepwell.cases.models import Case
from keepwell.customers.models import Customer, SpecialDate
from keepwell.promises.models import Promise, PromiseUpdate
from keepwell.tasks.models import Task
from keepwell.touches.models import Touch
from keepwell.web.app import create_app
from keepwell.web.pages import safe_next
from tests.web.conftest import ADMIN, PASSWORD, World

HTMX = {"HX-Request": "true"}


def csrf(client: TestClient) -> str:
    token = client.cookies.get("keepwell_csrf")
    assert token
    return token


def count(world: World, model: type, *where: sa.ColumnElement[bool]) -> int:
    return int(world.scalar(sa.select(sa.func.count()).select_from(model).where(*where)))


def first_open(world: World, model: type, *where: sa.ColumnElement[bool]) -> int:
    found = world.scalar(sa.select(model.id).where(*where).order_by(model.id).limit(1))
    assert found is not None
    return int(found)


# --- signing in ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("/customers/3?tab=x", "/customers/3?tab=x"),
        ("/", "/"),
        ("https://evil.example/", "/"),
        ("//evil.example/x", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("customers", "/"),
        ("/ok\r\nSet-Cookie: x=y", "/"),
        ("", "/"),
        ("/" + "a" * 3000, "/"),
    ],
)
def test_only_paths_on_this_site_are_followed_after_sign_in(given: str, expected: str) -> None:
    assert safe_next(given) == expected


# Open to anyone, on purpose: signing in; and links whose secret {token} is the
# permission (a survey's link, an e-mail's unsubscribe link, a member's calendar feed).
PUBLIC_PAGES = {"/sign-in"}


def public(path: str) -> bool:
    return path in PUBLIC_PAGES or "{token}" in path


def test_every_page_sends_a_stranger_to_sign_in(shop: World) -> None:
    """Enumerated from the app: a new page is checked without touching this test."""
    app = create_app(shop.engine)
    client = TestClient(app, base_url="https://testserver")
    checked = 0
    for route in iter_route_contexts(app.routes):
        path = route.path
        if path is None or path.startswith(("/api/", "/static")) or public(path):
            continue
        for method in sorted((route.methods or set()) - {"HEAD"}):
            concrete = re.sub(r"\{[^}]+\}", "1", path)
            answer = client.request(method, concrete, follow_redirects=False)
            assert answer.status_code == 303, (method, path, answer.text[:200])
            assert answer.headers["location"].startswith("/sign-in")
            if method == "GET" and path != "/":
                assert answer.headers["location"] == f"/sign-in?next={concrete}"
            checked += 1
    assert checked >= 9  # Today and its actions, the customer page and its forms, sign-out
    htmx = client.get("/customers/1", headers=HTMX, follow_redirects=False)
    assert htmx.status_code == 204 and htmx.headers["HX-Redirect"].startswith("/sign-in")


def test_sign_in_with_the_form_then_sign_out(shop: World) -> None:
    client = TestClient(create_app(shop.engine), base_url="https://testserver")
    page = client.get("/sign-in?next=//evil.example")
    assert 'name="next" value="/"' in page.text
    assert '<label for="email">' in page.text and '<label for="password">' in page.text
    answer = client.post(
        "/sign-in",
        data={"email": ADMIN.upper(), "password": PASSWORD, "next": "/customers/4"},
        follow_redirects=False,
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/customers/4"
    cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=lax" in cookie
    assert client.get("/").status_code == 200
    assert count(shop, WebSession) == 1
    # signing out needs the CSRF token
    refused = client.post("/sign-out", follow_redirects=False)
    assert refused.status_code == 403 and count(shop, WebSession) == 1
    out = client.post("/sign-out", data={"csrf_token": csrf(client)}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/sign-in"
    assert count(shop, WebSession) == 0
    assert client.get("/", follow_redirects=False).status_code == 303


def test_wrong_passwords_are_slowed_down_like_the_api(shop: World) -> None:
    """On a fixed clock: the wait is counted on it, not raced against the real one."""
    client = TestClient(create_app(shop.engine), base_url="https://testserver")
    with clock.frozen("2026-11-25T09:00:00") as start:
        for _ in range(2):
            wrong = client.post("/sign-in", data={"email": ADMIN, "password": "guess"})
            assert wrong.status_code == 401
            assert "Wrong e-mail address or password." in wrong.text
        third = client.post("/sign-in", data={"email": ADMIN, "password": "guess"})
        assert third.status_code == 401 and "Wait 2 seconds" in third.text
    # during the wait even the right password is refused, unchecked
    with clock.frozen(start + timedelta(seconds=1)):
        throttled = client.post("/sign-in", data={"email": ADMIN, "password": PASSWORD})
        assert throttled.status_code == 429 and "Too many failed sign-ins" in throttled.text
        assert throttled.headers["Retry-After"] == "1"
        assert "keepwell_session" not in client.cookies
        # the same throttle as POST /api/session: the API refuses too
        api = client.post("/api/session", json={"email": ADMIN, "password": PASSWORD})
        assert api.status_code == 429 and api.headers["Retry-After"] == "1"
    with clock.frozen(start + timedelta(seconds=2)):  # the wait is over
        answer = client.post(
            "/sign-in", data={"email": ADMIN, "password": PASSWORD}, follow_redirects=False
        )
        assert answer.status_code == 303 and "keepwell_session" in client.cookies


def test_bad_sign_ins_answer_with_the_form(shop: World) -> None:
    client = TestClient(create_app(shop.engine), base_url="https://testserver")
    for data, status in (
        ({"email": "", "password": ""}, 422),
        ({"email": "nobody@example.com", "password": "x"}, 401),
        ({"email": "x" * 2000, "password": "x"}, 422),
        ({"email": "other@example.com", "password": "p\x00"}, 401),
    ):
        answer = client.post("/sign-in", data=data, follow_redirects=False)
        assert answer.status_code == status, data
        assert "text/html" in answer.headers["content-type"]
        assert "keepwell_session" not in client.cookies


def test_a_sign_in_posted_from_another_site_is_refused(shop: World) -> None:
    client = TestClient(create_app(shop.engine), base_url="https://testserver")
    answer = client.post(
        "/sign-in",
        data={"email": ADMIN, "password": PASSWORD},
        headers={"Origin": "https://evil.example"},
    )
    assert answer.status_code == 403 and "keepwell_session" not in client.cookies


# --- Today --------------------------------------------------------------------------


def test_today_shows_the_members_agenda_with_reasons(web: TestClient) -> None:
    page = web.get("/")
    assert page.status_code == 200
    for heading in ("Overdue promises", "Cases", "Tasks", "Gone quiet"):
        assert f">{heading} <" in page.text
    assert page.text.count('class="reason"') >= 10
    assert page.text.count('class="context"') >= 5
    assert 'src="/static/htmx.min.js"' in page.text and "cdn" not in page.text.lower()
    assert 'aria-current="page"' in page.text
    assert label("review") == "Review" and label("promise_due") == "Promises due today"


def test_keep_a_promise_with_and_without_htmx(web: TestClient, shop: World) -> None:
    first = first_open(shop, Promise, Promise.status == "open", Promise.member_id == 1)
    answer = web.post(
        f"/today/promises/{first}/keep",
        data={"csrf_token": csrf(web)},
        headers={**HTMX, "HX-Target": f"promise_due-promise-{first}", "HX-Trigger": "keep-x"},
    )
    assert answer.status_code == 200
    assert f'id="promise_due-promise-{first}"' in answer.text and "Promise kept" in answer.text
    assert shop.scalar(sa.select(Promise.status).where(Promise.id == first)) in KEPT
    second = first_open(shop, Promise, Promise.status == "open")
    plain = web.post(
        f"/today/promises/{second}/keep",
        data={"csrf_token": csrf(web)},
        headers={"Referer": "https://testserver/"},
        follow_redirects=False,
    )
    assert plain.status_code == 303 and plain.headers["location"] == "/"
    assert shop.scalar(sa.select(Promise.status).where(Promise.id == second)) in KEPT
    # keeping it again is refused, beside the form
    again = web.post(
        f"/today/promises/{second}/keep",
        data={"csrf_token": csrf(web)},
        headers={**HTMX, "HX-Trigger": "keep-x"},
    )
    assert again.status_code == 422 and again.headers["HX-Retarget"] == "#keep-x-error"
    assert "status: cannot keep" in again.text


KEPT = ("kept", "kept_late")


def test_a_refused_progress_update_writes_nothing(web: TestClient, shop: World) -> None:
    promise_id = first_open(shop, Promise, Promise.status == "open")
    touches = count(shop, Touch)
    for data, field in (
        ({"note": "   "}, "note"),
        ({"note": "ok", "new_due": "2020-01-01"}, "new_due_at"),
        ({"note": "ok", "new_due": "31/12/2030"}, "new_due"),
        ({"note": "ok", "new_due": "9999-01-01"}, "new_due"),
        ({"note": "ok", "channel": "pigeon"}, "channel"),
    ):
        answer = web.post(
            f"/today/promises/{promise_id}/update",
            data={"csrf_token": csrf(web), **data},
            headers={**HTMX, "HX-Trigger": "update-x"},
        )
        assert answer.status_code == 422, data
        assert f"{field}:" in answer.text and answer.headers["HX-Retarget"] == "#update-x-error"
        assert count(shop, PromiseUpdate) == 0 and count(shop, Touch) == touches
        plain = web.post(
            f"/today/promises/{promise_id}/update", data={"csrf_token": csrf(web), **data}
        )
        assert plain.status_code == 422 and "That did not work" in plain.text
        assert count(shop, PromiseUpdate) == 0 and count(shop, Touch) == touches


def test_progress_update_log_a_call_respond_snooze_and_complete(
    web: TestClient, shop: World
) -> None:
    token = csrf(web)
    promise_id = first_open(shop, Promise, Promise.status == "open")
    due = (clock.today() + timedelta(days=9)).isoformat()
    answer = web.post(
        f"/today/promises/{promise_id}/update",
        data={"csrf_token": token, "note": "Supplier answers Monday", "new_due": due},
        headers=HTMX,
    )
    assert answer.status_code == 200 and "Progress update logged" in answer.text
    promise = shop.scalar(sa.select(Promise).where(Promise.id == promise_id))
    assert promise.due_at.date().isoformat() == due
    customer_id = promise.customer_id
    logged = web.post(
        f"/today/customers/{customer_id}/log",
        data={"csrf_token": token, "summary": "Rang about the order", "channel": "call"},
        headers=HTMX,
    )
    assert logged.status_code == 200 and "Logged: call" in logged.text
    assert count(shop, Touch, Touch.summary == "Rang about the order") == 1
    case_id = first_open(shop, Case, Case.first_response_at.is_(None))
    responded = web.post(
        f"/today/cases/{case_id}/respond",
        data={"csrf_token": token, "summary": "Replacement on its way"},
        headers=HTMX,
    )
    assert responded.status_code == 200
    assert shop.scalar(sa.select(Case.first_response_at).where(Case.id == case_id)) is not None
    task_id = first_open(shop, Task, Task.status == "open", Task.kind != "confirm_case")
    snoozed = web.post(
        f"/today/tasks/{task_id}/snooze", data={"csrf_token": token, "days": "7"}, headers=HTMX
    )
    assert snoozed.status_code == 200 and "Back on" in snoozed.text
    until = shop.scalar(sa.select(Task.snoozed_until).where(Task.id == task_id))
    assert until == clock.today() + timedelta(days=7)
    for days in ("0", "-1", "366", "x"):
        refused = web.post(
            f"/today/tasks/{task_id}/snooze", data={"csrf_token": token, "days": days},
            headers=HTMX,
        )  # fmt: skip
        assert refused.status_code == 422 and "days:" in refused.text
    finished = web.post(
        f"/today/tasks/{task_id}/done",
        data={"csrf_token": token, "outcome": "Card sent", "channel": "none"},
        headers=HTMX,
    )
    assert finished.status_code == 200
    task = shop.scalar(sa.select(Task).where(Task.id == task_id))
    assert task.status == "done" and task.outcome == "Card sent"
    assert count(shop, Touch, Touch.summary == "Card sent") == 0  # "none": nothing logged


def test_writes_need_the_csrf_token_and_a_writer(web: TestClient, shop: World) -> None:
    promise_id = first_open(shop, Promise, Promise.status == "open")
    for data in ({}, {"csrf_token": "forged"}):
        answer = web.post(f"/today/promises/{promise_id}/keep", data=data, headers=HTMX)
        assert answer.status_code == 403
    assert shop.scalar(sa.select(Promise.status).where(Promise.id == promise_id)) == "open"
    with db.transaction(shop.engine) as session:
        add_user(session, "viewer@shop.example", role="viewer", password=PASSWORD)
    viewer = TestClient(create_app(shop.engine), base_url="https://testserver")
    viewer.post("/sign-in", data={"email": "viewer@shop.example", "password": PASSWORD})
    assert viewer.get("/customers/1").status_code == 200
    refused = viewer.post(f"/today/promises/{promise_id}/keep", data={"csrf_token": csrf(viewer)})
    assert refused.status_code == 403 and "can read but not change" in refused.text
    assert shop.scalar(sa.select(Promise.status).where(Promise.id == promise_id)) == "open"
    out = viewer.post("/sign-out", data={"csrf_token": csrf(viewer)}, follow_redirects=False)
    assert out.status_code == 303  # any role may sign out


def test_unknown_records_answer_as_pages(web: TestClient) -> None:
    for path in ("/customers/999999", "/customers/2147483647"):
        answer = web.get(path)
        assert answer.status_code == 404 and "text/html" in answer.headers["content-type"]
    for path in ("/customers/0", "/customers/99999999999999", "/customers/x"):
        assert web.get(path).status_code == 422
    token = csrf(web)
    assert web.post("/today/promises/999999/keep", data={"csrf_token": token}).status_code == 404


# --- the customer page -----------------------------------------------------------


def test_the_customer_page_shows_the_record_and_the_scores(web: TestClient, shop: World) -> None:
    customer = shop.scalar(sa.select(Customer).where(Customer.order_count > 2).limit(1))
    page = web.get(f"/customers/{customer.id}")
    assert page.status_code == 200
    text = page.text
    assert customer.name in text and "Owner" in text and "Consent" in text
    assert "P(active)" in text and "Health" in text and "RFM" in text and "Scored " in text
    assert text.count('class="order"') >= 3
    for form in ("log-form", "promise-form", "case-form", "date-form"):
        assert f'id="{form}"' in text
    # every control is labelled
    ids = set(re.findall(r'<(?:input|select|textarea)[^>]*\bid="([^"]+)"', text))
    labelled = set(re.findall(r'<label for="([^"]+)"', text))
    assert ids <= labelled


def test_customer_quick_forms(web: TestClient, shop: World) -> None:
    token = csrf(web)
    due = (clock.today() + timedelta(days=3)).isoformat()
    made = web.post(
        "/customers/21/promises",
        data={"csrf_token": token, "what": "Send a sample of the new roast", "due": due},
        headers=HTMX,
    )
    assert made.status_code == 200 and "Promise recorded." in made.text
    assert 'id="record"' in made.text and "Send a sample of the new roast" in made.text
    assert count(shop, Promise, Promise.what == "Send a sample of the new roast") == 1
    case = web.post(
        "/customers/21/cases",
        data={"csrf_token": token, "title": "Lid cracked", "severity": "high"},
        follow_redirects=False,
    )
    assert case.status_code == 303 and case.headers["location"] == "/customers/21"
    assert count(shop, Case, Case.title == "Lid cracked", Case.severity == "high") == 1
    dated = web.post(
        "/customers/21/dates",
        data={"csrf_token": token, "kind": "renewal", "on": "2027-03-01", "label": "Contract",
              "yearly": "1"},
        headers=HTMX,
    )  # fmt: skip
    assert dated.status_code == 200 and "Contract" in dated.text
    twice = web.post(
        "/customers/21/dates",
        data={"csrf_token": token, "kind": "renewal", "on": "2027-03-01", "label": "Contract",
              },
        headers=HTMX,
    )  # fmt: skip
    assert twice.status_code == 422 and "recorded already" in twice.text
    assert count(shop, SpecialDate, SpecialDate.customer_id == 21) == 1
    birthday = web.post(
        "/customers/21/dates",
        data={"csrf_token": token, "kind": "birthday", "on": "1980-05-17"},
        headers=HTMX,
    )
    assert birthday.status_code == 200
    assert shop.scalar(sa.select(Customer.birthday).where(Customer.id == 21)).isoformat() == (
        "1980-05-17"
    )
    logged = web.post(
        "/customers/21/interactions",
        data={"csrf_token": token, "summary": "Asked about decaf", "channel": "chat",
              "direction": "inbound", "sentiment": "neutral"},
        headers=HTMX,
    )  # fmt: skip
    assert logged.status_code == 200 and "Asked about decaf" in logged.text


FORMS = {"promises": "promise", "cases": "case", "dates": "date", "interactions": "log"}


def test_a_refused_customer_form_writes_nothing(web: TestClient, shop: World) -> None:
    before = [count(shop, m) for m in (Promise, Case, SpecialDate, Touch)]
    for path, data, field in (
        ("promises", {"what": "", "due": "2030-01-01"}, "what"),
        ("promises", {"what": "x", "due": ""}, "due"),
        ("promises", {"what": "x", "due": "2001-01-01"}, "due_at"),
        ("promises", {"what": "x" * 2001, "due": "2030-01-01"}, "what"),
        ("cases", {"title": "  "}, "title"),
        ("cases", {"title": "x", "severity": "apocalyptic"}, "severity"),
        ("dates", {"kind": "wedding", "on": "2020-01-01"}, "kind"),
        ("dates", {"kind": "custom", "on": "2020-02-30"}, "on"),
        ("interactions", {"summary": "hi", "direction": "sideways"}, "direction"),
        ("interactions", {"summary": "hi", "sentiment": "ecstatic"}, "sentiment"),
        ("interactions", {"summary": ""}, "summary"),
    ):
        answer = web.post(
            f"/customers/22/{path}", data={"csrf_token": csrf(web), **data},
            headers=HTMX,
        )  # fmt: skip
        assert answer.status_code == 422, (path, data, answer.text)
        assert f"{field}:" in answer.text
        assert answer.headers["HX-Retarget"] == f"#{FORMS[path]}-error"
        assert [count(shop, m) for m in (Promise, Case, SpecialDate, Touch)] == before


def test_the_api_docs_are_served_from_here(web: TestClient) -> None:
    docs = web.get("/api/docs")
    assert docs.status_code == 200
    assert "/static/swagger/swagger-ui-bundle.js" in docs.text and "cdn" not in docs.text
    assert web.get("/static/swagger/swagger-ui-bundle.js").status_code == 200
    assert web.get("/static/htmx.min.js").text.startswith("var htmx=")
    assert web.get("/static/keepwell.css").status_code == 200


def test_the_longer_forms_come_when_asked_for(web: TestClient, shop: World) -> None:
    today = web.get("/").text
    assert "<textarea" not in today  # Today stays small: no form is sent until asked for
    promise_id = first_open(shop, Promise, Promise.status == "open")
    task_id = first_open(shop, Task, Task.status == "open")
    case_id = first_open(shop, Case, Case.status == "open")
    for path, label_text in (
        (f"/today/promises/{promise_id}/update", "What you told them"),
        (f"/today/tasks/{task_id}/done", "Outcome"),
        (f"/today/cases/{case_id}/respond", "What you told them"),
        ("/today/customers/3/log", "Summary of the call"),
    ):
        fragment = web.get(f"{path}?item=task-task-1", headers=HTMX)
        assert fragment.status_code == 200 and "<html" not in fragment.text
        assert f'action="{path}"' in fragment.text and label_text in fragment.text
        assert 'id="' in fragment.text and "-task-task-1-error" in fragment.text
        page = web.get(f"{path}?item=<script>")  # without JS: a page of its own
        assert page.status_code == 200 and "<html" in page.text and "<script>" not in page.text
        assert 'name="csrf_token"' in page.text
    assert web.get("/today/promises/999999/update").status_code == 404
