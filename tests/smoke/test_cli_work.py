"""The daily work at the command line, each command run for real in a fresh process:
the agenda, promises, cases, tasks, special dates, cadences, goals and account reviews.

Each test works on its own copy of the demo desk; what one command writes, the next
one reads back (`promise add`, then `promise list --json` shows it).
"""

from __future__ import annotations

import re

from tests.smoke.process import Desk, covers

ANNA, JONAS, SOFIA = "anna@keepwell.example", "jonas@keepwell.example", "sofia@keepwell.example"


def made_id(text: str) -> int:
    """The id a command reports it made ("Promise #37 to …")."""
    found = re.search(r"#(\d+)", text)
    assert found, text
    return int(found.group(1))


@covers("agenda", "cadence set", "cadence customer", "cadence list")
def test_the_agenda_and_check_in_cadences(desk: Desk) -> None:
    team = desk.json("agenda")
    assert team["day"] == "2026-11-25" and len(team["members"]) == 4
    jonas = desk.json("agenda", "--owner", JONAS, "--days-ahead", "14")
    assert jonas["member"] == "Jonas Weber" and jonas["items"]
    shown = desk.run("agenda", "--owner", JONAS).out
    assert "Jonas Weber — Wednesday 25 November 2026" in shown
    moved = desk.run("cadence", "set", "retail", "45").out
    assert "retail: every 45 days" in moved
    assert desk.json("cadence", "list") == {"*": 90, "retail": 45, "vip": 30}
    assert "next check-in" in desk.run("cadence", "customer", "#5", "14").out
    refused = desk.run("cadence", "customer", "#5", "weekly", expect=2)  # a usage error
    assert 'give a number of days or "segment"' in refused.err


@covers(
    "promise add",
    "promise list",
    "promise update",
    "promise keep",
    "promise break",
    "promise cancel",
    "promise rate",
)
def test_promises_from_made_to_kept(desk: Desk) -> None:
    made = desk.run(
        "promise",
        "add",
        "C000005",
        "Send the descaling guide",
        "--due",
        "2026-11-27",
        "--by",
        SOFIA,
    ).out
    assert "to Mariam Rahman: due 2026-11-27 17:00 UTC" in made
    first = made_id(made)
    mine = desk.json("promise", "list", "--customer", "#5", "--status", "open")
    sofia = next(m["id"] for m in desk.json("member", "list") if m["email"] == SOFIA)
    assert [(p["id"], p["what"], p["member_id"]) for p in mine] == [
        (first, "Send the descaling guide", sofia)
    ]
    slipped = desk.run(
        "promise",
        "update",
        str(first),
        "Printer is down, sending Monday",
        "--due",
        "2026-11-30",
        "--channel",
        "call",
    ).out
    assert "now due 2026-11-30 17:00 UTC (slipped 1 time)" in slipped
    assert (
        f"Promise #{first} kept."
        in desk.run("promise", "keep", str(first), "--outcome", "Sent as PDF").out
    )
    second = made_id(
        desk.run(
            "promise", "add", "#5", "Call back about the refund", "--due", "2026-11-26T10:00"
        ).out
    )
    desk.run("promise", "break", str(second), "--outcome", "Refund went through without a call")
    third = made_id(
        desk.run("promise", "add", "#5", "Hold a bag of the Kenya", "--due", "2026-12-01").out
    )
    desk.run("promise", "cancel", str(third), "--reason", "They bought it in the shop")
    states = {p["id"]: p["status"] for p in desk.json("promise", "list", "--customer", "#5")}
    assert states == {first: "kept", second: "broken", third: "cancelled"}
    rate = desk.json("promise", "rate", "--from", "2026-11-01", "--to", "2026-11-30")
    assert rate["team"]["due"] >= 2 and 0 <= rate["team"]["rate"] <= 1
    # keeping it twice is refused with a clear error
    assert "error:" in desk.run("promise", "keep", str(first), expect=1).err


@covers(
    "case open",
    "case respond",
    "case resolve",
    "case confirm",
    "case reopen",
    "case list",
    "case show",
)
def test_a_case_from_opened_to_confirmed_and_reopened(desk: Desk) -> None:
    opened = desk.run(
        "case",
        "open",
        "#5",
        "Grinder arrived broken",
        "--severity",
        "high",
        "--description",
        "The hopper is cracked",
    ).out
    case = made_id(opened)
    waiting = desk.json("case", "list", "--waiting", "--customer", "#5")
    assert [c["id"] for c in waiting] == [case]
    assert (
        "first response after"
        in desk.run("case", "respond", str(case), "Sending a new hopper today").out
    )
    resolved = desk.run(
        "case",
        "resolve",
        str(case),
        "--resolution",
        "Replaced the hopper",
        "--root-cause-category",
        "delivery",
        "--root-cause",
        "Parcel dropped",
        "--confirm-after",
        "3",
    ).out
    assert f"Resolved case #{case}. Task #" in resolved and "due 2026-11-28" in resolved
    assert "confirmed" in desk.run("case", "confirm", str(case), "--note", "All good now").out
    reopened = desk.run("case", "reopen", str(case), "--reason", "Cracked again").out
    assert "reopened once in all" in reopened
    shown = desk.json("case", "show", str(case))
    assert (shown["case"]["status"], shown["case"]["reopened_count"]) == ("open", 1)
    assert [t["summary"] for t in shown["interactions"]][:1] == ["Sending a new hopper today"]
    assert "Case #" in desk.run("case", "show", str(case)).out
    refused = desk.run("case", "open", "#5", "x", "--severity", "apocalyptic", expect=2)
    assert "use one of" in refused.err


