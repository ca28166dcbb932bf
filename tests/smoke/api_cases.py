"""One valid request for every operation of the JSON API, in the order a desk lives:
each area makes what it needs (a customer, an order, a promise, a case, …) and uses the
ids it got back; test_every_operation_has_a_smoke_case holds the areas' operations
against the schema.
"""

from __future__ import annotations

from typing import Any

import httpx

from tests.smoke.live_api import Api, area, day, moment

# --- the team, sign-in and tokens -----------------------------------------------------


@area(
    "GET /api/health",
    "GET /api/me",
    "GET /api/members",
    "POST /api/members",
    "GET /api/members/{member_id}",
    "PATCH /api/members/{member_id}",
    "POST /api/members/{member_id}/password",
    "GET /api/tokens",
    "POST /api/tokens",
    "DELETE /api/tokens/{token_id}",
    "POST /api/session",
    "DELETE /api/session",
    "GET /api/audit",
)
def team(api: Api) -> None:
    assert api.call("GET /api/health", 200)["status"] == "ok"
    me = api.call("GET /api/me", 200)
    assert me["role"] == "admin"
    api.ids["admin"] = me["id"]
    made = api.call(
        "POST /api/members",
        201,
        json={
            "email": "ben@shop.example",
            "name": "Ben",
            "role": "member",
            "password": "ben's own long phrase",
        },
    )
    ben = made["member"]["id"]
    api.ids["member"] = ben
    assert ben in [m["id"] for m in api.call("GET /api/members", 200)]
    assert (
        api.call("GET /api/members/{member_id}", 200, member_id=ben)["email"] == "ben@shop.example"
    )
    api.call("PATCH /api/members/{member_id}", 200, json={"name": "Ben Okafor"}, member_id=ben)
    changed = api.call(
        "POST /api/members/{member_id}/password",
        200,
        json={"password": "ben's second long phrase", "revoke_tokens": False},
        member_id=ben,
    )
    assert changed["tokens_revoked"] is False and changed["password"] is None
    token = api.call("POST /api/tokens", 201, json={"name": "shop sync", "member_id": ben})
    assert token["token"] and token["details"]["member_id"] == ben
    listed = api.call("GET /api/tokens", 200, params={"member": ben})
    assert token["details"]["id"] in [t["id"] for t in listed]
    api.call("DELETE /api/tokens/{token_id}", 200, token_id=token["details"]["id"])
    # a browser session: sign in, then sign out with the session's CSRF token
    with httpx.Client(base_url=str(api.client.base_url), timeout=60) as browser:
        signed = browser.post(
            "/api/session", json={"email": "ben@shop.example", "password": "ben's second long phrase"}
        )
        api.called.add("POST /api/session")
        if signed.status_code != 200:
            api.problems.append(f"POST /api/session: {signed.status_code}: {signed.text[:300]}")
            return
        cookie = "; ".join(f"{k}={v}" for k, v in signed.cookies.items())
        api.call(
            "DELETE /api/session",
            204,
            client=browser,
            headers={"Cookie": cookie, "X-CSRF-Token": signed.json()["csrf_token"]},
        )
    trail = api.call("GET /api/audit", 200, params={"limit": 50})
    assert "team_members" in {e["table_name"] for e in trail}


# --- customers, their dates and orders ------------------------------------------------


