"""The playbook run inside `keepwell serve`: no cron job to forget.

A daemon thread wakes every minute: once a day it does the upkeep `keepwell score`
also does (loyalty tiers, rewards earned, account reviews falling due); every hour it
runs the playbooks (a day missed while the server was down is caught up; today is
looked at again each hour); and every time it delivers what is due in the outbox. It
works in its own transactions, beside the requests, and survives every error: a failed
run is recorded (`keepwell doctor` and /api/status show it) and tried again at the next
hour.
"""

from __future__ import annotations

import threading
import traceback
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from keepwell import clock, db
from keepwell.accounts.audit import Actor, acting
from keepwell.playbooks.models import JobRun

WAKE_EVERY_S = 60.0
# Today is evaluated again at each run (what happened since is found); the days before
# are done once. Hourly keeps a thank-you or a detractor call within the hour.
RUN_EVERY = timedelta(hours=1)


def run_due(engine: Engine) -> bool:
    """Whether a run is due: none started in the last hour (a failed one included)."""
    now = clock.now()
    with db.session_factory(engine)() as session:
        recent = session.scalar(
            sa.select(JobRun.id).where(JobRun.started_at > now - RUN_EVERY).limit(1)
        )
    return recent is None


UPKEEP_DAY = "upkeep.last_day"


def upkeep_due(engine: Engine) -> bool:
    """Whether today's upkeep (loyalty tiers, rewards, due account reviews) is still to do."""
    from keepwell.settings import service as settings

    with db.session_factory(engine)() as session:
        return bool(settings.get(session, UPKEEP_DAY) != clock.today().isoformat())


def tick(engine: Engine) -> None:
    """One wake-up: the day's upkeep and the playbook run if due, then the outbox.
    Never raises. While another process holds SQLite's write lock for longer than the
    busy timeout (a long import or scoring run), the wake-up does nothing and says
    nothing: the next one, a minute later, tries again."""
    from keepwell.outreach.delivery import deliver

    writer = engine.execution_options(**{db.SQLITE_WRITE: True})
    with acting(Actor(None, "scheduler")):
        try:
            _jobs(engine, writer)
            deliver(db.session_factory(writer))
        except sa.exc.OperationalError as exc:
            if not _busy(exc):
                traceback.print_exc()
        except Exception:
            traceback.print_exc()


def _busy(exc: sa.exc.OperationalError) -> bool:
    """SQLite's one writer's lock is taken: not the job's failure, nothing to record."""
    return "database is locked" in str(exc.orig)


def _jobs(engine: Engine, writer: Engine) -> None:
    """The day's upkeep and the playbook run, when due; a failed run is recorded."""
    from keepwell.loyalty.upkeep import nightly
    from keepwell.playbooks.engine import record_failure, run
    from keepwell.settings import service as settings

    try:
        if upkeep_due(engine):  # first: a tier reached today can trigger a playbook
            with db.transaction(writer) as session:
                nightly(session.connection(), clock.today())
                settings.put(session, UPKEEP_DAY, clock.today().isoformat())
        if run_due(engine):
            with db.transaction(writer) as session:
                run(session, through=clock.today(), via="serve")
    except Exception as exc:
        if isinstance(exc, sa.exc.OperationalError) and _busy(exc):
            raise
        message = "".join(traceback.format_exception_only(exc)).strip()
        try:
            with db.transaction(writer) as session:
                record_failure(session, through=clock.today(), via="serve", error=message)
        except Exception:  # the database itself is away: the doctor will say so
            traceback.print_exc()


class Scheduler:
    def __init__(self, engine: Engine, every: float = WAKE_EVERY_S) -> None:
        self.engine = engine
        self.every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="keepwell-scheduler", daemon=True)

    def start(self) -> Scheduler:
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            tick(self.engine)
            self._stop.wait(self.every)
