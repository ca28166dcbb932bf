"""The demo world: a small coffee-and-tea shop with a few years of customers and orders.

It is what `keepwell demo` shows and what tests build their worlds from, so it is
deterministic (one seeded `random.Random`, a fixed `today`) and shaped like a real
business, flaws included:

- customers arrive over `years` years, recent cohorts a little larger;
- each buys by a BG/NBD-like process: a personal purchase rate λ ~ Gamma(r, α) and,
  after every purchase, a chance p ~ Beta(a, b) of quietly stopping for good, so a
  good share of customers churn without saying so (which the analytics must detect);
- each spends around a personal mean (Gamma-Gamma-like), wholesale far more;
- the people are people: names in several languages, family and interests worth
  remembering, cultural notes, birthdays (a few coming up this week), consent,
  the odd opt-out, and special dates for business customers.

Everything is written in one transaction with bulk inserts: all or nothing.
"""

from __future__ import annotations

import math
import random
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from keepwell import clock
from keepwell.customers import derived
from keepwell.customers.special_dates import GESTURES
from keepwell.errors import InvalidInput, KeepwellError
from keepwell.ingest.demo_data import (
    COFFEE,
    COMPANY_PATTERNS,
    COMPANY_WORDS,
    CULTURAL_NOTES,
    CUSTOM_DATES,
    EQUIPMENT,
    EQUIPMENT_SHARE,
    FAMILY,
    FIRST_NAMES,
    INTERESTS,
    JAPANESE_SPEAKER,
    LANGUAGES,
    LAST_NAMES,
    MAIL_DOMAINS,
    PET_NAMES,
    PETS,
    PHONE_FORMATS,
    PREFERENCES,
    SEGMENTS,
    SPANISH_SPEAKER,
    TEA,
    TEAM,
    WHOLESALE,
    Segment,
)
from keepwell.ingest.demo_desk import build_desk
from keepwell.models import metadata

CURRENCY = "EUR"
CHUNK = 500  # customers per insert batch (and per progress report)

# The repeat-buying process (time unit: days). Tuned so that on the defaults a typical
# customer buys every one to three months, ~2,000 customers place ~12,000 orders and
# ~40 % have not ordered in the last 180 days (Beta(1, 4) for p, as in the BG/NBD
# papers' examples, leaves well over half of them quiet: too bleak for a demo shop).
RATE_SHAPE = 0.9  # r: heterogeneity of purchase rates
RATE_SCALE_DAYS = 50.0  # α: λ ~ Gamma(r, rate α), a mean gap of α/r ≈ 55 days
MAX_RATE = 1 / 10  # nobody orders more often than every 10 days on average
DROPOUT_A = 1.0  # p ~ Beta(a, b): the chance of quietly stopping after each purchase
SPEND_SHAPE = 5.0  # order values vary around the customer's own mean (CV ≈ 0.45)
RECENT_COHORT_GROWTH = 1.0  # the newest cohort is twice the size of the oldest
OPENING_SECONDS = (7 * 3600, 18 * 3600)  # business hours, UTC (08:00-19:00 in Berlin)


@dataclass(frozen=True)
class DemoSummary:
    """What `build_world` wrote."""

    members: int
    customers: int
    orders: int
    special_dates: int
    revenue_minor: int
    currency: str
    first_order: date | None
    last_order: date | None


# --- the builder ---------------------------------------------------------------------


def build_world(
    engine: Engine,
    *,
    customers: int = 2000,
    seed: int = 42,
    today: date | None = None,
    years: int = 3,
    progress: Callable[[int, int], None] | None = None,
    desk: bool = True,
) -> DemoSummary:
    """Fill an empty Keepwell database with a demo shop; returns what was written.

    The schema must exist (`keepwell.db.upgrade`). Refuses a database that already
    holds customers. `desk` adds conversations, promises, cases and tasks
    (see demo_desk). Same `seed` and `today` give the same rows, on any database.
    """
    if customers < 1:
        raise InvalidInput("customers", "must be at least 1")
    if years < 1:
        raise InvalidInput("years", "must be at least 1")
    today = today or clock.today()
    world = _World(random.Random(seed), today, years, clock.now())

    tables = metadata.tables
    customers_t = tables["customers"]
    with engine.begin() as conn:
        existing = conn.execute(sa.select(sa.func.count()).select_from(customers_t)).scalar_one()
        if existing:
            raise KeepwellError(
                f"the database already holds {existing} customers: the demo world is only "
                "built into an empty database"
            )
        owners = _team(conn, world.created_at)
        acquired = world.acquisition_times(customers)
        totals = _Totals()
        for start in range(0, customers, CHUNK):
            stop = min(start + CHUNK, customers)
            people = [world.customer(n + 1, acquired[n]) for n in range(start, stop)]
            _write_chunk(conn, world, people, owners, totals)
            if progress is not None:
                progress(start + len(people), customers)
        derived.refresh(conn)  # order counts, revenue, next check-ins, birthdays as month-day
        if desk:
            build_desk(conn, members=owners, seed=seed, today=today)

    return DemoSummary(
        members=len(owners),
        customers=customers,
        orders=totals.orders,
        special_dates=totals.special_dates,
        revenue_minor=totals.revenue_minor,
        currency=CURRENCY,
        first_order=totals.first_order.date() if totals.first_order else None,
        last_order=totals.last_order.date() if totals.last_order else None,
    )


