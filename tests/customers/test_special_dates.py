"""Special dates: birthdays, customer anniversaries and special dates coming up, by index."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from keepwell import clock
from keepwell.accounts.models import TeamMember
from keepwell.customers.models import Customer, SpecialDate
from keepwell.customers.special_dates import (
    Window,
    add_special_date,
    delete_special_date,
    list_special_dates,
    set_birthday,
    upcoming,
    upcoming_statements,
    windows,
)
from keepwell.db import transaction
from keepwell.errors import InvalidInput, NotFound


def member(session: Session, email: str = "ana@example.com") -> TeamMember:
    row = TeamMember(email=email, name=email.split("@")[0].title())
    session.add(row)
    session.flush()
    return row


def customer(
    session: Session,
    name: str,
    owner: TeamMember | None = None,
    *,
    birthday: date | None = None,
    first_seen: datetime | None = None,
    cultural_notes: str | None = None,
) -> Customer:
    row = Customer(
        name=name,
        owner_id=owner.id if owner else None,
        birthday=birthday,
        birthday_md=birthday.month * 100 + birthday.day if birthday else None,
        first_seen=first_seen,
        anniversary_md=first_seen.month * 100 + first_seen.day if first_seen else None,
        cultural_notes=cultural_notes,
    )
    session.add(row)
    session.flush()
    return row


def seen(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(hour=9, tzinfo=UTC)


def names(found: list) -> list[tuple[str, str, date]]:  # type: ignore[type-arg]
    return [(u.customer_name, u.kind, u.on) for u in found]


# --- recording ---------------------------------------------------------------------


def test_add_special_date_sets_month_day_and_a_gesture_by_kind(engine: Engine) -> None:
    with transaction(engine) as session:
        bea = customer(session, "Bea")
        renewal = add_special_date(session, bea, kind="Renewal", on_date=date(2024, 3, 9))
        founding = add_special_date(
            session, bea, kind="founding", on_date=date(1998, 12, 24), label="Bea & Co founded"
        )
        custom = add_special_date(
            session, bea, kind="custom", on_date=date(2027, 1, 2), yearly=False, gesture="flowers"
        )
        assert (renewal.kind, renewal.on_md, renewal.gesture) == (
            "renewal",
            309,
            "a call before the renewal",
        )
        assert (founding.on_md, founding.gesture, founding.label) == (
            1224,
            "a small gift",
            "Bea & Co founded",
        )
        assert (custom.yearly, custom.gesture) == (False, "flowers")
        anniversary = add_special_date(session, bea, kind="anniversary", on_date=date(2020, 6, 1))
        assert anniversary.gesture == "a handwritten note"
        assert [d.id for d in list_special_dates(session, bea)] == [
            custom.id,
            renewal.id,
            anniversary.id,
            founding.id,
        ]


def test_add_special_date_rejects_bad_input(engine: Engine) -> None:
    with transaction(engine) as session:
        bea = customer(session, "Bea")
        add_special_date(session, bea, kind="renewal", on_date=date(2024, 3, 9))
        for kwargs, field, why in (
            ({"kind": "birthday", "on_date": date(1990, 1, 1)}, "kind", "use set_birthday"),
            ({"kind": "wedding", "on_date": date(1990, 1, 1)}, "kind", "unknown kind 'wedding'"),
            # the same again
            ({"kind": "renewal", "on_date": date(2024, 3, 9)}, "on_date", "recorded already"),
            (
                {"kind": "custom", "on_date": date(2024, 3, 9), "label": "x" * 201},
                "label",
                "longer than 200 characters",
            ),
        ):
            with pytest.raises(InvalidInput, match=why) as caught:
                add_special_date(session, bea, **kwargs)  # type: ignore[arg-type]
            assert caught.value.field == field
        assert session.scalar(sa.select(sa.func.count()).select_from(SpecialDate)) == 1


def test_delete_special_date(engine: Engine) -> None:
    with transaction(engine) as session:
        bea = customer(session, "Bea")
        row = add_special_date(session, bea, kind="renewal", on_date=date(2024, 3, 9))
        delete_special_date(session, row.id)
        assert list_special_dates(session, bea) == []
        with pytest.raises(NotFound, match=f"no special date #{row.id}$"):
            delete_special_date(session, row.id)


def test_set_birthday_keeps_the_month_day(engine: Engine) -> None:
    with clock.frozen("2026-11-25"), transaction(engine) as session:
        bea = customer(session, "Bea")
        set_birthday(session, bea, date(1990, 2, 29 - 1))
        assert (bea.birthday, bea.birthday_md) == (date(1990, 2, 28), 228)
        with pytest.raises(InvalidInput, match="2026-11-26 is in the future") as caught:
            set_birthday(session, bea, date(2026, 11, 26))
        assert caught.value.field == "birthday"
        set_birthday(session, bea, None)
        assert (bea.birthday, bea.birthday_md) == (None, None)


# --- the windows of month-days ---------------------------------------------------------


def test_windows_split_at_the_year_end() -> None:
    assert windows(date(2026, 12, 28), 14) == [
        Window(2026, 1228, 1231, date(2026, 12, 28), date(2026, 12, 31)),
        Window(2027, 101, 111, date(2027, 1, 1), date(2027, 1, 11)),
    ]
    assert windows(date(2026, 11, 25), 0) == [
        Window(2026, 1125, 1125, date(2026, 11, 25), date(2026, 11, 25))
    ]


def test_windows_take_in_29_february_on_the_28th_of_other_years() -> None:
    assert windows(date(2027, 2, 14), 14)[0].high_md == 229  # 2027 has no 29 February
    assert windows(date(2028, 2, 14), 14)[0].high_md == 228  # 2028 has one
    assert windows(date(2026, 3, 1), 364)[-1] == Window(
        2027, 101, 229, date(2027, 1, 1), date(2027, 2, 28)
    )
    assert windows(date(2027, 3, 1), 364)[-1].high_md == 228  # 29 Feb 2028 is a year away


def test_days_ahead_and_limit_are_checked() -> None:
    for kwargs in ({"days_ahead": -1}, {"days_ahead": 365}, {"limit": 0}):
        with pytest.raises(InvalidInput) as caught:
            upcoming_statements(today=date(2026, 1, 1), **kwargs)  # type: ignore[arg-type]
        assert caught.value.field == next(iter(kwargs))


# --- coming up ---------------------------------------------------------------------


def test_upcoming_birthdays_across_the_year_end(engine: Engine) -> None:
    with transaction(engine) as session:
        ana = member(session)
        for name, day in [
            ("Before", date(1980, 12, 27)),
            ("Today", date(1980, 12, 28)),
            ("NewYear", date(1990, 1, 1)),
            ("LastDay", date(1990, 1, 11)),
            ("After", date(1990, 1, 12)),
            ("NoYear", date(1904, 12, 30)),
        ]:
            customer(session, name, ana, birthday=day, cultural_notes="Prefers calls")
        found = upcoming(session, today=date(2026, 12, 28), days_ahead=14)
        assert names(found) == [
            ("Today", "birthday", date(2026, 12, 28)),
            ("NoYear", "birthday", date(2026, 12, 30)),
            ("NewYear", "birthday", date(2027, 1, 1)),
            ("LastDay", "birthday", date(2027, 1, 11)),
        ]
        assert [u.years for u in found] == [46, None, 37, 37]
        assert {u.gesture for u in found} == {"a card"}
        assert found[0].cultural_notes == "Prefers calls" and found[0].owner_id == ana.id


def test_29_february_is_celebrated_on_the_28th_in_other_years(engine: Engine) -> None:
    with transaction(engine) as session:
        leapling = customer(session, "Leap", birthday=date(2000, 2, 29))
        add_special_date(session, leapling, kind="founding", on_date=date(2012, 2, 29))
        found = upcoming(session, today=date(2027, 2, 14), days_ahead=14)
        assert names(found) == [
            ("Leap", "birthday", date(2027, 2, 28)),
            ("Leap", "founding", date(2027, 2, 28)),
        ]
        assert [u.years for u in found] == [27, 15]
        assert upcoming(session, today=date(2028, 2, 14), days_ahead=14) == []
        found = upcoming(session, today=date(2028, 2, 14), days_ahead=15)
        assert [u.on for u in found] == [date(2028, 2, 29)] * 2
        assert upcoming(session, today=date(2027, 3, 1), days_ahead=30) == []


def test_one_off_and_yearly_special_dates(engine: Engine) -> None:
    with transaction(engine) as session:
        bea = customer(session, "Bea")
        yearly = add_special_date(
            session, bea, kind="renewal", on_date=date(2020, 12, 1), label="Contract renewal"
        )
        add_special_date(session, bea, kind="custom", on_date=date(2020, 12, 2), yearly=False)
        once = add_special_date(
            session, bea, kind="custom", on_date=date(2026, 12, 3), yearly=False, label="Launch"
        )
        add_special_date(session, bea, kind="anniversary", on_date=date(2027, 12, 4))  # not yet
        found = upcoming(session, today=date(2026, 11, 25), days_ahead=14)
        assert [(u.special_date_id, u.on, u.years, u.label) for u in found] == [
            (yearly.id, date(2026, 12, 1), 6, "Contract renewal"),
            (once.id, date(2026, 12, 3), None, "Launch"),
        ]
        assert found[0].gesture == "a call before the renewal"
        # the yearly anniversary first comes up in its own year
        later = upcoming(session, today=date(2027, 11, 25), days_ahead=14)
        assert [(u.kind, u.on, u.years) for u in later] == [
            ("renewal", date(2027, 12, 1), 7),
            ("anniversary", date(2027, 12, 4), None),
        ]


def test_customer_anniversaries_skip_the_first_year_and_mark_milestones(engine: Engine) -> None:
    with transaction(engine) as session:
        customer(session, "Joined today", first_seen=seen("2026-11-25"))
        customer(session, "One year", first_seen=seen("2025-11-26"))
        customer(session, "Six years", first_seen=seen("2020-11-27"))
        customer(session, "Over the year end", first_seen=seen("2026-01-02"))
        found = upcoming(session, today=date(2026, 11, 25), days_ahead=14)
        assert [(u.customer_name, u.years, u.gesture) for u in found] == [
            ("One year", 1, "a handwritten thank-you note"),
            ("Six years", 6, "a small gift and a handwritten note"),
        ]
        assert {u.kind for u in found} == {"customer_anniversary"}
        found = upcoming(session, today=date(2026, 12, 28), days_ahead=14)
        assert [(u.customer_name, u.on, u.years) for u in found] == [
            ("Over the year end", date(2027, 1, 2), 1)
        ]


def test_upcoming_for_one_member(engine: Engine) -> None:
    with transaction(engine) as session:
        ana, cy = member(session), member(session, "cy@example.com")
        day = date(1990, 12, 1)
        bea = customer(session, "Bea", ana, birthday=day, first_seen=seen("2020-12-02"))
        customer(session, "Dan", cy, birthday=day, first_seen=seen("2020-12-02"))
        customer(session, "Nobody's", None, birthday=day)
        add_special_date(session, bea, kind="renewal", on_date=date(2020, 12, 3))
        dan_date = add_special_date(
            session,
            session.scalars(sa.select(Customer).where(Customer.name == "Dan")).one(),
            kind="renewal",
            on_date=date(2020, 12, 3),
        )
        mine = upcoming(session, today=date(2026, 11, 25), member_id=ana.id)
        assert {u.customer_name for u in mine} == {"Bea"}
        assert [u.kind for u in mine] == ["birthday", "customer_anniversary", "renewal"]
        everyone = upcoming(session, today=date(2026, 11, 25))
        assert sorted({u.customer_name for u in everyone}) == ["Bea", "Dan", "Nobody's"]
        assert len(everyone) == 7
        assert dan_date.id in {u.special_date_id for u in everyone}


def test_upcoming_stops_at_the_limit_in_date_order(engine: Engine) -> None:
    with transaction(engine) as session:
        ana = member(session)
        for day in range(10, 0, -1):
            customer(session, f"C{day:02}", ana, birthday=date(1990, 12, day))
        found = upcoming(session, today=date(2026, 12, 1), limit=3, member_id=ana.id)
        assert [u.customer_name for u in found] == ["C01", "C02", "C03"]
        found = upcoming(session, today=date(2026, 12, 1), limit=3)
        assert [u.customer_name for u in found] == ["C01", "C02", "C03"]


@pytest.mark.parametrize("member_id", [1, None])
def test_upcoming_reads_the_month_day_indexes(sqlite_engine: Engine, member_id: int | None) -> None:
    """No scan of customers or special dates: each statement searches an md index."""
    with sqlite_engine.connect() as conn:
        statements = upcoming_statements(today=date(2026, 12, 28), member_id=member_id)
        assert len(statements) == (6 if member_id else 10)  # two windows over the year end
        for source, _window, statement in statements:
            sql = statement.compile(sqlite_engine, compile_kwargs={"literal_binds": True})
            plan = " | ".join(row[-1] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}"))
            index = {
                "birthday": "USING INDEX ix_customers_owner_id_birthday_md (owner_id=? AND "
                "birthday_md>? AND birthday_md<?)",
                "customer_anniversary": "USING INDEX ix_customers_owner_id_anniversary_md "
                "(owner_id=? AND anniversary_md>? AND anniversary_md<?)",
                "special": "SEARCH special_dates USING INDEX ix_special_dates_on_md "
                "(on_md>? AND on_md<?)",
            }[source]
            assert index in plan, plan
            assert "SCAN customers" not in plan and "SCAN special_dates" not in plan, plan
