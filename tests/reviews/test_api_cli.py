"""Goals and reviews over HTTP and at the command line: same rules, same permissions."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from keepwell import clock
from keepwell.cli import app
from tests.api.conftest import Desk
from tests.reviews.conftest import NOW, make_world


def test_goals_over_http(desk: Desk) -> None:
    w = make_world(desk.engine)
    client = desk.client
    with clock.frozen(NOW):
        made = client.post(
            "/api/goals",
            json={"customer_id": w.vera, "what": "Open a second shop", "target_on": "2027-06-30"},
            headers=desk.auth(),
        )
        assert made.status_code == 201, made.text
        goal = made.json()
        assert (goal["member_id"], goal["status"], made.headers["ETag"]) == (
            desk.members["member"],
            "open",
            '"v1"',
        )
        early = client.post(
            "/api/goals",
            json={"customer_id": w.vera, "what": "x", "target_on": "2026-01-01"},
            headers=desk.auth(),
        )
        assert early.status_code == 422 and early.json()["detail"][0]["field"] == "target_on"
        empty = client.post(
            "/api/goals", json={"customer_id": w.vera, "what": ""}, headers=desk.auth()
        )
        assert empty.status_code == 422
        nobody = client.post(
            "/api/goals", json={"customer_id": 999_999, "what": "x"}, headers=desk.auth()
        )
        assert nobody.status_code == 422 and nobody.json()["detail"][0]["field"] == "customer_id"
        viewer = client.post(
            "/api/goals", json={"customer_id": w.vera, "what": "x"}, headers=desk.auth("viewer")
        )
        assert viewer.status_code == 403
        stale = client.patch(
            f"/api/goals/{goal['id']}",
            json={"status": "met"},
            headers={**desk.auth(), "If-Match": '"v7"'},
        )
        assert stale.status_code == 409
        met = client.patch(
            f"/api/goals/{goal['id']}",
            json={"status": "met", "target_on": None},
            headers={**desk.auth(), "If-Match": '"v1"'},
        )
        assert met.status_code == 200, met.text
        assert (met.json()["status"], met.json()["target_on"], met.json()["closed_on"]) == (
            "met",
            None,
            "2026-11-25",
        )
        listed = client.get(
            f"/api/goals?customer={w.vera}&status=met", headers=desk.auth("viewer")
        ).json()
        assert [g["id"] for g in listed] == [goal["id"]]
        assert client.delete(f"/api/goals/{goal['id']}", headers=desk.auth()).status_code == 204
        assert client.get(f"/api/goals/{goal['id']}", headers=desk.auth()).status_code == 404


def test_a_review_over_http_from_agenda_to_done(desk: Desk) -> None:
    w = make_world(desk.engine)
    client = desk.client
    admin, member = desk.auth("admin"), desk.auth()
    with clock.frozen(NOW):
        assert client.post("/api/reviews/schedule", headers=member).status_code == 403
        assert client.post("/api/reviews/schedule", headers=admin).json()["scheduled"] == 1
        question = client.post(
            "/api/review-questions", json={"text": "Would they recommend us?"}, headers=admin
        )
        assert question.status_code == 201
        qkey = f"q:{question.json()['id']}"
        assert (
            client.post("/api/review-questions", json={"text": "x"}, headers=member).status_code
            == 403
        )
        agenda = client.get(
            "/api/agenda?owner=ana@keepwell.example&date=2026-11-25", headers=member
        ).json()
        (item,) = [i for i in agenda["items"] if i["group"] == "review"]
        assert agenda["counts"]["review"] == 1 and item["customer_id"] == w.vera
        review_id = int(item["ref"].split(":")[1])
        sheet = client.get(f"/api/reviews/{review_id}", headers=desk.auth("viewer")).json()
        assert [i["question"] for i in sheet["items"]][-1] == qkey
        assert sheet["items"][0]["hint"].startswith("Last contact 2026-11-15")
        bad = client.post(
            f"/api/reviews/{review_id}/answers",
            json={"answers": [{"question": "on_time", "answer": "maybe"}]},
            headers=member,
        )
        assert bad.status_code == 422
        answered = client.post(
            f"/api/reviews/{review_id}/answers",
            json={"answers": [{"question": "on_time", "answer": "yes", "note": "always"}]},
            headers=member,
        )
        assert answered.status_code == 200, answered.text
        early = client.post(f"/api/reviews/{review_id}/complete", headers=member)
        assert early.status_code == 422 and "not answered yet" in early.text
        rest = [
            {"question": q, "answer": "yes"} for q in ("last_check_in", "goals", "worked", qkey)
        ]
        done = client.post(
            f"/api/reviews/{review_id}/complete",
            json={"answers": rest, "note": "All good"},
            headers=member,
        )
        assert done.status_code == 200, done.text
        assert done.json()["review"]["status"] == "done"
        assert done.json()["next_review"]["due_on"] == "2027-02-23"
        agenda = client.get(
            "/api/agenda?owner=ana@keepwell.example&date=2026-11-25", headers=member
        ).json()
        assert agenda["counts"]["review"] == 0
        settings = client.put("/api/review-settings", json={"interval_days": 0}, headers=admin)
        assert settings.status_code == 422
        settings = client.put(
            "/api/review-settings",
            json={"interval_days": 30, "key_segments": ["VIP", "wholesale"]},
            headers=admin,
        )
        assert settings.json() == {
            "interval_days": 30,
            "key_segments": ["vip", "wholesale"],
            "min_revenue_minor": None,
        }
        assert (
            client.put(
                "/api/review-settings", json={"interval_days": 5}, headers=member
            ).status_code
            == 403
        )


def test_goals_and_reviews_at_the_command_line(tmp_path: Path) -> None:
    runner = CliRunner()
    url = f"sqlite:///{tmp_path / 'kw.db'}"

    def cli(*args: str) -> tuple[int, str, str]:
        result = runner.invoke(app, [*args, "-d", url])
        return result.exit_code, result.stdout, result.stderr

    with clock.frozen(NOW):
        assert cli("init")[0] == 0
        assert cli("member", "add", "ana@keepwell.example", "--name", "Ana")[0] == 0
        csv = tmp_path / "c.csv"
        csv.write_text("id,name,segment,owner\nV1,Vera,vip,ana@keepwell.example\n")
        assert cli("import", "customers", str(csv))[0] == 0
        code, _out, err = cli("goal", "add", "V1", "Open a second shop", "--target", "2027-06-30")
        assert code == 0, err
        bad = cli("goal", "add", "V1", "x", "--target", "2020-01-01")
        assert bad[0] == 1 and "target_on" in bad[2]
        assert cli("goal", "update", "1", "--status", "met")[0] == 0
        goals = json.loads(cli("goal", "list", "--json")[1])
        assert [(g["what"], g["status"]) for g in goals] == [("Open a second shop", "met")]
        assert "1 reviews scheduled" in cli("review", "schedule")[1]
        assert cli("review", "question", "add", "Would they recommend us?")[0] == 0
        assert "Account reviews due" in cli("agenda", "--owner", "ana@keepwell.example")[1]
        sheet = json.loads(cli("review", "show", "1", "--json")[1])
        keys = [i["question"] for i in sheet["items"]]
        assert keys == ["last_check_in", "on_time", "goals", "worked", "q:1"]
        assert sheet["items"][2]["hint"] == "1 goals: 1 met, 0 missed, 0 open."
        wrong = cli("review", "answer", "1", "on_time", "perhaps")
        assert wrong[0] == 1 and "answer" in wrong[2]
        for key in keys:
            assert cli("review", "answer", "1", key, "yes", "--by", "ana@keepwell.example")[0] == 0
        done = cli("review", "complete", "1", "--note", "Happy")
        assert done[0] == 0 and "Next review #2 due 2027-02-23" in done[1]
        listed = json.loads(cli("review", "list", "--status", "done", "--json")[1])
        assert [(r["id"], r["yes"], r["answered"]) for r in listed] == [(1, 5, 5)]
        assert cli("review", "question", "update", "1", "--inactive")[0] == 0
        shown = json.loads(cli("review", "settings", "--interval-days", "45")[1])
        assert shown["interval_days"] == 45
