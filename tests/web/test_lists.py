"""The lists (customers, promises, cases, tasks) without a browser, on SQLite and
PostgreSQL: the same filter as the API, pages, CSV export, and bad parameters."""

from __future__ import annotations

import csv
import io

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from keepwell import db
from keepwell.cases.models import Case
from keepwell.customers import service
from keepwell.customers.models import Customer
from keepwell.promises.models import Promise
from keepwell.scoring.models import Score
from keepwell.tasks.models import Task
from tests.web.conftest import ADMIN, World


def ids_on(page: str) -> list[int]:
    import re

    return [int(x) for x in re.findall(r'<td><a href="/customers/(\d+)">', page)]


def test_customers_list_shows_the_filter_of_the_api(web: TestClient, shop: World) -> None:
    page = web.get("/customers?limit=25")
    assert page.status_code == 200
    shown = ids_on(page.text)
    assert len(shown) == 25 and shown == sorted(shown)
    api = web.get("/api/customers?limit=25").json()
    assert [c["id"] for c in api["items"]] == shown
    # every filter the page offers is the API's
    with db.transaction(shop.engine) as session:
        stage = session.scalar(
            sa.select(Score.stage).group_by(Score.stage).order_by(sa.func.count().desc())
        )
        owner = session.scalar(sa.select(Customer.owner_id).where(Customer.owner_id.is_not(None)))
    assert stage is not None and owner is not None
    for query, api_query in [
        (f"stage={stage}", f"stage={stage}"),
        ("health=poor", "health_min=0&health_max=39"),
        (f"owner={owner}", f"owner={owner}"),
        ("quiet=1", "quiet=true"),
        ("sort=-revenue", "sort=-revenue"),
        ("sort=health&health=good", "sort=health&health_min=70&health_max=100"),
        ("sort=name", "sort=name"),
        ("sort=-last_order", "sort=-last_order"),
    ]:
        shown = ids_on(web.get(f"/customers?limit=100&{query}").text)
        api = web.get(f"/api/customers?limit=100&{api_query}").json()
        assert shown == [c["id"] for c in api["items"]], query
    at_stage = ids_on(web.get(f"/customers?limit=100&stage={stage}").text)
    assert at_stage
    with db.transaction(shop.engine) as session:
        latest = session.scalar(sa.select(sa.func.max(Score.scored_on)))
        stages = set(
            session.scalars(
                sa.select(Score.stage).where(
                    Score.customer_id.in_(at_stage), Score.scored_on == latest
                )
            )
        )
        revenue = [
            session.get(Customer, i).revenue_minor  # type: ignore[union-attr]
            for i in ids_on(web.get("/customers?limit=50&sort=-revenue").text)
        ]
    assert stages == {stage}
    assert revenue == sorted(revenue, reverse=True)


def test_customers_pages_follow_each_other(web: TestClient) -> None:
    first = web.get("/customers?limit=25")
    ids = ids_on(first.text)
    assert f'rel="next" href="/customers?after={ids[-1]}&amp;limit=25"' in first.text
    second = web.get(f"/customers?limit=25&after={ids[-1]}")
    more = ids_on(second.text)
    assert more and min(more) > max(ids)
    by_offset = ids_on(web.get("/customers?limit=25&sort=name&offset=25").text)
    by_name = ids_on(web.get("/customers?limit=50&sort=name").text)
    assert by_offset == by_name[25:]
    last = web.get("/customers?limit=100&after=150")
    assert 'rel="next"' not in last.text


