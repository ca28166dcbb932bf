"""Referrals: codes, links by API, CLI and import (bad codes, self-referral, duplicates
refused and nothing written), rewards pending → earned → given, advocates."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from keepwell import clock, db
from keepwell.cli import app
from keepwell.customers.models import Customer
from keepwell.errors import ImportRejected, InvalidInput
from keepwell.ingest.customers_import import import_customers
from keepwell.orders.models import Order
from keepwell.referrals.models import Referral, ReferralCode, ReferralReward
from keepwell.referrals.service import (
    ALPHABET,
    advocates,
    code_of,
    earn_rewards,
    get_reward,
    give_reward,
    link_referral,
    normalize_code,
    promoters_to_ask,
    unlink_referral,
)
from tests.api.conftest import Desk

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def people(engine: Engine, *names: str) -> dict[str, int]:
    with db.transaction(engine) as session:
        made = [
            Customer(name=n, external_id=n, email=f"{n.lower()}@example.com", tags=[])
            for n in names
        ]
        session.add_all(made)
        session.flush()
        return {c.name: c.id for c in made}


def code(engine: Engine, customer_id: int) -> str:
    with db.transaction(engine) as session:
        found = session.get(Customer, customer_id)
        assert found is not None
        made = code_of(session, found)
        assert made is not None
        return made


def count(engine: Engine, model: type[db.Base]) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(model)).scalar_one()


def buy(engine: Engine, customer_id: int, at: datetime) -> None:
    with db.transaction(engine) as session:
        session.add(
            Order(
                external_id=f"o-{customer_id}-{at:%s}", customer_id=customer_id, ordered_at=at,
                amount_minor=2500, currency="EUR",
            )
        )  # fmt: skip


def test_codes_are_unique_readable_and_stable(engine: Engine) -> None:
    ids = people(engine, *(f"P{n}" for n in range(30)))
    codes = [code(engine, cid) for cid in ids.values()]
    assert len(set(codes)) == 30
    assert all(len(c) == 8 and set(c) <= set(ALPHABET) for c in codes)
    assert not set("IL01O") & set("".join(codes))  # no look-alikes
    assert code(engine, ids["P0"]) == codes[0]  # asked again: the same code
    assert normalize_code(f" {codes[0][:4].lower()}-{codes[0][4:]} ") == codes[0]


def test_reward_goes_pending_earned_given(engine: Engine) -> None:
    ids = people(engine, "Ana", "Ben", "Cat")
    ana_code = code(engine, ids["Ana"])
    with clock.frozen(NOW), db.transaction(engine) as session:
        ben = session.get(Customer, ids["Ben"])
        assert ben is not None
        referral = link_referral(session, ben, code=ana_code.lower(), note="met at the market")
        reward = session.scalars(sa.select(ReferralReward)).one()
        assert (referral.referrer_id, referral.code, reward.status) == (
            ids["Ana"],
            ana_code,
            "pending",
        )
        with pytest.raises(InvalidInput, match="not earned yet"):
            give_reward(session, reward, member=None)
    buy(engine, ids["Ben"], NOW - timedelta(days=1))
    with engine.begin() as conn:
        assert earn_rewards(conn) == 1
        assert earn_rewards(conn) == 0  # earned once
    with clock.frozen(NOW), db.transaction(engine) as session:
        reward = get_reward(session, reward.id)
        assert (reward.status, reward.earned_at) == ("earned", NOW - timedelta(days=1))
        give_reward(session, reward, member=None, note="a bag of the Ethiopian")
        assert (reward.status, reward.given_at) == ("given", NOW)
        with pytest.raises(InvalidInput, match="given already"):
            give_reward(session, reward, member=None)
        assert advocates(session) == {ids["Ana"]}
    # a customer who bought before being linked earns the reward at once
    buy(engine, ids["Cat"], NOW - timedelta(days=3))
    with clock.frozen(NOW), db.transaction(engine) as session:
        cat = session.get(Customer, ids["Cat"])
        ana = session.get(Customer, ids["Ana"])
        assert cat is not None and ana is not None
        link_referral(session, cat, referrer=ana)
        rewards = session.scalars(sa.select(ReferralReward.status).order_by(ReferralReward.id))
        assert list(rewards) == ["given", "earned"]


def test_promoters_to_ask_include_customers_without_an_external_id(engine: Engine) -> None:
    """A promoter typed in by hand (no external id) is suggested; one who referred
    someone, one whose latest answer is no longer a 9-10 and an erased one are not."""
    from keepwell.customers.privacy import erase_customer
    from keepwell.feedback.answers import record_feedback

    ids = people(engine, "Ana", "Ben", "Cat", "Dan", "Eve")
    with clock.frozen(NOW), db.transaction(engine) as session:
        hand = Customer(name="Fay", email="fay@example.com", tags=[])  # no external id
        session.add(hand)
        session.flush()
        ids["Fay"] = hand.id
        for name in ("Ana", "Ben", "Cat", "Dan", "Fay"):
            found = session.get(Customer, ids[name])
            assert found is not None
            record_feedback(session, found, "nps", score=10,
                            answered_at=NOW - timedelta(days=2))  # fmt: skip
        cat, eve, ben = (session.get(Customer, ids[n]) for n in ("Cat", "Eve", "Ben"))
        assert cat is not None and eve is not None and ben is not None
        record_feedback(session, cat, "nps", score=4, answered_at=NOW - timedelta(days=1))
        link_referral(session, eve, referrer=ben)
        dan = session.get(Customer, ids["Dan"])
        assert dan is not None
        erase_customer(session, dan, keep_orders=True)
    with db.transaction(engine) as session:
        asked = {s.customer_id for s in promoters_to_ask(session)}
    assert asked == {ids["Ana"], ids["Fay"]}


def test_unlinking_removes_the_referral_and_its_pending_reward(engine: Engine) -> None:
    """A referral recorded by mistake goes, with its reward while not given (the reward's
    row used to be deleted twice: by the cascade and by its own versioned DELETE)."""
    ids = people(engine, "Ana", "Ben", "Cat")
    ana_code = code(engine, ids["Ana"])
    with clock.frozen(NOW), db.transaction(engine) as session:
        ben, cat = session.get(Customer, ids["Ben"]), session.get(Customer, ids["Cat"])
        assert ben is not None and cat is not None
        mistaken = link_referral(session, ben, code=ana_code)
        kept = link_referral(session, cat, code=ana_code)
    with db.transaction(engine) as session:
        unlink_referral(session, mistaken.id)
    assert count(engine, Referral) == count(engine, ReferralReward) == 1
    with db.transaction(engine) as session:
        assert session.scalars(sa.select(ReferralReward.referral_id)).one() == kept.id
        reward = session.scalars(sa.select(ReferralReward)).one()
        reward.status, reward.earned_at, reward.given_at = "given", NOW, NOW
    with db.transaction(engine) as session, pytest.raises(InvalidInput, match="given already"):
        unlink_referral(session, kept.id)
    assert count(engine, Referral) == 1


@pytest.mark.parametrize(
    ("how", "field"),
    [
        ("unknown code", "referral_code"),
        ("not a code", "referral_code"),
        ("self", "referrer"),
        ("twice", "customer_id"),
        ("both ways", "referrer"),
        ("code and referrer disagree", "referral_code"),
    ],
)
def test_bad_links_are_refused_with_the_reason_and_write_nothing(
    engine: Engine, how: str, field: str
) -> None:
    ids = people(engine, "Ana", "Ben", "Cat")
    ana_code = code(engine, ids["Ana"])
    with db.transaction(engine) as session:
        ben = session.get(Customer, ids["Ben"])
        assert ben is not None
        link_referral(session, ben, code=ana_code)
    before = (count(engine, Referral), count(engine, ReferralReward))
    with pytest.raises(InvalidInput) as refused, db.transaction(engine) as session:
        get = session.get
        ana, ben, cat = (
            get(Customer, ids["Ana"]),
            get(Customer, ids["Ben"]),
            get(Customer, ids["Cat"]),
        )
        assert ana is not None and ben is not None and cat is not None
        if how == "unknown code":
            link_referral(session, cat, code="ZZZZZZZZ")
        elif how == "not a code":
            link_referral(session, cat, code="hello!")
        elif how == "self":
            link_referral(session, ana, code=ana_code)
        elif how == "twice":
            link_referral(session, ben, referrer=cat)
        elif how == "both ways":
            link_referral(session, ana, referrer=ben)
        else:
            link_referral(session, cat, code=ana_code, referrer=ben)
    assert refused.value.field == field
    assert (count(engine, Referral), count(engine, ReferralReward)) == before


# --- import -------------------------------------------------------------------------


def test_import_links_by_code_and_by_id_and_is_idempotent(engine: Engine, tmp_path: Path) -> None:
    ids = people(engine, "Ana")
    ana_code = code(engine, ids["Ana"])
    path = tmp_path / "customers.csv"
    path.write_text(
        "id,name,referral_code,referred_by\n"
        f"C1,Ben,{ana_code.lower()},\n"
        "C2,Cat,,C3\n"  # referred by a customer who comes later in the file
        "C3,Dan,,\n"
        f"C4,Eve,{ana_code},Ana\n"  # both, agreeing
    )
    with clock.frozen(NOW):
        summary = import_customers(engine, path)
        assert summary.added == 4
        again = import_customers(engine, path)  # the same file again adds nothing
        assert again.unchanged == 4
    with db.transaction(engine) as session:
        pairs = session.execute(
            sa.select(Customer.external_id, Referral.referrer_id, Referral.source)
            .join(Referral, Referral.customer_id == Customer.id)
            .order_by(Customer.external_id)
        ).all()
        dan = session.scalar(sa.select(Customer.id).where(Customer.external_id == "C3"))
    assert pairs == [
        ("C1", ids["Ana"], "import"),
        ("C2", dan, "import"),
        ("C4", ids["Ana"], "import"),
    ]
    assert count(engine, ReferralReward) == 3


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (
            "C1,Ben,ZZZZZZZZ,\n",
            "column referral_code: no customer has the referral code 'ZZZZZZZZ'",
        ),
        ("C1,Ben,not-a-code!,\n", "column referral_code: 'not-a-code!' is not a referral code"),
        ("C1,Ben,,Nobody\n", "column referred_by: no customer 'Nobody'"),
        ("C1,Ben,,C1\n", "column referred_by: a customer cannot refer themselves"),
        ("Ana,Ana,{code},\n", "column referral_code: a customer cannot refer themselves"),
        ("Cat,Cat,,Ana\n", "column referred_by: customer 'Cat' was referred by #2 already"),
        ("C1,Ben,,C2\nC2,Dan,,C1\n", "column referred_by: customer #"),
    ],
)
def test_import_refuses_bad_referrals_and_writes_nothing(
    engine: Engine, tmp_path: Path, rows: str, message: str
) -> None:
    ids = people(engine, "Ana", "Bob", "Cat")
    with db.transaction(engine) as session:
        cat, bob = session.get(Customer, ids["Cat"]), session.get(Customer, ids["Bob"])
        assert cat is not None and bob is not None
        link_referral(session, cat, referrer=bob)
    path = tmp_path / "bad.csv"
    path.write_text(
        "id,name,referral_code,referred_by\n" + rows.format(code=code(engine, ids["Ana"]))
    )
    before = (count(engine, Customer), count(engine, Referral), count(engine, ReferralCode))
    with pytest.raises(ImportRejected) as refused:
        import_customers(engine, path)
    assert message.replace("#2", f"#{ids['Bob']}") in str(refused.value)
    assert "nothing was imported" in str(refused.value)
    assert (count(engine, Customer), count(engine, Referral), count(engine, ReferralCode)) == before


# --- API and CLI --------------------------------------------------------------------


def test_api_links_and_refuses_with_the_field(desk: Desk) -> None:
    ids = people(desk.engine, "Ana", "Ben")
    client = desk.client
    made = client.post(f"/api/customers/{ids['Ana']}/referral-code", headers=desk.auth())
    assert made.status_code == 200, made.text
    ana_code = made.json()["code"]
    assert (
        client.post(f"/api/customers/{ids['Ana']}/referral-code", headers=desk.auth()).json()[
            "code"
        ]
        == ana_code
    )
    viewer = client.post(
        "/api/referrals", json={"customer_id": ids["Ben"], "referral_code": ana_code},
        headers=desk.auth("viewer"),
    )  # fmt: skip
    assert viewer.status_code == 403
    bad = client.post(
        "/api/referrals", json={"customer_id": ids["Ben"], "referral_code": "ZZZZZZZZ"},
        headers=desk.auth(),
    )  # fmt: skip
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["field"] == "referral_code"
    selfish = client.post(
        "/api/referrals", json={"customer_id": ids["Ana"], "referral_code": ana_code},
        headers=desk.auth(),
    )  # fmt: skip
    assert selfish.status_code == 422 and "themselves" in selfish.text
    assert count(desk.engine, Referral) == 0
    linked = client.post(
        "/api/referrals", json={"customer_id": ids["Ben"], "referral_code": ana_code},
        headers=desk.auth(),
    )  # fmt: skip
    assert linked.status_code == 201, linked.text
    assert linked.json()["linked_by_id"] == desk.members["member"]
    twice = client.post(
        "/api/referrals", json={"customer_id": ids["Ben"], "referrer_id": ids["Ana"]},
        headers=desk.auth(),
    )  # fmt: skip
    assert twice.status_code == 422 and "already" in twice.text
    mine = client.get(f"/api/customers/{ids['Ana']}/referrals", headers=desk.auth("viewer")).json()
    assert mine["code"] == ana_code and [r["customer_id"] for r in mine["referred"]] == [ids["Ben"]]
    assert [w["status"] for w in mine["rewards"]] == ["pending"]
    reward_id = mine["rewards"][0]["id"]
    early = client.post(f"/api/referral-rewards/{reward_id}/give", headers=desk.auth())
    assert early.status_code == 422 and "not earned" in early.text
    buy(desk.engine, ids["Ben"], NOW)
    given = client.post(
        f"/api/referral-rewards/{reward_id}/give", json={"note": "sent a mug"}, headers=desk.auth()
    )
    assert given.status_code == 200, given.text
    assert given.json()["status"] == "given"
    trail = client.get(f"/api/audit?customer={ids['Ben']}", headers=desk.auth("admin"))
    assert trail.status_code == 200
    linking = [e for e in trail.json() if e["table_name"] == "referrals"]
    assert [(e["action"], e["member_id"]) for e in linking] == [("insert", desk.members["member"])]


def test_cli_links_and_refuses(tmp_path: Path) -> None:
    runner = CliRunner()
    url = f"sqlite:///{tmp_path / 'kw.db'}"

    def run(*args: str) -> tuple[int, str, str]:
        result = runner.invoke(app, [*args, "-d", url])
        return result.exit_code, result.stdout, result.stderr

    assert run("init")[0] == 0
    csv = tmp_path / "c.csv"
    csv.write_text("id,name\nA1,Ana\nB1,Ben\n")
    assert run("import", "customers", str(csv))[0] == 0
    code_out = run("referral", "code", "A1")
    assert code_out[0] == 0
    ana_code = code_out[1].strip()
    assert run("referral", "code", "A1")[1].strip() == ana_code
    bad = run("referral", "link", "B1", "--code", "ZZZZZZZZ")
    assert bad[0] == 1 and "no customer has the referral code" in bad[2]
    selfish = run("referral", "link", "A1", "--referrer", "A1")
    assert selfish[0] == 1 and "themselves" in selfish[2]
    good = run("referral", "link", "B1", "--code", ana_code)
    assert good[0] == 0, good[2]
    again = run("referral", "link", "B1", "--referrer", "A1")
    assert again[0] == 1 and "already" in again[2]
    listed = json.loads(run("referral", "list", "--json")[1])
    assert [(r["code"], r["source"]) for r in listed] == [(ana_code, "cli")]
    rewards = json.loads(run("referral", "rewards", "--json")[1])
    assert [r["status"] for r in rewards] == ["pending"]