@dataclass
class _Totals:
    orders: int = 0
    special_dates: int = 0
    revenue_minor: int = 0
    first_order: datetime | None = None
    last_order: datetime | None = None


@dataclass
class _Person:
    """One generated customer, before it has a database id."""

    row: dict[str, Any]
    owner: int  # index into TEAM
    orders: list[tuple[datetime, int, int, str, str]]  # at, amount, quantity, product, text
    special_dates: list[tuple[str, str, date, bool]]  # kind, label, on_date, yearly


def _team(conn: Connection, created_at: datetime) -> list[int]:
    """The ids of the demo team, in TEAM order; members already there are reused."""
    members_t = metadata.tables["team_members"]
    emails = [email for _, email, _ in TEAM]
    query = sa.select(members_t.c.email, members_t.c.id).where(members_t.c.email.in_(emails))
    found: dict[str, int] = {email: id_ for email, id_ in conn.execute(query)}
    for name, email, role in TEAM:
        if email not in found:
            found[email] = conn.execute(
                sa.insert(members_t)
                .values(email=email, name=name, role=role, active=True, created_at=created_at)
                .returning(members_t.c.id)
            ).scalar_one()
    return [found[email] for email in emails]


def _write_chunk(
    conn: Connection,
    world: _World,
    people: list[_Person],
    owners: list[int],
    totals: _Totals,
) -> None:
    tables = metadata.tables
    customers_t, orders_t, dates_t = (
        tables["customers"],
        tables["orders"],
        tables["special_dates"],
    )
    rows = []
    for person in people:
        person.row["owner_id"] = owners[person.owner]
        rows.append(person.row)
    ids = (
        conn.execute(
            sa.insert(customers_t).returning(customers_t.c.id, sort_by_parameter_order=True), rows
        )
        .scalars()
        .all()
    )
    if len(ids) != len(people):  # pragma: no cover - a driver without RETURNING
        raise KeepwellError("the database did not report the new customers' ids")

    order_rows: list[dict[str, Any]] = []
    date_rows: list[dict[str, Any]] = []
    for customer_id, person in zip(ids, people, strict=True):
        for at, amount, quantity, product, text in person.orders:
            totals.orders += 1
            totals.revenue_minor += amount
            order_rows.append(
                {
                    "external_id": f"O{totals.orders:07d}",
                    "customer_id": customer_id,
                    "ordered_at": at,
                    "amount_minor": amount,
                    "currency": CURRENCY,
                    "quantity": quantity,
                    "product": product,
                    "description": text,
                    "import_id": None,
                    "created_at": world.created_at,
                }
            )
        first, last = person.orders[0][0], person.orders[-1][0]
        if totals.first_order is None or first < totals.first_order:
            totals.first_order = first
        if totals.last_order is None or last > totals.last_order:
            totals.last_order = last
        for kind, label, on_date, yearly in person.special_dates:
            date_rows.append(
                {
                    "customer_id": customer_id,
                    "kind": kind,
                    "label": label,
                    "on_date": on_date,
                    "yearly": yearly,
                    "on_md": on_date.month * 100 + on_date.day,
                    "gesture": GESTURES[kind],
                }
            )
    conn.execute(sa.insert(orders_t), order_rows)
    if date_rows:
        conn.execute(sa.insert(dates_t), date_rows)
        totals.special_dates += len(date_rows)