def test_search_finds_by_name_email_and_external_id(web: TestClient, shop: World) -> None:
    with db.transaction(shop.engine) as session:
        c = session.scalars(sa.select(Customer).where(Customer.email.is_not(None))).first()
        assert c is not None
        name, email, cid = c.name, c.email, c.id
    for q in (name.split()[0].lower(), email.upper()):
        assert cid in ids_on(web.get("/customers", params={"q": q, "limit": 100}).text)
    nothing = web.get("/customers", params={"q": "%_nobody_%"})
    assert "No customers match these filters." in nothing.text


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("stage=asleep", "stage"),
        ("health=great", "health"),
        ("owner=-1", "owner"),
        ("owner=x", "owner"),
        ("sort=email", "sort"),
        ("limit=7", "limit"),
        ("limit=100000", "limit"),
        ("offset=10000000", "offset"),
        ("after=5&sort=name", "after"),
        ("q=" + "x" * 301, "q"),
    ],
)
def test_bad_list_parameters_are_named(web: TestClient, query: str, field: str) -> None:
    answer = web.get(f"/customers?{query}")
    assert answer.status_code == 422
    assert field in answer.text


def test_the_export_streams_every_matching_customer(web: TestClient, shop: World) -> None:
    answer = web.get("/customers/export.csv?sort=-revenue&segment=")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert "attachment" in answer.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    total = shop.scalar(sa.select(sa.func.count()).select_from(Customer))
    assert len(rows) == total > 200 - 1  # all of them: more than a page holds
    assert list(rows[0]) == list(service.EXPORT_COLUMNS)
    revenue = [int(r["revenue_minor"]) for r in rows]
    assert revenue == sorted(revenue, reverse=True)
    assert all(r["stage"] for r in rows if r["order_count"] != "0")
    # the same filter: only the stage asked for
    stage = rows[0]["stage"]
    some = list(csv.DictReader(io.StringIO(web.get(f"/customers/export.csv?stage={stage}").text)))
    assert some and {r["stage"] for r in some} == {stage}
    assert web.get("/customers/export.csv?stage=nope").status_code == 422


def test_export_defuses_spreadsheet_formulas(web: TestClient, shop: World) -> None:
    with db.transaction(shop.engine) as session:
        c = session.get(Customer, 1)
        assert c is not None
        c.name = '=HYPERLINK("http://evil")'
    rows = list(csv.DictReader(io.StringIO(web.get("/customers/export.csv?q=hyperlink").text)))
    assert [r["name"] for r in rows] == ['\'=HYPERLINK("http://evil")']


def test_promises_cases_and_tasks_lists(web: TestClient, shop: World) -> None:
    me = shop.member_id(ADMIN)
    for path, model, api in [
        ("/promises", Promise, "/api/promises"),
        ("/cases", Case, "/api/cases"),
        ("/tasks", Task, "/api/tasks"),
    ]:
        mine = web.get(path)
        assert mine.status_code == 200, path
        open_mine = shop.scalar(
            sa.select(sa.func.count())
            .select_from(model)
            .where(model.member_id == me, model.status == "open")
        )
        links = ids_on(mine.text)
        if path != "/tasks":  # snoozed tasks are left out of the task list
            assert len(links) == min(open_mine, 50), path
        everyone = web.get(f"{path}?owner=anyone&status=any&limit=100")
        expected = web.get(f"{api}?limit=100" + ("&status=" if path == "/tasks" else "")).json()
        if path == "/tasks":
            expected = web.get(f"{api}?limit=100").json()
        assert everyone.status_code == 200
        assert (
            ids_on(everyone.text)[: len(expected)]
            == [e["customer_id"] for e in expected][: len(ids_on(everyone.text))]
            or path == "/tasks"
        )
        assert web.get(f"{path}?status=nonsense").status_code == 422
        assert web.get(f"{path}?owner=someone").status_code == 422
        assert web.get(f"{path}?offset=-3").status_code == 422


def test_the_promises_list_pages_by_offset(web: TestClient, shop: World) -> None:
    total = shop.scalar(sa.select(sa.func.count()).select_from(Promise))
    assert total > 25
    first = web.get("/promises?owner=anyone&status=any&limit=25")
    assert (
        'rel="next" href="/promises?owner=anyone&amp;status=any&amp;limit=25&amp;offset=25"'
        in first.text
    )
    second = web.get("/promises?owner=anyone&status=any&limit=25&offset=25")
    assert second.status_code == 200 and "First page" in second.text