@covers("task add", "task list", "task snooze", "task reassign", "task done", "task cancel")
def test_tasks_added_snoozed_handed_over_and_done(desk: Desk) -> None:
    added = desk.run(
        "task", "add", "#5", "Ask how the new grinder works out", "--due", "+2", "--owner", JONAS
    ).out
    assert "due 2026-11-27" in added
    task = made_id(added)
    again = desk.run("task", "add", "#5", "Ask how the new grinder works out").out
    assert f"Task #{task} is there already" in again
    listed = desk.json("task", "list", "--customer", "#5", "--owner", JONAS)
    assert [t["id"] for t in listed] == [task]
    assert (
        "snoozed until 2026-12-02"
        in desk.run("task", "snooze", str(task), "--until", "2026-12-02").out
    )
    hidden = desk.json("task", "list", "--customer", "#5")  # hidden while snoozed
    assert task not in [t["id"] for t in hidden]
    assert f"is now {SOFIA}'s" in desk.run("task", "reassign", str(task), SOFIA).out
    assert (
        "done, call logged" in desk.run("task", "done", str(task), "--outcome", "Happy with it").out
    )
    other = made_id(desk.run("task", "add", "#5", "Send the recipe card").out)
    assert "cancelled" in desk.run("task", "cancel", str(other), "--reason", "Sent with order").out
    done = {
        t["id"]: t["status"] for t in desk.json("task", "list", "--status", "all", "--limit", "500")
    }
    assert (done[task], done[other]) == ("done", "cancelled")


@covers("date add", "date birthday", "date list", "date upcoming", "date remove")
def test_special_dates_remembered_and_coming_up(desk: Desk) -> None:
    added = desk.run(
        "date", "add", "#5", "--kind", "anniversary", "--on", "2024-11-28", "--label", "Wedding day"
    ).out
    special = made_id(added)
    assert "(every year)" in added
    assert "birthday: 29 November (year unknown)" in desk.run("date", "birthday", "#5", "11-29").out
    listed = desk.json("date", "list", "#5")
    assert listed["birthday"] is not None and [d["id"] for d in listed["dates"]] == [special]
    coming = desk.json("date", "upcoming", "--days", "7")
    mine = {(c["customer_id"], c["kind"]) for c in coming}
    assert {(5, "anniversary"), (5, "birthday")} <= mine
    assert f"Removed anniversary #{special}" in desk.run("date", "remove", str(special)).out
    assert desk.json("date", "list", "#5")["dates"] == []
    refused = desk.run("date", "add", "#5", "--kind", "anniversary", "--on", "someday", expect=2)
    assert "is not a date" in refused.err


@covers(
    "goal add",
    "goal update",
    "goal list",
    "goal delete",
    "review question add",
    "review question update",
    "review question list",
    "review start",
    "review show",
    "review answer",
    "review complete",
    "review cancel",
    "review list",
    "review schedule",
    "review settings",
)
def test_goals_and_an_account_review_from_start_to_done(desk: Desk) -> None:
    goal = made_id(
        desk.run(
            "goal",
            "add",
            "#5",
            "Open a second café by spring",
            "--target",
            "2027-03-31",
            "--by",
            SOFIA,
        ).out
    )
    assert "met" in desk.run("goal", "update", str(goal), "--status", "met").out
    mine = desk.json("goal", "list", "--customer", "#5")
    assert [(g["id"], g["status"]) for g in mine] == [(goal, "met")]
    spare = made_id(desk.run("goal", "add", "#5", "typo").out)
    assert "deleted" in desk.run("goal", "delete", str(spare)).out
    # the checklist's own questions
    question = made_id(
        desk.run(
            "review", "question", "add", "Do they know our new roastery?", "--position", "1"
        ).out.replace("q:", "#")
    )
    desk.run("review", "question", "update", str(question), "--inactive")
    questions = {q["id"]: q["active"] for q in desk.json("review", "question", "list")}
    assert questions[question] is False
    desk.run("review", "question", "update", "1", "--inactive")  # the demo's own question
    # one review, answered and done; another started and dropped
    review = made_id(desk.run("review", "start", "#5", "--by", SOFIA).out)
    items = desk.json("review", "show", str(review))["items"]
    assert [i["question"] for i in items] == ["last_check_in", "on_time", "goals", "worked"]
    for item in items:
        desk.run("review", "answer", str(review), item["question"], "yes", "--note", "checked")
    done = desk.run("review", "complete", str(review), "--note", "A good year").out
    assert f"Review #{review} done: 4 of 4 answered yes." in done
    dropped = made_id(desk.run("review", "start", "#6", "--due", "2026-12-15").out)
    assert "cancelled" in desk.run("review", "cancel", str(dropped), "--note", "Closed shop").out
    statuses = {r["id"]: r["status"] for r in desk.json("review", "list", "--customer", "#5")}
    assert statuses[review] == "done"
    settings = desk.run("review", "settings", "--interval-days", "60", "--key-segment", "vip")
    assert settings.json()["interval_days"] == 60
    assert "reviews scheduled" in desk.run("review", "schedule", "--date", "2026-11-25").out
    assert "error:" in desk.run("review", "answer", str(review), "nonsense", "yes", expect=1).err