@area(
    "POST /api/customers",
    "GET /api/customers",
    "GET /api/customers/{customer_id}",
    "PATCH /api/customers/{customer_id}",
    "GET /api/customers/{customer_id}/record",
    "POST /api/customers/{customer_id}/special-dates",
    "GET /api/customers/{customer_id}/special-dates",
    "GET /api/special-dates/upcoming",
    "DELETE /api/special-dates/{special_date_id}",
    "POST /api/orders",
    "POST /api/orders/bulk",
    "GET /api/customers/{customer_id}/orders",
    "POST /api/interactions",
    "GET /api/interactions",
    "DELETE /api/customers/{customer_id}",
)
def customers(api: Api) -> None:
    def new(name: str, email: str, **more: Any) -> int:
        body = {"name": name, "email": email, "marketing_consent": True, **more}
        return int(api.call("POST /api/customers", 201, json=body)["id"])

    bea = new(
        "Bea Rossi",
        "bea@example.com",
        external_id="C1",
        segment="vip",
        owner_id=api.ids["member"],
        birthday="1980-11-30",
        tags=["espresso"],
    )
    api.ids.update(
        bea=bea,
        carl=new("Carl Lund", "carl@example.com", segment="vip"),
        dana=new("Dana Moss", "dana@example.com"),
    )
    found = api.call("GET /api/customers", 200, params={"q": "Rossi"})["items"]
    assert [c["id"] for c in found] == [bea]
    assert api.call("GET /api/customers/{customer_id}", 200, customer_id=bea)["version"] == 1
    api.call(
        "PATCH /api/customers/{customer_id}",
        200,
        customer_id=bea,
        json={"phone": "+39 055 123", "version": 1},
    )
    special = api.call(
        "POST /api/customers/{customer_id}/special-dates",
        201,
        customer_id=bea,
        json={"kind": "anniversary", "on_date": day(-362), "label": "First order"},
    )
    assert [
        d["id"]
        for d in api.call("GET /api/customers/{customer_id}/special-dates", 200, customer_id=bea)
    ] == [special["id"]]
    coming = api.call("GET /api/special-dates/upcoming", 200, params={"days": 14})
    assert bea in {u["customer_id"] for u in coming}
    api.call("DELETE /api/special-dates/{special_date_id}", 204, special_date_id=special["id"])
    order = {
        "customer_id": bea,
        "ordered_at": moment(-30, 10),
        "amount_minor": 4500,
        "currency": "EUR",
        "product": "Grinder",
        "external_id": "S-1",
    }
    api.ids["order"] = api.call("POST /api/orders", 201, json=order)["id"]
    batch = [
        {**order, "external_id": "S-2", "ordered_at": moment(-20, 10), "product": "Beans"},
        {**order, "customer_id": api.ids["carl"], "external_id": "S-3"},
    ]
    assert api.call("POST /api/orders/bulk", 201, json={"orders": batch})["created"] == 2
    listed = api.call("GET /api/customers/{customer_id}/orders", 200, customer_id=bea)
    assert [o["external_id"] for o in listed] == ["S-2", "S-1"]
    api.call(
        "POST /api/interactions",
        201,
        json={"customer_id": bea, "channel": "call", "summary": "Asked about the new roast"},
    )
    assert api.call("GET /api/interactions", 200, params={"customer": bea})
    record = api.call("GET /api/customers/{customer_id}/record", 200, customer_id=bea)
    assert record["profile"]["order_count"] == 2
    gone = new("Typo Customer", "typo@example.com")
    api.call("DELETE /api/customers/{customer_id}", 204, customer_id=gone)


# --- promises, cases, tasks, the agenda -----------------------------------------------


@area(
    "POST /api/promises",
    "GET /api/promises",
    "GET /api/promises/{promise_id}",
    "POST /api/promises/{promise_id}/updates",
    "POST /api/promises/{promise_id}/keep",
    "POST /api/promises/{promise_id}/break",
    "POST /api/promises/{promise_id}/cancel",
)
def promises(api: Api) -> None:
    def promise(what: str) -> int:
        body = {"customer_id": api.ids["bea"], "what": what, "due_at": moment(2)}
        return int(api.call("POST /api/promises", 201, json=body)["id"])

    first = promise("Send the descaling guide")
    api.call(
        "POST /api/promises/{promise_id}/updates",
        201,
        promise_id=first,
        json={"note": "Printer is down", "new_due_at": moment(5)},
    )
    api.call(
        "POST /api/promises/{promise_id}/keep",
        200,
        promise_id=first,
        json={"outcome": "Sent as PDF"},
    )
    detail = api.call("GET /api/promises/{promise_id}", 200, promise_id=first)
    assert detail["promise"]["status"] == "kept" and len(detail["updates"]) == 1
    api.call(
        "POST /api/promises/{promise_id}/break",
        200,
        promise_id=promise("Call back"),
        json={"outcome": "Went through without a call"},
    )
    api.call(
        "POST /api/promises/{promise_id}/cancel",
        200,
        promise_id=promise("Hold a bag"),
        json={"reason": "Bought it in the shop"},
    )
    listed = api.call("GET /api/promises", 200, params={"customer": api.ids["bea"]})
    assert sorted(p["status"] for p in listed) == ["broken", "cancelled", "kept"]


