"""`keepwell serve`'s daily run: in a thread, once a day, surviving errors."""

from __future__ import annotations

import time as wall
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from keepwell import clock, db
from keepwell.playbooks.models import JobRun, Playbook
from keepwell.playbooks.scheduler import UPKEEP_DAY, Scheduler, tick
from keepwell.playbooks.service import install_builtins
from keepwell.settings import service as settings

NOON = datetime(2026, 11, 25, 12, tzinfo=UTC)


def jobs(engine: Engine) -> list[JobRun]:
    with db.transaction(engine) as session:
        return list(session.scalars(sa.select(JobRun).order_by(JobRun.id)))


def test_tick_runs_once_a_day_and_records_a_failure(engine: Engine) -> None:
    with clock.frozen(NOON):
        with db.transaction(engine) as session:
            install_builtins(session)
        tick(engine)
        tick(engine)  # the same day: nothing more
        assert [(j.via, j.errors) for j in jobs(engine)] == [("serve", 0)]
        with db.transaction(engine) as session:  # the day's upkeep was done, once
            assert settings.get(session, UPKEEP_DAY) == "2026-11-25"
    with clock.frozen(NOON.replace(day=26)), db.transaction(engine) as session:
        # a playbook broken behind the desk's back: the run records it, and goes on
        broken = session.scalars(
            sa.select(Playbook).where(Playbook.name == "check-in-30-days")
        ).one()
        broken.trigger_params = {"days": "x"}
    with clock.frozen(NOON.replace(day=26)):
        tick(engine)
        tick(engine)  # not again at once ...
        assert [j.errors for j in jobs(engine)] == [0, 2]  # 25 Nov (now over) and 26 Nov
    with clock.frozen(NOON.replace(day=26, hour=14)):
        tick(engine)  # ... but an hour later: the failed playbook-day is tried again
        found = jobs(engine)
        assert [j.errors for j in found] == [0, 2, 2]
        assert "check-in-30-days" in found[-1].error


def test_the_scheduler_thread_starts_and_stops(sqlite_engine: Engine) -> None:
    with db.transaction(sqlite_engine) as session:
        install_builtins(session)
    scheduler = Scheduler(sqlite_engine, every=0.05).start()
    deadline = wall.monotonic() + 120  # however busy the machine: the run is the event
    while not jobs(sqlite_engine):
        assert wall.monotonic() < deadline, "the scheduler never ran"
        wall.sleep(0.05)
    scheduler.stop()
    assert not scheduler._thread.is_alive()
    assert [j.via for j in jobs(sqlite_engine)] == ["serve"]