class _World:
    """The generator's state: one random stream, the calendar, the emails taken."""

    def __init__(self, rng: random.Random, today: date, years: int, created_at: datetime) -> None:
        self.rng = rng
        self.today = today
        self.start = today - timedelta(days=round(365.25 * years))
        self.days = (today - self.start).days  # orders fall on days [0, days): before today
        self.created_at = created_at
        self.emails: set[str] = set()
        self.midnights = [
            datetime(d.year, d.month, d.day, tzinfo=UTC)
            for d in (self.start + timedelta(days=i) for i in range(self.days))
        ]
        self.languages = [code for code, _ in LANGUAGES]
        self.language_weights = [weight for _, weight in LANGUAGES]
        self.segment_weights = [s.share for s in SEGMENTS]
        upcoming = [today + timedelta(days=k) for k in range(1, 8)]
        self.upcoming_birthdays = [(d.month, d.day) for d in upcoming]
        self.birthdays_due = 0  # forced upcoming birthdays handed out so far

    # -- time

    def acquisition_times(self, count: int) -> list[float]:
        """Sorted arrival times in days since the start; the density grows linearly toward
        today, so newer cohorts are larger."""
        g = RECENT_COHORT_GROWTH
        times = []
        for _ in range(count):
            c = self.rng.random()
            u = (-1 + math.sqrt(1 + 2 * g * c * (1 + g / 2))) / g  # inverse of the linear CDF
            times.append(min(u * self.days, self.days - 1e-6))
        times.sort()
        return times

    def moment(self, t: float) -> datetime:
        """The business-hours moment for `t` (days since the start): the day is int(t), the
        fraction of the day maps onto opening hours, so a later `t` is never earlier."""
        day = int(t)
        opens, closes = OPENING_SECONDS
        return self.midnights[day] + timedelta(seconds=opens + int((t - day) * (closes - opens)))

    # -- one customer

    def customer(self, number: int, acquired: float) -> _Person:
        rng = self.rng
        segment = rng.choices(SEGMENTS, self.segment_weights)[0]
        language = rng.choices(self.languages, self.language_weights)[0]
        first = rng.choice(FIRST_NAMES[language])
        last = rng.choice(LAST_NAMES[language])
        company = None
        if segment.name == "wholesale":
            word = rng.choice(COMPANY_WORDS)
            company = rng.choice(COMPANY_PATTERNS[language]).format(word=word, last=last)
            email = self.email(_slug(first), _slug(company).replace(".", "") + ".example")
        else:
            email = self.email(self.local_part(first, last), rng.choice(MAIL_DOMAINS))

        orders = self.orders(segment, acquired)
        first_seen = orders[0][0]
        owner = rng.choices(range(len(TEAM)), segment.owner_weights)[0]
        if language == "ja" and rng.random() < 0.6:
            owner = JAPANESE_SPEAKER
        elif language == "es" and rng.random() < 0.5:
            owner = SPANISH_SPEAKER

        consent = rng.random() < 0.70
        opted_out_at = None
        if acquired < self.days - 2 and rng.random() < 0.03:
            opted_out_at = self.moment(rng.uniform(int(acquired) + 1, self.days - 1e-6))
            consent = False

        share, notes = CULTURAL_NOTES[language]
        cultural = None
        if rng.random() < share:
            cultural = rng.choice(notes).format(first=first, last=last)

        row: dict[str, Any] = {
            "external_id": f"C{number:06d}",
            "name": f"{first} {last}",
            "email": email,
            "phone": self.phone(language),
            "company": company,
            "segment": segment.name,
            "tags": sorted(rng.sample(segment.tags, rng.choice((0, 1, 1, 2, 2, 3)))),
            "owner_id": None,
            "first_seen": first_seen,
            "personal_notes": self.personal_notes(language) if rng.random() < 0.40 else None,
            "preferred_channel": rng.choices(
                [c for c, _ in segment.channels], [w for _, w in segment.channels]
            )[0],
            "language": language,
            "cultural_notes": cultural,
            "birthday": self.birthday(number),
            "marketing_consent": consent,
            "opted_out_at": opted_out_at,
            "created_at": self.created_at,
            "updated_at": self.created_at,
            "version": 1,
        }
        return _Person(row, owner, orders, self.special_dates(segment, company, acquired))

    def orders(
        self, segment: Segment, acquired: float
    ) -> list[tuple[datetime, int, int, str, str]]:
        """The BG/NBD-like order history, first order on the acquisition day."""
        rng = self.rng
        rate = min(
            rng.gammavariate(RATE_SHAPE, 1 / RATE_SCALE_DAYS) * segment.rate_factor, MAX_RATE
        )
        dropout = rng.betavariate(DROPOUT_A, segment.dropout_b)
        mean_spend = rng.gammavariate(3.0, segment.mean_spend_minor / 3.0)
        taste = rng.random()  # < 0.6 coffee, < 0.9 tea, else both
        if segment.name == "wholesale":
            shelf: Sequence[tuple[str, int]] = WHOLESALE
        elif taste < 0.6:
            shelf = COFFEE
        elif taste < 0.9:
            shelf = TEA
        else:
            shelf = COFFEE + TEA

        orders = []
        t = acquired
        while True:
            if segment.name != "wholesale" and rng.random() < EQUIPMENT_SHARE:
                product, price = rng.choice(EQUIPMENT)
                quantity, amount = 1, price
            else:
                product, price = rng.choice(shelf)
                amount = max(price, round(rng.gammavariate(SPEND_SHAPE, mean_spend / SPEND_SHAPE)))
                quantity = max(1, min(5, amount // price))
            orders.append((self.moment(t), amount, quantity, product, f"{quantity} × {product}"))
            if rng.random() < dropout:
                break  # quietly gone: no goodbye, no more orders
            t += max(1.0, rng.expovariate(rate))
            if t >= self.days:
                break
        return orders

    # -- personal details

    def local_part(self, first: str, last: str) -> str:
        f, la = _slug(first), _slug(last).replace(".", "")
        style = self.rng.randrange(5)
        if style == 0:
            return f"{f}{la[:1]}"
        if style == 1:
            return f"{f[:1]}.{la}"
        if style == 2:
            return f"{f}_{la}"
        if style == 3:
            return f"{f}.{la}{self.rng.randrange(60, 100)}"
        return f"{f}.{la}"

    def email(self, local: str, domain: str) -> str:
        candidate, n = f"{local}@{domain}", 1
        while candidate in self.emails:
            n += 1
            candidate = f"{local}{n}@{domain}"
        self.emails.add(candidate)
        return candidate

    def phone(self, language: str) -> str:
        pattern = self.rng.choice(PHONE_FORMATS[language])
        out, i = [], 0
        while i < len(pattern):
            if pattern[i] == "{":
                width = int(pattern[i + 1])
                out.append(str(self.rng.randrange(10**width)).zfill(width))
                i += 3
            else:
                out.append(pattern[i])
                i += 1
        return "".join(out)

    def personal_notes(self, language: str) -> str:
        rng = self.rng
        names = FIRST_NAMES[language]
        a, b = rng.sample(names, 2)
        pet, pet2 = rng.sample(PET_NAMES, 2)
        parts = []
        if rng.random() < 0.6:
            parts.append(rng.choice(FAMILY).format(a=a, b=b))
        if rng.random() < 0.3:
            parts.append(rng.choice(PETS).format(pet=pet, pet2=pet2))
        if rng.random() < 0.7 or not parts:
            parts.append(rng.choice(INTERESTS))
        if rng.random() < 0.5:
            parts.append(rng.choice(PREFERENCES))
        return "; ".join(parts)

    def birthday(self, number: int) -> date | None:
        """~60 % known; a few (one in 250, at least 3) fall in the 7 days after today."""
        rng = self.rng
        year = rng.randrange(1950, 2005)
        if number % 250 == 7 or (number <= 21 and number % 7 == 0):  # 7, 14, 21, 257, 507, …
            month, day = self.upcoming_birthdays[self.birthdays_due % 7]
            self.birthdays_due += 1
            return _calendar_date(year, month, day)
        if rng.random() >= 0.60:
            return None
        return date(year, 1, 1) + timedelta(days=rng.randrange(365))

    def special_dates(
        self, segment: Segment, company: str | None, acquired: float
    ) -> list[tuple[str, str, date, bool]]:
        rng = self.rng
        out: list[tuple[str, str, date, bool]] = []
        if segment.name == "wholesale" and company:
            if rng.random() < 0.45:
                out.append(
                    (
                        "renewal",
                        "Supply contract renewal",
                        self.midnights[int(acquired)].date(),
                        True,
                    )
                )
            if rng.random() < 0.30:
                year = rng.randrange(1952, self.today.year)
                founded = date(year, 1, 1) + timedelta(days=rng.randrange(365))
                out.append(("founding", f"{company} founded {year}", founded, True))
            if rng.random() < 0.15:
                label, yearly = rng.choice(CUSTOM_DATES)
                on = self.today + timedelta(days=rng.randrange(-200, 200))
                out.append(("custom", label, on, yearly))
        elif rng.random() < 0.02:
            married = date(rng.randrange(1975, self.today.year), 1, 1) + timedelta(
                days=rng.randrange(365)
            )
            out.append(("custom", "Wedding anniversary", married, True))
        return out


def _calendar_date(year: int, month: int, day: int) -> date:
    """`date(year, month, day)`, with 29 February moved to a leap year."""
    if month == 2 and day == 29:
        year -= year % 4  # 1952 … 2004 are all leap years
    return date(year, month, day)


_ASCII = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "æ": "ae", "ø": "o"})


def _slug(text: str) -> str:
    """Lower-case ASCII for an email address: 'Sofía Marín' → 'sofiamarin'."""
    text = unicodedata.normalize("NFKD", text.lower().translate(_ASCII))
    return "".join(ch for ch in text if ch.isascii() and (ch.isalnum() or ch == "."))