@area(
    "POST /api/cases",
    "GET /api/cases",
    "GET /api/cases/{case_id}",
    "POST /api/cases/{case_id}/responses",
    "POST /api/cases/{case_id}/resolve",
    "POST /api/cases/{case_id}/confirm",
    "POST /api/cases/{case_id}/reopen",
)
def cases(api: Api) -> None:
    opened = api.call(
        "POST /api/cases",
        201,
        json={"customer_id": api.ids["bea"], "title": "Grinder arrived broken", "severity": "high"},
    )
    case = opened["case"]["id"]
    api.ids["case"] = case
    waiting = api.call("GET /api/cases", 200, params={"waiting": True})
    assert case in [c["id"] for c in waiting]
    api.call(
        "POST /api/cases/{case_id}/responses",
        201,
        case_id=case,
        json={"summary": "Sending a new one today"},
    )
    resolved = api.call(
        "POST /api/cases/{case_id}/resolve",
        200,
        case_id=case,
        json={"resolution": "Replaced", "root_cause_category": "delivery"},
    )
    assert [t["kind"] for t in resolved["tasks"]] == ["confirm_case"]
    api.call("POST /api/cases/{case_id}/confirm", 200, case_id=case, json={"note": "All good"})
    api.call(
        "POST /api/cases/{case_id}/reopen", 200, case_id=case, json={"reason": "Cracked again"}
    )
    shown = api.call("GET /api/cases/{case_id}", 200, case_id=case)
    assert shown["case"]["reopened_count"] == 1


@area(
    "POST /api/tasks",
    "GET /api/tasks",
    "GET /api/tasks/{task_id}",
    "POST /api/tasks/{task_id}/snooze",
    "POST /api/tasks/{task_id}/reassign",
    "POST /api/tasks/{task_id}/complete",
    "POST /api/tasks/{task_id}/cancel",
    "GET /api/agenda",
)
def tasks(api: Api) -> None:
    def task(reason: str) -> int:
        body = {"customer_id": api.ids["bea"], "reason": reason, "due_on": day(1)}
        return int(api.call("POST /api/tasks", 201, json=body)["id"])

    first = task("Ask how the new grinder works out")
    api.call("POST /api/tasks/{task_id}/snooze", 200, task_id=first, json={"until": day(7)})
    api.call(
        "POST /api/tasks/{task_id}/reassign",
        200,
        task_id=first,
        json={"member_id": api.ids["admin"]},
    )
    api.call(
        "POST /api/tasks/{task_id}/complete",
        200,
        task_id=first,
        json={"outcome": "Happy", "channel": "call"},
    )
    assert api.call("GET /api/tasks/{task_id}", 200, task_id=first)["status"] == "done"
    api.call(
        "POST /api/tasks/{task_id}/cancel",
        200,
        task_id=task("Send the recipe card"),
        json={"reason": "Sent with the order"},
    )
    assert api.call("GET /api/tasks", 200, params={"status": "all", "customer": api.ids["bea"]})
    agenda = api.call("GET /api/agenda", 200, params={"owner": api.ids["member"]})
    assert agenda["member_id"] == api.ids["member"]


# --- surveys and feedback -------------------------------------------------------------


