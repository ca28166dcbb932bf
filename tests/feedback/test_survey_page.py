"""The public survey page: a genuine link answers once; a forged, expired or used link
gets a clear page and writes nothing; an answer that does not fit is shown again."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from fastapi.routing import iter_route_contexts

from keepwell import clock, db
from keepwell.customers.models import Customer
from keepwell.feedback import common, links, surveys
from keepwell.feedback.models import Feedback, SurveyInvitation
from keepwell.settings import service as settings
from tests.api.conftest import Desk
from tests.feedback.conftest import NOW, World, counts


def send(world: World, who: str = "Rui", kind: str = "nps", days: int = 30) -> str:
    """A survey for `who`; the path of its link."""
    with clock.frozen(NOW), db.transaction(world.engine) as session:
        customer = session.get(Customer, world.customers[who])
        assert customer is not None
        _, url = surveys.invite(session, customer, kind, expires_days=days)
    assert url.startswith("http://127.0.0.1:8000/s/")
    return urlsplit(url).path


def test_a_genuine_link_answers_once_and_thanks(served: tuple[Desk, World]) -> None:
    desk, world = served
    path = send(world)
    with clock.frozen(NOW + timedelta(hours=1)):
        page = desk.client.get(path)  # no token, no cookie: the link is the credential
        assert page.status_code == 200
        html = page.text
        assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
        assert "<script" not in html
        assert "Rui, how are we doing?" in html
        for score in range(11):  # every choice is a labelled control
            assert f'<label for="score-{score}"><input type="radio" id="score-{score}"' in html
        assert '<label class="text" for="verbatim">' in html and 'id="verbatim"' in html
        assert page.headers["referrer-policy"] == "no-referrer"
        assert page.headers["cache-control"] == "no-store"
        answered = desk.client.post(path, data={"score": "9", "verbatim": "  Lovely beans  "})
        assert answered.status_code == 200, answered.text
        assert "Thank you" in answered.text
    with db.transaction(world.engine) as session:
        [item] = session.scalars(sa.select(Feedback)).all()
        assert (item.customer_id, item.kind, item.score, item.verbatim, item.source) == (
            world.customers["Rui"],
            "nps",
            9,
            "Lovely beans",
            "survey",
        )
        invitation = session.get(SurveyInvitation, item.invitation_id)
        assert invitation is not None and invitation.used_at == NOW + timedelta(hours=1)


def _forgeries(world: World, path: str) -> list[str]:
    token = path.removeprefix("/s/")
    parsed = links.parse(token)
    assert parsed is not None
    flipped = parsed.mac[:-1] + ("A" if parsed.mac[-1] != "A" else "B")
    with db.transaction(world.engine) as session:
        key = settings.secret(session, "survey")
        invitation = session.get(SurveyInvitation, parsed.invitation_id)
        assert invitation is not None
    # signed with the desk's own key, but for another customer: still not Bea's survey
    other = links.sign(key, parsed.invitation_id, world.customers["Bea"], "nps", parsed.expires)
    return [
        "/s/not-a-token",
        f"/s/{parsed.invitation_id}.{parsed.expires}.{flipped}",  # the MAC changed
        f"/s/{parsed.invitation_id}.{parsed.expires + 86400 * 365}.{parsed.mac}",  # expiry moved
        f"/s/{parsed.invitation_id + 1}.{parsed.expires}.{parsed.mac}",  # another invitation
        f"/s/{other}",
        f"/s/{links.sign(b'x' * 32, parsed.invitation_id, world.customers['Rui'], 'nps', parsed.expires)}",
        "/s/" + "9" * 5000,
    ]


def test_a_forged_link_is_refused_clearly_and_writes_nothing(served: tuple[Desk, World]) -> None:
    desk, world = served
    path = send(world)
    send(world, "Bea")  # a second invitation exists: a neighbouring id must not open it
    before = counts(world.engine)
    with clock.frozen(NOW + timedelta(hours=1)):
        for forged in _forgeries(world, path):
            for answer in (
                desk.client.get(forged),
                desk.client.post(forged, data={"score": "0", "verbatim": "forged"}),
            ):
                assert answer.status_code == 404, (forged, answer.text)
                assert "This survey link is not valid" in answer.text
                assert "Rui" not in answer.text and "Bea" not in answer.text
    assert counts(world.engine) == before
    with clock.frozen(NOW + timedelta(hours=2)):  # the genuine link still works
        assert desk.client.post(path, data={"score": "7"}).status_code == 200


def test_an_expired_link_is_refused_clearly_and_writes_nothing(
    served: tuple[Desk, World],
) -> None:
    desk, world = served
    path = send(world, days=7)
    before = counts(world.engine)
    with clock.frozen(NOW + timedelta(days=7)):  # the moment it expires
        page = desk.client.get(path)
        assert page.status_code == 410
        assert "This survey link has expired" in page.text
        posted = desk.client.post(path, data={"score": "10", "verbatim": "late answer"})
        assert posted.status_code == 410 and "expired" in posted.text
    assert counts(world.engine) == before
    with clock.frozen(NOW + timedelta(days=7) - timedelta(seconds=1)):
        assert desk.client.get(path).status_code == 200  # a second earlier it was open


def test_a_used_link_is_refused_clearly_and_writes_nothing(served: tuple[Desk, World]) -> None:
    desk, world = served
    path = send(world)
    with clock.frozen(NOW + timedelta(hours=1)):
        assert desk.client.post(path, data={"score": "3", "verbatim": "late"}).status_code == 200
    before = counts(world.engine)
    with clock.frozen(NOW + timedelta(hours=2)):
        again = desk.client.post(path, data={"score": "10", "verbatim": "second try"})
        assert again.status_code == 410
        assert "This survey was answered already" in again.text
        page = desk.client.get(path)
        assert page.status_code == 410 and "answered already" in page.text
    assert counts(world.engine) == before
    with db.transaction(world.engine) as session:
        assert session.scalars(sa.select(Feedback.score)).all() == [3]


@pytest.mark.parametrize(
    ("data", "shown"),
    [
        ({"score": "11", "verbatim": "keep me"}, "choose a score from 0 to 10, not 11"),
        ({"score": "-1"}, "is not a score"),
        ({"score": "ten"}, "is not a score"),
        ({"verbatim": "no score given"}, "Choose a score from 0 to 10"),
        ({"score": "5", "verbatim": "x" * 5001}, "longer than 5,000 characters"),
        ({"score": "5", "admin": "1"}, "fields it does not expect"),
    ],
)
def test_an_answer_that_does_not_fit_shows_the_form_again_and_stores_nothing(
    served: tuple[Desk, World], data: dict[str, str], shown: str
) -> None:
    desk, world = served
    path = send(world)
    before = counts(world.engine)
    with clock.frozen(NOW + timedelta(hours=1)):
        answer = desk.client.post(path, data=data)
    assert answer.status_code == 422
    assert shown.lower() in answer.text.replace("&#39;", "'").lower()
    assert "Nothing was saved yet." in answer.text
    assert '<form method="post">' in answer.text  # the form again, to fix and send
    if data.get("verbatim") == "keep me":
        assert ">keep me</textarea>" in answer.text
    assert counts(world.engine) == before
    with clock.frozen(NOW + timedelta(hours=2)):  # still unused: a fitting answer goes in
        assert desk.client.post(path, data={"score": "8"}).status_code == 200


def test_a_scorecard_needs_every_category(served: tuple[Desk, World]) -> None:
    desk, world = served
    path = send(world, kind="scorecard")
    with clock.frozen(NOW + timedelta(hours=1)):
        html = desk.client.get(path).text
        for category in ("quality", "delivery", "responsiveness", "value"):
            assert f'id="{category}-5"' in html
        before = counts(world.engine)
        partial = desk.client.post(path, data={"quality": "5", "delivery": "2", "value": "4"})
        assert partial.status_code == 422 and "Rate responsiveness" in partial.text
        assert counts(world.engine) == before
        full = {"quality": "5", "delivery": "2", "responsiveness": "4", "value": "4"}
        assert desk.client.post(path, data=full).status_code == 200
    with db.transaction(world.engine) as session:
        [item] = session.scalars(sa.select(Feedback)).all()
        assert (item.kind, item.score, item.ratings) == (
            "scorecard",
            None,
            {"quality": 5, "delivery": 2, "responsiveness": 4, "value": 4},
        )


def test_methods_and_bodies_that_do_not_fit_are_refused(served: tuple[Desk, World]) -> None:
    desk, world = served
    path = send(world)
    before = counts(world.engine)
    with clock.frozen(NOW + timedelta(hours=1)):
        for method in ("PUT", "PATCH", "DELETE"):
            assert desk.client.request(method, path).status_code == 405
        as_json = desk.client.post(path, json={"score": 9})
        assert as_json.status_code == 400 and "could not be read" in as_json.text
        twice = desk.client.post(
            path,
            content="score=9&score=0",
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        assert twice.status_code == 400
        upload = desk.client.post(path, files={"score": ("a.txt", b"9")})
        assert upload.status_code == 400
    assert counts(world.engine) == before


def test_the_survey_page_is_the_only_public_thing_added(served: tuple[Desk, World]) -> None:
    desk, _ = served
    public = []
    for route in iter_route_contexts(desk.app.routes):
        path = route.path or ""
        if path.startswith("/s/"):
            public.append((path, sorted(route.methods or ())))
    assert public == [("/s/{token}", ["GET"]), ("/s/{token}", ["POST"])]
    # and the API of feedback is closed without credentials
    for method, api_path in (("GET", "/api/feedback"), ("POST", "/api/surveys")):
        assert desk.client.request(method, api_path, json={}).status_code == 401


def test_two_answers_racing_for_one_link_store_one(world: World) -> None:
    """Two browsers send the same link at once: one answer is stored, the other is told
    the survey was answered (the invitation is locked; a unique index guards the rest)."""
    import threading

    token = send(world).removeprefix("/s/")
    writer = world.engine.execution_options(**{db.SQLITE_WRITE: True})
    outcomes: list[str] = []
    start = threading.Barrier(2)

    def answer(score: int) -> None:
        start.wait()
        try:
            with clock.frozen(NOW + timedelta(hours=1)), db.transaction(writer) as session:
                surveys.answer_link(session, token, score=score)
            outcomes.append("stored")
        except common.LinkRefused as refused:
            outcomes.append(refused.why)

    threads = [threading.Thread(target=answer, args=(score,)) for score in (2, 9)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["stored", "used"]
    with db.transaction(world.engine) as session:
        assert len(session.scalars(sa.select(Feedback)).all()) == 1
