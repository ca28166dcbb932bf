"""The record pieces every concept's API uses (keepwell/web/records.py): an action locks the
record its path names at the version If-Match names and answers with the version it
leaves; a list's query parameters are its service filter's fields."""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlalchemy.engine import Engine

from keepwell import db
from keepwell.web.app import create_app
from keepwell.web.records import ListQuery, filter_type
from tests.api.conftest import Desk


def _new_promise(desk: Desk) -> int:
    c, member = desk.client, desk.auth()
    bea = c.post("/api/customers", json={"name": "Bea"}, headers=member).json()
    made = c.post(
        "/api/promises",
        json={"customer_id": bea["id"], "what": "Call back", "due_at": "2199-01-01T09:00:00Z"},
        headers=member,
    )
    assert made.status_code == 201 and made.headers["ETag"] == '"v1"'
    return int(made.json()["id"])


def test_an_action_answers_with_the_version_it_leaves(desk: Desk) -> None:
    c, member = desk.client, desk.auth()
    pid = _new_promise(desk)
    kept = c.post(f"/api/promises/{pid}/keep", headers={**member, "If-Match": '"v1"'})
    assert kept.status_code == 200, kept.text
    assert kept.headers["ETag"] == f'"v{kept.json()["version"]}"' == '"v2"'
    # an action without If-Match answers the version too (a body left out: its defaults)
    again = c.post(f"/api/promises/{pid}/cancel", headers=member)
    assert again.status_code == 422  # a kept promise cannot be cancelled
    assert "ETag" not in again.headers


def test_an_action_names_what_is_wrong_with_its_record(desk: Desk) -> None:
    c, member = desk.client, desk.auth()
    pid = _new_promise(desk)
    missing = c.post("/api/promises/999999/keep", headers=member)
    assert missing.status_code == 404
    assert missing.json()["detail"][0]["reason"] == "no promise #999999"
    stale = c.post(f"/api/promises/{pid}/keep", headers={**member, "If-Match": '"v7"'})
    assert stale.status_code == 409 and stale.json()["detail"][0]["field"] == "version"
    odd = c.post(f"/api/promises/{pid}/keep", headers={**member, "If-Match": "seven"})
    assert odd.status_code == 422 and odd.json()["detail"][0]["field"] == "If-Match"
    assert c.get(f"/api/promises/{pid}", headers=member).json()["promise"]["status"] == "open"


def test_if_match_counts_before_a_body_version(desk: Desk) -> None:
    c, member = desk.client, desk.auth()
    bea = c.post("/api/customers", json={"name": "Bea"}, headers=member).json()
    url = f"/api/customers/{bea['id']}"
    named = c.patch(
        url, json={"company": "A", "version": 9}, headers={**member, "If-Match": '"v1"'}
    )
    assert named.status_code == 200 and named.headers["ETag"] == '"v2"'
    star = c.patch(url, json={"company": "B", "version": 1}, headers={**member, "If-Match": "*"})
    assert star.status_code == 409  # If-Match: * names no version: the body's counts
    assert c.get(url, headers=member).json()["company"] == "A"


def test_an_unknown_member_in_a_list_is_bad_input(desk: Desk) -> None:
    found = desk.client.get("/api/reviews?owner=nobody@shop.example", headers=desk.auth())
    assert found.status_code == 422 and found.json()["detail"][0]["field"] == "owner"
    mine = desk.client.get("/api/reviews?owner=member@shop.example", headers=desk.auth())
    assert mine.status_code == 200 and mine.json() == []


def _queries(cls: type[Any]) -> list[type[ListQuery[Any]]]:
    found = []
    for sub in cls.__subclasses__():
        if "[" not in sub.__name__:  # ListQuery[X]: pydantic's parametrized base
            found.append(sub)
        found.extend(_queries(sub))
    return found


def test_every_list_query_is_its_filter(sqlite_engine: Engine) -> None:
    """Each list's query model names only fields of its service filter, so the filter is
    built with no code of the list's own (a renamed filter field fails here)."""
    create_app(sqlite_engine)  # every concept's API module, with its lists
    queries = _queries(ListQuery)
    assert len(queries) >= 12
    with db.transaction(sqlite_engine) as session:
        for query in queries:
            kind = filter_type(query)
            if not dataclasses.is_dataclass(kind):  # ListQuery[Keywords]: keyword arguments
                assert isinstance(query.model_validate({}).filter(session), dict)
                continue
            fields = dataclasses.fields(kind)
            assert set(query.model_fields) <= {f.name for f in fields}, query.__name__
            # what the route fixes itself (the path's customer of /customers/{id}/orders)
            fixed = {f.name: 1 for f in fields if f.default is dataclasses.MISSING}
            assert isinstance(query.model_validate({}).filter(session, **fixed), kind)