@area(
    "POST /api/surveys",
    "GET /api/surveys/{survey_id}",
    "POST /api/feedback",
    "GET /api/feedback",
    "GET /api/feedback/{feedback_id}",
    "POST /api/feedback/actions",
    "GET /api/feedback/actions/{action_id}",
    "POST /api/feedback/actions/{action_id}/links",
    "POST /api/feedback/actions/{action_id}/close",
    "POST /api/feedback/{feedback_id}/tell",
)
def feedback(api: Api) -> None:
    bea, carl = api.ids["bea"], api.ids["carl"]
    sent = api.call("POST /api/surveys", 201, json={"customer_id": bea, "kind": "nps"})
    assert "/s/" in sent["url"]
    assert api.call("GET /api/surveys/{survey_id}", 200, survey_id=sent["id"])["kind"] == "nps"

    def answer(customer: int, score: int, **more: Any) -> int:
        body = {"customer_id": customer, "kind": "nps", "score": score, **more}
        return int(api.call("POST /api/feedback", 201, json=body)["id"])

    first = answer(bea, 3, verbatim="The beans were stale", invitation_id=sent["id"])
    second = answer(carl, 4, verbatim="Late again")
    api.ids["promoter"] = answer(api.ids["dana"], 10, verbatim="Best coffee in town")
    assert api.call("GET /api/feedback", 200, params={"loop": "open"})
    action = api.call(
        "POST /api/feedback/actions",
        201,
        json={"what": "Roast smaller batches", "feedback_ids": [first]},
    )
    api.call(
        "POST /api/feedback/actions/{action_id}/links",
        200,
        action_id=action["id"],
        json={"feedback_ids": [second]},
    )
    got = api.call("GET /api/feedback/actions/{action_id}", 200, action_id=action["id"])
    assert sorted(got["feedback_ids"]) == sorted([first, second])
    closed = api.call(
        "POST /api/feedback/actions/{action_id}/close",
        200,
        action_id=action["id"],
        json={"note": "Fresher every week"},
    )
    assert closed["customers_told"] == 2
    assert (
        api.call("GET /api/feedback/{feedback_id}", 200, feedback_id=first)["feedback"]["loop"]
        == "closed"
    )
    api.call(
        "POST /api/feedback/{feedback_id}/tell",
        200,
        feedback_id=api.ids["promoter"],
        json={"note": "Thanked them", "channel": "email"},
    )
    # the page a customer opens from the e-mail: open while unanswered, gone once answered
    fresh = api.call("POST /api/surveys", 201, json={"customer_id": carl, "kind": "csat"})
    api.page(fresh["url"], 200, "text/html")
    api.page(sent["url"], 410, "text/html")


# --- playbooks, the outbox, resources, calendars --------------------------------------


@area(
    "GET /api/playbooks",
    "GET /api/playbooks/{name}",
    "PATCH /api/playbooks/{name}",
    "POST /api/playbooks/run",
    "GET /api/status",
)
def playbooks(api: Api) -> None:
    names = [p["name"] for p in api.call("GET /api/playbooks", 200)]
    assert "birthday-card" in names
    assert api.call("GET /api/playbooks/{name}", 200, name="birthday-card")["enabled"]
    edited = api.call(
        "PATCH /api/playbooks/{name}",
        200,
        name="check-in-30-days",
        json={"trigger_params": {"days": 21}},
    )
    assert edited["trigger_params"]["days"] == 21
    ran = api.call("POST /api/playbooks/run", 200, json={"dry_run": True})
    assert ran["errors"] == []
    assert {c["name"] for c in api.call("GET /api/status", 200)["checks"]} >= {"playbooks"}


