"""`keepwell survey …`, `keepwell feedback …`, `keepwell scorecard …` and the reports,
round trip on a real SQLite file."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from keepwell import clock, db
from keepwell.cli import app
from keepwell.feedback import surveys

runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def database(tmp_path: Path) -> Iterator[str]:
    """Ana owns Rui (C1) and Bea (C2); the clock at 25 November 2026."""
    url = f"sqlite:///{tmp_path / 'kw.db'}"
    with clock.frozen("2026-11-25T10:00:00+00:00"):
        assert run("init", "--database", url)[0] == 0
        assert run("member", "add", "ana@keepwell.example", "--name", "Ana", "-d", url)[0] == 0
        csv = tmp_path / "customers.csv"
        csv.write_text(
            "id,name,email,owner\n"
            "C1,Rui Costa,rui@example.com,ana@keepwell.example\n"
            "C2,Bea Lima,bea@example.com,ana@keepwell.example\n"
        )
        code, _, err = run("import", "customers", str(csv), "-d", url)
        assert code == 0, err
        yield url


def listed(database: str, *args: str) -> list[dict[str, object]]:
    code, out, err = run("feedback", "list", "--json", "-d", database, *args)
    assert code == 0, err
    rows: list[dict[str, object]] = json.loads(out)
    return rows


def test_send_answer_act_close_round_trip(database: str) -> None:
    with clock.frozen("2026-11-25T10:00:00+00:00"):
        code, _, err = run(
            "setting", "set", "public_url", '"https://desk.example/"', "-d", database
        )
        assert code == 0, err
        code, out, err = run("survey", "send", "C1", "--kind", "nps", "--expires-days", "14",
                             "--by", "ana@keepwell.example", "-d", database)  # fmt: skip
        assert code == 0, err
        assert "Survey #1 (nps) for Rui Costa, open until 2026-12-09 10:00 UTC:" in out
        url = out.strip().splitlines()[-1]
        assert url.startswith("https://desk.example/s/1.")
        # the printed link opens Rui's survey
        engine = db.make_engine(database)
        with db.transaction(engine) as session:
            invitation = surveys.open_link(session, url.rsplit("/", 1)[1])
            assert (invitation.customer_id, invitation.kind, invitation.sent_by_id) == (1, "nps", 1)
        engine.dispose()
        # answers given by phone: one detractor (through the survey sent), one promoter
        code, out, err = run("survey", "answer", "C1", "--kind", "nps", "--score", "3",
                             "--comment", "Late twice", "--survey", "1", "-d", database)  # fmt: skip
        assert code == 0, err
        assert "Feedback #1 recorded for Rui Costa." in out
        assert "A detractor call task is open for the owner" in out
        code, out, err = run("survey", "answer", "bea@example.com", "--kind", "nps", "--score",
                             "5", "--comment", "Late as well", "-d", database)  # fmt: skip
        assert code == 0, err
        code, out, _ = run("task", "list", "--json", "-d", database)
        tasks = json.loads(out)
        assert {(t["kind"], t["member"]) for t in tasks} == {
            ("detractor call", "ana@keepwell.example")
        }
        assert any("Late twice" in t["context"] for t in tasks)
        # one action for both, closed: both told, both loops closed
        code, out, err = run("feedback", "act", "Changed our courier", "1", "2", "-d", database)
        assert code == 0, err
        assert "Action #1: linked to 2 feedback from 2 customers." in out
        assert [r["loop"] for r in listed(database, "--loop", "open")] == ["open", "open"]
        code, out, err = run("feedback", "close", "1", "--note", "Next-day delivery now",
                             "--channel", "call", "--by", "ana@keepwell.example", "-d", database)  # fmt: skip
        assert code == 0, err
        assert "Action #1 closed: told 2 customers, 2 loops closed." in out
        assert listed(database, "--loop", "open") == []
        closed = listed(database, "--loop", "closed")
        assert {r["told_by"] for r in closed} == {"ana@keepwell.example"}
        assert all(r["action_ids"] == [1] for r in closed)
        code, out, _ = run("show", "C1", "-d", database)
        assert "Changed our courier" in out and "NPS 3/10" in out
        code, out, _ = run("feedback", "show", "1", "-d", database)
        assert "Loop closed 2026-11-25 by call" in out
        code, _, err = run("feedback", "close", "1", "-d", database)
        assert code == 1 and "everyone was told" in err


def test_filters_tell_scorecard_and_reports(database: str, tmp_path: Path) -> None:
    with clock.frozen("2026-11-25T10:00:00+00:00"):
        for ref, score in (("C1", "9"), ("C2", "6")):
            assert run("survey", "answer", ref, "--score", score, "-d", database)[0] == 0
        assert (
            run("survey", "answer", "C2", "--kind", "csat", "--score", "4", "-d", database)[0] == 0
        )
        assert [r["score"] for r in listed(database, "--kind", "nps", "--max-score", "6")] == [6]
        assert len(listed(database, "--owner", "ana@keepwell.example")) == 3
        assert len(listed(database, "--customer", "C2")) == 2
        assert listed(database, "--since", "2026-11-26") == []
        code, out, err = run("feedback", "tell", "1", "Thanked them", "-d", database)
        assert code == 0, err
        assert "Feedback #1: loop closed (told by email)." in out
        code, out, err = run("scorecard", "rate", "C1", "-r", "communication=4", "-r",
                             "pays_on_time=5", "-r", "predictability=2", "-r", "partnership=4",
                             "--note", "Orders in bursts", "-d", database)  # fmt: skip
        assert code == 0, err
        code, out, _ = run("scorecard", "show", "C1", "--json", "-d", database)
        both = json.loads(out)
        assert both["theirs"] is None and both["ours"]["mean"] == 3.75
        chart = tmp_path / "nps.png"
        code, out, err = run("report", "nps", "--chart", str(chart), "-d", database)
        assert code == 0, err
        assert "NPS +0 from 2 answers" in out and chart.stat().st_size > 10_000
        code, out, err = run("report", "loops", "--json", "-d", database)
        assert code == 0, err
        assert json.loads(out)["closed_share"] == round(1 / 4, 4)  # 1 of 4 (with our scorecard)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("survey", "answer", "C1", "--score", "11"), "score: choose a score from 0 to 10"),
        (("survey", "answer", "C1", "--kind", "csat", "--score", "0"), "score"),
        (("survey", "answer", "C1", "--kind", "scorecard", "-r", "quality=5"), "ratings.delivery"),
        (("survey", "answer", "C1", "--kind", "poll", "--score", "1"), "kind"),
        (("survey", "answer", "C9", "--score", "5"), "no customer"),
        (("survey", "send", "C1", "--kind", "nps", "--expires-days", "0"), "expires_days"),
        (("survey", "send", "C1", "--kind", "csat", "--case", "12"), "case_id"),
        (("scorecard", "rate", "C1", "-r", "quality"), "CATEGORY=N"),
        (("scorecard", "rate", "C1", "-r", "communication=9"), "ratings.communication"),
        (("feedback", "act", "  ", "1"), "no feedback #1"),
        (("feedback", "tell", "7", "hello"), "no feedback #7"),
        (("feedback", "list", "--loop", "half"), "loop"),
        (("feedback", "list", "--since", "yesterday"), "YYYY-MM-DD"),
    ],
)
def test_bad_input_is_refused_and_writes_nothing(
    database: str, args: tuple[str, ...], message: str
) -> None:
    with clock.frozen("2026-11-25T10:00:00+00:00"):
        code, out, err = run(*args, "-d", database)
        assert code != 0
        assert message in err + out
        assert listed(database) == []
        code, out, _ = run("task", "list", "--json", "-d", database)
        assert json.loads(out) == []
