"""/api/surveys and /api/feedback over real HTTP: readers read, writers write, every
change in the audit trail under the member who made it."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import sqlalchemy as sa

from keepwell import clock, db
from keepwell.accounts.models import AuditEntry
from keepwell.tasks.models import Task
from tests.api.conftest import Desk
from tests.feedback.conftest import NOW, World, counts


def test_a_viewer_reads_but_cannot_send_record_act_or_tell(served: tuple[Desk, World]) -> None:
    desk, world = served
    client, rui = desk.client, world.customers["Rui"]
    with clock.frozen(NOW):
        made = client.post(
            "/api/feedback",
            json={"customer_id": rui, "kind": "nps", "score": 9, "verbatim": "good"},
            headers=desk.auth("member"),
        )
        assert made.status_code == 201, made.text
        feedback_id = made.json()["id"]
        before = counts(world.engine)
        viewer = desk.auth("viewer")
        for path, body in (
            ("/api/surveys", {"customer_id": rui, "kind": "nps"}),
            ("/api/feedback", {"customer_id": rui, "kind": "nps", "score": 1}),
            ("/api/feedback/actions", {"what": "x", "feedback_ids": [feedback_id]}),
            (f"/api/feedback/{feedback_id}/tell", {"note": "hi"}),
        ):
            refused = client.post(path, json=body, headers=viewer)
            assert refused.status_code == 403, (path, refused.text)
            assert client.post(path, json=body).status_code == 401
        assert counts(world.engine) == before
        listed = client.get("/api/feedback", headers=viewer)
        assert listed.status_code == 200 and [f["id"] for f in listed.json()] == [feedback_id]
        one = client.get(f"/api/feedback/{feedback_id}", headers=viewer)
        assert one.status_code == 200 and one.json()["feedback"]["verbatim"] == "good"
        assert client.get("/api/feedback/999", headers=viewer).status_code == 404


def test_send_a_survey_answer_it_and_close_the_loop(served: tuple[Desk, World]) -> None:
    desk, world = served
    client, member = desk.client, desk.auth("member")
    rui, bea = world.customers["Rui"], world.customers["Bea"]
    with clock.frozen(NOW):
        sent = client.post("/api/surveys", json={"customer_id": rui, "kind": "nps"}, headers=member)
        assert sent.status_code == 201, sent.text
        survey = sent.json()
        assert survey["status"] == "open" and survey["sent_by_id"] == desk.members["member"]
        again = client.get(f"/api/surveys/{survey['id']}", headers=member).json()
        assert "url" not in again  # the link is shown once
    with clock.frozen(NOW + timedelta(hours=1)):
        path = urlsplit(survey["url"]).path
        page = client.post(path, data={"score": "2", "verbatim": "Cold coffee, rude courier"})
        assert page.status_code == 200
        assert (
            client.get(f"/api/surveys/{survey['id']}", headers=member).json()["status"]
            == "answered"
        )
        by_phone = client.post(
            "/api/feedback",
            json={"customer_id": bea, "kind": "csat", "score": 1, "verbatim": "Never again"},
            headers=member,
        )
        assert by_phone.status_code == 201
        detractors = client.get("/api/feedback?kind=nps&max_score=6&loop=open", headers=member)
        [answer] = detractors.json()
        assert (answer["customer_id"], answer["score"], answer["source"]) == (rui, 2, "survey")
        tasks = client.get("/api/tasks", headers=member).json()
        assert {(t["customer_id"], t["kind"]) for t in tasks} == {
            (rui, "detractor call"), (bea, "low csat follow-up"),
        }  # fmt: skip
        assert any("Cold coffee, rude courier" in t["context"] for t in tasks)
        action = client.post(
            "/api/feedback/actions",
            json={"what": "New courier, and a thermal box", "feedback_ids": [answer["id"]]},
            headers=member,
        )
        assert action.status_code == 201 and action.json()["feedback_ids"] == [answer["id"]]
        action_id = action.json()["id"]
        linked = client.post(
            f"/api/feedback/actions/{action_id}/links",
            json={"feedback_ids": [by_phone.json()["id"], answer["id"]]},
            headers=member,
        )
        assert sorted(linked.json()["feedback_ids"]) == sorted(
            [answer["id"], by_phone.json()["id"]]
        )
        closed = client.post(f"/api/feedback/actions/{action_id}/close", json={"channel": "call"},
                             headers=member)  # fmt: skip
        assert closed.status_code == 200, closed.text
        assert closed.json()["customers_told"] == 2 and closed.json()["action"]["done_at"]
        assert client.get("/api/feedback?loop=open", headers=member).json() == []
        detail = client.get(f"/api/feedback/{answer['id']}", headers=member).json()
        assert detail["feedback"]["told_by"] == "member@shop.example"
        assert [a["what"] for a in detail["actions"]] == ["New courier, and a thermal box"]
        timeline = client.get(f"/api/customers/{rui}/record", headers=member)
        if timeline.status_code == 200:  # the record route, where the desk has one
            assert "feedback" in {e["kind"] for e in timeline.json()["timeline"]}
    with db.transaction(world.engine) as session:  # audited under the member who acted
        rows = session.execute(
            sa.select(AuditEntry.table_name, AuditEntry.member_id, AuditEntry.via).where(
                AuditEntry.table_name.in_(["feedback", "feedback_actions", "survey_invitations"])
            )
        ).all()
        tables = {(t, m) for t, m, _ in rows}
        assert ("survey_invitations", desk.members["member"]) in tables
        assert ("feedback", None) in tables  # the answer through the public link
        assert ("feedback", desk.members["member"]) in tables
        assert ("feedback_actions", desk.members["member"]) in tables
        assert any(via == "survey link" for t, _, via in rows if t == "feedback")


def test_bad_requests_are_refused_naming_the_field(served: tuple[Desk, World]) -> None:
    desk, world = served
    client, member, rui = desk.client, desk.auth("member"), world.customers["Rui"]
    with clock.frozen(NOW):
        before = counts(world.engine)
        for body, field in (
            ({"customer_id": rui, "kind": "nps", "score": 11}, "score"),
            ({"customer_id": rui, "kind": "csat", "score": 0}, "score"),
            ({"customer_id": rui, "kind": "nps"}, "score"),
            (
                {"customer_id": rui, "kind": "scorecard", "ratings": {"quality": 5}},
                "ratings.delivery",
            ),
            ({"customer_id": rui, "kind": "relationship", "score": 3}, "score"),
            ({"customer_id": rui, "kind": "nps", "score": 5, "invitation_id": 99}, "invitation_id"),
            ({"customer_id": 999, "kind": "nps", "score": 5}, "customer_id"),
            ({"customer_id": rui, "kind": "nps", "score": 5, "extra": 1}, "extra"),
        ):
            refused = client.post("/api/feedback", json=body, headers=member)
            assert refused.status_code == 422, (body, refused.text)
            assert refused.json()["detail"][0]["field"] == field, (body, refused.text)
        for body, field in (
            ({"customer_id": rui, "kind": "poll"}, "kind"),
            ({"customer_id": rui, "kind": "nps", "expires_days": 0}, "expires_days"),
            ({"customer_id": rui, "kind": "csat", "case_id": 5}, "case_id"),
        ):
            refused = client.post("/api/surveys", json=body, headers=member)
            assert refused.status_code == 422 and refused.json()["detail"][0]["field"] == field
        empty = client.post("/api/feedback/actions", json={"what": ""}, headers=member)
        assert empty.status_code == 422
        unknown = client.post("/api/feedback/actions", json={"what": "x", "feedback_ids": [77]},
                              headers=member)  # fmt: skip
        assert unknown.status_code == 422 and unknown.json()["detail"][0]["field"] == "feedback_ids"
        assert (
            client.get("/api/feedback?min_score=5&max_score=4", headers=member).status_code == 422
        )
        assert counts(world.engine) == before
    with db.transaction(world.engine) as session:
        assert session.scalars(sa.select(Task)).all() == []