@area(
    "POST /api/outreach/drafts",
    "POST /api/outreach/notes",
    "GET /api/outreach/messages",
    "POST /api/outreach/messages/{message_id}/retry",
    "POST /api/outreach/messages/{message_id}/confirm",
    "POST /api/outreach/resources",
    "GET /api/outreach/resources",
    "POST /api/outreach/resources/{resource_id}/pass-on",
    "POST /api/outreach/calendar",
    "DELETE /api/outreach/calendar",
)
def outreach(api: Api) -> None:
    drafts = api.call(
        "POST /api/outreach/drafts",
        200,
        json={"customer_id": api.ids["bea"], "start": day(-90), "end": day(0)},
    )
    assert drafts[0]["customer_id"] == api.ids["bea"]
    note = api.call(
        "POST /api/outreach/notes",
        201,
        json={
            "customer_id": api.ids["bea"],
            "subject": "What we did for you",
            "body": drafts[0]["body"],
        },
    )
    assert note["queued"], note
    api.ids["message"] = note["message_id"]
    messages = api.call("GET /api/outreach/messages", 200, params={"customer": api.ids["bea"]})
    assert note["message_id"] in [m["id"] for m in messages]
    # made failed and unconfirmed by `keepwell outreach send` (test_api_live.undelivered)
    retried = api.call(
        "POST /api/outreach/messages/{message_id}/retry",
        200,
        message_id=api.ids["failed_message"],
    )
    assert retried["status"] == "queued"
    confirmed = api.call(
        "POST /api/outreach/messages/{message_id}/confirm",
        200,
        message_id=api.ids["unconfirmed_message"],
    )
    assert confirmed["status"] == "sent"
    added = api.call(
        "POST /api/outreach/resources",
        201,
        json={
            "title": "How to descale",
            "url": "https://shop.example/descale",
            "kind": "guide",
            "topics": ["espresso"],
        },
    )
    assert added["id"] in [r["id"] for r in api.call("GET /api/outreach/resources", 200)]
    passed = api.call(
        "POST /api/outreach/resources/{resource_id}/pass-on", 200, resource_id=added["id"]
    )
    assert passed["matched"] >= 0
    feed = api.call("POST /api/outreach/calendar", 201)
    api.page(feed["url"], 200, "text/calendar")  # what a calendar app fetches
    api.call("DELETE /api/outreach/calendar", 204)
    api.page(feed["url"], 404, "text/plain")


# --- goals and account reviews --------------------------------------------------------


@area(
    "POST /api/goals",
    "GET /api/goals",
    "GET /api/goals/{goal_id}",
    "PATCH /api/goals/{goal_id}",
    "DELETE /api/goals/{goal_id}",
    "POST /api/review-questions",
    "GET /api/review-questions",
    "PATCH /api/review-questions/{question_id}",
    "GET /api/review-settings",
    "PUT /api/review-settings",
    "POST /api/reviews",
    "GET /api/reviews",
    "GET /api/reviews/{review_id}",
    "POST /api/reviews/{review_id}/answers",
    "POST /api/reviews/{review_id}/complete",
    "POST /api/reviews/{review_id}/cancel",
    "POST /api/reviews/schedule",
)
def reviews(api: Api) -> None:
    bea = api.ids["bea"]
    goal = api.call(
        "POST /api/goals",
        201,
        json={"customer_id": bea, "what": "A second café", "target_on": day(120)},
    )
    api.call("PATCH /api/goals/{goal_id}", 200, goal_id=goal["id"], json={"status": "met"})
    assert api.call("GET /api/goals/{goal_id}", 200, goal_id=goal["id"])["status"] == "met"
    assert api.call("GET /api/goals", 200, params={"customer": bea})
    spare = api.call("POST /api/goals", 201, json={"customer_id": bea, "what": "typo"})
    api.call("DELETE /api/goals/{goal_id}", 204, goal_id=spare["id"])
    question = api.call(
        "POST /api/review-questions", 201, json={"text": "Do they know our new roastery?"}
    )
    assert question["id"] in [q["id"] for q in api.call("GET /api/review-questions", 200)]
    api.call(
        "PATCH /api/review-questions/{question_id}",
        200,
        question_id=question["id"],
        json={"position": 0},
    )
    api.call("GET /api/review-settings", 200)
    put = api.call(
        "PUT /api/review-settings", 200, json={"interval_days": 60, "key_segments": ["vip"]}
    )
    assert put["interval_days"] == 60
    started = api.call("POST /api/reviews", 201, json={"customer_id": bea})
    review = started["review"]["id"]
    answers = [
        {"question": i["question"], "answer": "yes", "note": "checked"} for i in started["items"]
    ]
    api.call(
        "POST /api/reviews/{review_id}/answers",
        200,
        review_id=review,
        json={"answers": answers[:1]},
    )
    done = api.call(
        "POST /api/reviews/{review_id}/complete",
        200,
        review_id=review,
        json={"answers": answers[1:], "note": "A good year"},
    )
    assert done["review"]["status"] == "done"
    assert api.call("GET /api/reviews/{review_id}", 200, review_id=review)["review"]["yes"] > 0
    other = api.call("POST /api/reviews", 201, json={"customer_id": api.ids["dana"]})
    api.call(
        "POST /api/reviews/{review_id}/cancel",
        200,
        review_id=other["review"]["id"],
        json={"note": "Closed shop"},
    )
    assert api.call("GET /api/reviews", 200, params={"customer": bea})
    assert api.call("POST /api/reviews/schedule", 200)["scheduled"] >= 0


