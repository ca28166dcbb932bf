"""The desk's own commands, each run for real in a fresh process: setting up, importing,
the team and its access, settings, backups, and one customer's record.

Each test works on its own copy of the demo desk (or on a desk `keepwell init` made).
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.smoke.conftest import DEMO_CUSTOMERS, Demo
from tests.smoke.process import Desk, covers, environment, keepwell

ANNA, JONAS, SOFIA = "anna@keepwell.example", "jonas@keepwell.example", "sofia@keepwell.example"


@covers("init")
def test_init_creates_then_finds_the_desk_up_to_date(tmp_path: Path) -> None:
    env = environment(tmp_path)
    path = tmp_path / "shop.db"
    assert "Created" in keepwell("init", "--database", str(path), env=env).out
    assert "is up to date" in keepwell("init", "--database", str(path), env=env).out
    # a command on a file nobody initialised says what to do, and changes nothing
    bare = keepwell("member", "list", "--database", str(tmp_path / "new.db"), env=env, expect=1)
    assert "run `keepwell init` first" in bare.err


@covers("demo")
def test_demo_builds_a_desk_to_explore(demo: Demo, tmp_path: Path) -> None:
    assert demo.shown["desk"]["customers"] == DEMO_CUSTOMERS  # the session's desk
    path = tmp_path / "small.db"
    shown = keepwell(
        "demo",
        "--no-serve",
        "--customers",
        "20",
        "--seed",
        "2",
        "--database",
        str(path),
        env=environment(tmp_path),
    ).out
    assert "Sign in as anna@keepwell.example with the password" in shown
    assert path.exists()


@covers("import orders", "import customers")
def test_imports_read_a_shops_exports(empty_desk: Desk, tmp_path: Path) -> None:
    customers = tmp_path / "customers.csv"
    customers.write_text(
        "customer_id,name,email,segment,birthday\n"
        "C1,Ana Silva,ana@example.com,vip,1980-02-29\n"
        "C2,Ben Okafor,ben@example.com,retail,\n"
    )
    done = empty_desk.run("import", "customers", str(customers), "--json").json()
    assert (done["added"], done["rejected"]) == (2, 0)
    orders = tmp_path / "orders.csv"
    orders.write_text(
        "order_id,customer_id,order_date,amount,product\n"
        "S-1,C1,2026-10-01,45.00,Grinder\n"
        "S-2,C1,2026-11-02,12.50,Beans\n"
        "S-3,C3,2026-11-03,9.90,Filters\n"
    )
    shown = empty_desk.run("import", "orders", str(orders), "--currency", "EUR").out
    assert "orders: 3 added, 0 updated, 0 unchanged, 0 rejected" in shown
    assert "customers: 1 added" in shown  # C3 was new
    again = empty_desk.run("import", "orders", str(orders), "--currency", "EUR", "--json").json()
    assert (again["added"], again["unchanged"]) == (0, 3)
    ana = empty_desk.json("show", "C1")
    assert (ana["profile"]["order_count"], ana["profile"]["revenue_minor"]) == (2, 5750)
    # a bad cell: the file, line and column, exit 1, nothing written
    bad = tmp_path / "bad.csv"
    bad.write_text("customer_id,order_date,amount\nC1,2026-11-04,1.00\nC2,2026-11-04,1.2.3\n")
    refused = empty_desk.run("import", "orders", str(bad), expect=1)
    assert f"{bad}:3: column amount: '1.2.3' is not an amount" in refused.err
    assert empty_desk.json("show", "C1")["profile"]["order_count"] == 2


@covers(
    "member add",
    "member list",
    "user add",
    "user password",
    "token create",
    "token list",
    "token revoke",
    "audit list",
)
def test_the_team_its_sign_ins_tokens_and_the_audit_trail(desk: Desk) -> None:
    added = desk.run("member", "add", "lea@keepwell.example", "--name", "Lea Roth")
    assert "Added lea@keepwell.example (member)" in added.out
    members = desk.json("member", "list")
    assert "lea@keepwell.example" in [m["email"] for m in members]
    user = desk.run("user", "add", "olu@keepwell.example", "--role", "admin", "--name", "Olu")
    assert "Added olu@keepwell.example (admin)" in user.out and "Password: " in user.out
    changed = desk.run(
        "user",
        "password",
        "olu@keepwell.example",
        "--password-stdin",
        stdin="correct horse battery staple\n",
    )
    assert "New password set for olu@keepwell.example" in changed.out
    made = desk.run("token", "create", "olu@keepwell.example", "--name", "shop sync")
    assert "Token #1 for olu@keepwell.example" in made.out
    tokens = desk.json("token", "list")
    assert [(t["id"], t["name"], t["revoked_at"]) for t in tokens] == [(1, "shop sync", None)]
    assert "Token #1 revoked" in desk.run("token", "revoke", "1").out
    assert desk.json("token", "list") == []
    assert desk.json("token", "list", "--revoked")[0]["revoked_at"] is not None
    trail = desk.json("audit", "list", "--limit", "20")
    assert {"api_tokens", "team_members"} <= {e["table_name"] for e in trail}
    assert all(e["via"] == "cli" for e in trail[:3])
    # a bad input: a clear error, exit 1
    assert "error:" in desk.run("token", "revoke", "999", expect=1).err


@covers("setting list", "setting get", "setting set", "setting unset")
def test_settings_are_set_read_and_forgotten(desk: Desk) -> None:
    assert "every default applies" in desk.run("setting", "list").out
    desk.run("setting", "set", "outreach.base_url", '"https://desk.shop.example"')
    assert desk.json_out("setting", "get", "outreach.base_url") == "https://desk.shop.example"
    assert 'outreach.base_url = "https://desk.shop.example"' in desk.run("setting", "list").out
    assert "back to its default" in desk.run("setting", "unset", "outreach.base_url").out
    assert desk.json_out("setting", "get", "outreach.base_url") is None
    assert "not JSON" in desk.run("setting", "set", "x", "not json", expect=1).err


@covers("backup", "restore", "doctor")
def test_backup_restore_and_the_doctor(desk: Desk, tmp_path: Path) -> None:
    diagnosis = desk.json("doctor")
    assert diagnosis["level"] in ("ok", "warning")
    assert {c["name"] for c in diagnosis["checks"]} >= {"database", "schema", "playbooks"}
    copy = tmp_path / "backup.sqlite"
    assert "Backed up to" in desk.run("backup", str(copy)).out
    fresh = tmp_path / "restored.db"
    shown = desk.run("restore", str(copy), "--database", str(fresh)).out
    assert "Restored" in shown
    env = environment(desk.home, f"sqlite:///{fresh}")
    restored = keepwell("show", "#5", "--json", env=env).json()
    assert restored == desk.json("show", "#5")


@covers("show", "log", "owner", "customer list", "customer export", "customer erase")
def test_one_customers_record_contact_owner_export_and_erasure(desk: Desk) -> None:
    before = desk.json("show", "C000005")
    assert before["profile"]["name"] == "Mariam Rahman"
    found = desk.json("customer", "list", "-q", "mariam.rahman@webmail.example")
    assert [(c["id"], c["name"]) for c in found] == [(5, "Mariam Rahman")]
    table = desk.run("customer", "list", "--owner", JONAS, "--sort", "-revenue", "--limit", "3").out
    assert table.count("jonas@keepwell.example") == 3
    logged = desk.json(
        "log",
        "mariam.rahman@webmail.example",
        "--channel",
        "call",
        "--summary",
        "Asked about the new roast",
        "--sentiment",
        "positive",
        "--by",
        JONAS,
    )
    assert (logged["customer_id"], logged["summary"]) == (5, "Asked about the new roast")
    record = desk.json("show", "#5")
    assert "Asked about the new roast" in json.dumps(record["timeline"])
    assert record["profile"]["next_check_in_at"] > before["profile"]["next_check_in_at"]
    moved = desk.run("owner", "#5", SOFIA, "--reason", "speaks Arabic", "--by", ANNA)
    assert "Mariam Rahman is looked after by Sofía Marín" in moved.out
    exported = desk.json_out("customer", "export", "#5")
    assert exported["customer"]["email"] == "mariam.rahman@webmail.example"
    erased = desk.run("customer", "erase", "#5", "--yes").out
    assert "Erased customer #5" in erased
    gone = json.dumps(desk.json_out("customer", "export", "#5")["customer"])
    assert "Mariam" not in gone and "mariam.rahman" not in gone
    assert "error:" in desk.run("show", "#99999", expect=1).err
