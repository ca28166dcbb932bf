"""Today's agenda: every kind of item, in the stated order, each with a reason and context."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from keepwell import clock, db
from keepwell.accounts.models import TeamMember
from keepwell.agenda.service import GROUPS, agenda_for, team_agenda
from keepwell.cases.models import Case
from keepwell.customers import derived
from keepwell.customers.models import Customer
from keepwell.promises.models import Promise
from keepwell.tasks.models import Task
from keepwell.touches.service import log_touch

TODAY = date(2026, 11, 25)
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def customer(session: Session, member: TeamMember, name: str, **fields: object) -> Customer:
    values: dict[str, object] = {
        "first_seen": NOW - timedelta(days=400),
        "created_at": NOW - timedelta(days=400),
    }
    values.update(fields)
    found = Customer(name=name, owner_id=member.id, external_id=name, tags=[], **values)
    session.add(found)
    session.flush()
    return found


def world(session: Session) -> tuple[TeamMember, TeamMember]:
    ana = TeamMember(email="ana@keepwell.example", name="Ana")
    ben = TeamMember(email="ben@keepwell.example", name="Ben")
    session.add_all([ana, ben])
    session.flush()
    late = customer(session, ana, "Lena", personal_notes="two kids; loves trail running")
    today = customer(session, ana, "Omar")
    case_customer = customer(session, ana, "Yui", cultural_notes="family name first")
    quiet_rich = customer(session, ana, "Quentin", revenue_minor=900_000, order_count=12)
    birthday = customer(session, ana, "Bea", birthday=date(1980, 11, 26))
    customer(session, ben, "Other")  # Ben's customer: never on Ana's agenda
    session.add_all(
        [
            Promise(
                customer_id=late.id,
                member_id=ana.id,
                what="send the quote",
                made_at=NOW - timedelta(days=9),
                due_at=NOW - timedelta(days=3),
                original_due_at=NOW - timedelta(days=3),
            ),
            Promise(
                customer_id=today.id,
                member_id=ana.id,
                what="call back about delivery",
                made_at=NOW - timedelta(days=1),
                due_at=NOW + timedelta(hours=8),
                original_due_at=NOW + timedelta(hours=8),
            ),
            Promise(
                customer_id=today.id,
                member_id=ana.id,
                what="next week's thing",
                made_at=NOW,
                due_at=NOW + timedelta(days=7),
                original_due_at=NOW + timedelta(days=7),
            ),
            Case(
                customer_id=case_customer.id,
                member_id=ana.id,
                title="Grinder arrived broken",
                opened_at=NOW - timedelta(hours=30),
            ),
            Task(
                customer_id=case_customer.id,
                member_id=ana.id,
                kind="confirm_case",
                due_on=TODAY,
                reason="Check that Yui is really satisfied with the replacement.",
                dedupe_key="confirm-case:x",
            ),
            Task(
                customer_id=late.id,
                member_id=ana.id,
                kind="thank_you",
                due_on=TODAY - timedelta(days=1),
                reason="Thank Lena for her first order.",
                dedupe_key="thank-you",
            ),
            Task(
                customer_id=late.id,
                member_id=ana.id,
                kind="check_in",
                due_on=TODAY - timedelta(days=1),
                reason="Snoozed until next week.",
                dedupe_key="snoozed",
                snoozed_until=TODAY + timedelta(days=3),
            ),
        ]
    )
    # everyone was contacted recently but Quentin, silent for 200 days
    for c in (late, today, case_customer, birthday):
        c.last_contact_at = NOW - timedelta(days=5)
    quiet_rich.last_contact_at = NOW - timedelta(days=200)
    session.flush()
    from keepwell.reviews.service import start_review  # a key account's review, due today

    start_review(session, case_customer)
    derived.refresh(session.connection())
    session.expire_all()
    return ana, ben


def test_agenda_lists_every_kind_in_order_with_reasons(engine: Engine) -> None:
    with clock.frozen(NOW), db.transaction(engine) as session:
        ana, _ = world(session)
        agenda = agenda_for(session, ana, TODAY)
    groups = [item.group for item in agenda.items]
    assert groups == [
        "promise_overdue",
        "promise_due",
        "case",
        "case",
        "task",
        "review",
        "quiet",
        "special_date",
    ]
    assert [g for g in GROUPS if g in groups] == list(GROUPS)  # every kind appears
    assert all(item.reason.strip() and item.context.strip() for item in agenda.items)
    by_group = {item.group: item for item in agenda.items}
    assert "3 days overdue" in by_group["promise_overdue"].reason
    assert "loves trail running" in by_group["promise_overdue"].context
    assert (
        "no answer yet" in agenda.items[2].reason and "family name first" in agenda.items[2].context
    )
    assert (
        by_group["quiet"].customer == "Quentin"
        and "No contact for 200 days" in by_group["quiet"].reason
    )
    assert "birthday is tomorrow" in by_group["special_date"].reason
    assert all(item.customer != "Other" for item in agenda.items)
    assert "Snoozed" not in " ".join(item.reason for item in agenda.items)


def test_logging_a_touch_takes_a_customer_off_the_quiet_list(engine: Engine) -> None:
    with clock.frozen(NOW), db.transaction(engine) as session:
        ana, _ = world(session)
        quentin = session.query(Customer).filter_by(name="Quentin").one()
        assert any(i.group == "quiet" for i in agenda_for(session, ana, TODAY).items)
        log_touch(session, quentin, channel="call", summary="Caught up; all well", member=ana)
        assert quentin.next_check_in_at is not None and quentin.next_check_in_at > NOW
        assert not any(i.group == "quiet" for i in agenda_for(session, ana, TODAY).items)


def test_quiet_customers_longest_silence_first_with_a_count_of_the_rest(engine: Engine) -> None:
    with clock.frozen(NOW), db.transaction(engine) as session:
        ana = TeamMember(email="ana@keepwell.example", name="Ana")
        session.add(ana)
        session.flush()
        for n in range(8):
            customer(session, ana, f"Q{n}", last_contact_at=NOW - timedelta(days=100 + 10 * n))
        derived.refresh(session.connection())
        session.expire_all()
        agenda = agenda_for(session, ana, TODAY, quiet_shown=5)
    quiet = [item.customer for item in agenda.items if item.group == "quiet"]
    assert quiet == ["Q7", "Q6", "Q5", "Q4", "Q3"]
    assert agenda.more_quiet == 3


def test_team_agenda_is_grouped_by_member(engine: Engine) -> None:
    with clock.frozen(NOW), db.transaction(engine) as session:
        world(session)
        agendas = team_agenda(session, TODAY)
    assert [a.member for a in agendas] == ["Ana", "Ben"]
    assert sum(len(a.items) for a in agendas) >= 7


def test_scores_put_the_customers_most_at_risk_first(engine: Engine) -> None:
    from keepwell.scoring.models import Score

    with clock.frozen(NOW), db.transaction(engine) as session:
        ana = TeamMember(email="ana@keepwell.example", name="Ana")
        session.add(ana)
        session.flush()
        longest = customer(
            session, ana, "Silent longest", last_contact_at=NOW - timedelta(days=300)
        )
        risky = customer(session, ana, "Most at risk", last_contact_at=NOW - timedelta(days=120))
        derived.refresh(session.connection())
        session.expire_all()
        before = [i.customer for i in agenda_for(session, ana, TODAY).items if i.group == "quiet"]
        assert before == ["Silent longest", "Most at risk"]  # no scores: silence decides
        for found, risk in ((longest, 1_000), (risky, 250_000)):
            session.add(
                Score(
                    scored_on=TODAY,
                    customer_id=found.id,
                    model="bgnbd",
                    risk_minor=risk,
                    health=40,
                    stage="at_risk",
                    explanation="",
                )
            )
        session.flush()
        items = [i for i in agenda_for(session, ana, TODAY).items if i.group == "quiet"]
    assert [i.customer for i in items] == ["Most at risk", "Silent longest"]
    assert "about 2,500.00 of purchases at risk" in items[0].reason