# --- referrals and loyalty ------------------------------------------------------------


@area(
    "POST /api/customers/{customer_id}/referral-code",
    "POST /api/referrals",
    "GET /api/referrals",
    "GET /api/customers/{customer_id}/referrals",
    "DELETE /api/referrals/{referral_id}",
    "GET /api/referrals/promoters-to-ask",
    "GET /api/referral-settings",
    "PUT /api/referral-settings",
    "POST /api/loyalty/refresh",
    "GET /api/referral-rewards",
    "POST /api/referral-rewards/{reward_id}/give",
    "GET /api/customers/{customer_id}/loyalty",
    "GET /api/loyalty/tier-changes",
    "GET /api/loyalty/settings",
    "PUT /api/loyalty/settings",
)
def referrals_and_loyalty(api: Api) -> None:
    bea, carl, dana = api.ids["bea"], api.ids["carl"], api.ids["dana"]
    code = api.call("POST /api/customers/{customer_id}/referral-code", 200, customer_id=bea)
    mistaken = api.call(
        "POST /api/referrals", 201, json={"customer_id": dana, "referral_code": code["code"]}
    )
    api.call("DELETE /api/referrals/{referral_id}", 204, referral_id=mistaken["id"])
    linked = api.call(
        "POST /api/referrals",
        201,
        json={"customer_id": carl, "referrer_id": bea, "note": "Came to the tasting"},
    )
    assert [r["id"] for r in api.call("GET /api/referrals", 200)] == [linked["id"]]
    mine = api.call("GET /api/customers/{customer_id}/referrals", 200, customer_id=bea)
    assert [r["customer_id"] for r in mine["referred"]] == [carl]
    asked = api.call("GET /api/referrals/promoters-to-ask", 200)
    assert dana in [p["customer_id"] for p in asked]  # her 10 above
    api.call("GET /api/referral-settings", 200)
    api.call("PUT /api/referral-settings", 200, json={"reward": "A free 250 g bag"})
    api.call("GET /api/loyalty/settings", 200)
    api.call(
        "PUT /api/loyalty/settings",
        200,
        json={"points_per_unit": 2, "tiers": {"Bronze": 1, "Gold": 100}},
    )
    refreshed = api.call("POST /api/loyalty/refresh", 200, json={"day": day(0)})
    assert refreshed["customers"] >= 2  # Bea and Carl bought
    earned = api.call("GET /api/referral-rewards", 200, params={"status": "earned"})
    assert [w["customer_id"] for w in earned] == [bea]  # Carl was linked after his order
    api.call(
        "POST /api/referral-rewards/{reward_id}/give",
        200,
        reward_id=earned[0]["id"],
        json={"note": "A bag of the Kenya"},
    )
    assert (
        api.call("GET /api/customers/{customer_id}/loyalty", 200, customer_id=bea)["tier"] == "Gold"
    )
    assert api.call("GET /api/loyalty/tier-changes", 200, params={"since": moment(0, 0)})
