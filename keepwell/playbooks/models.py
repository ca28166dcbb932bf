"""Tables of the playbooks concept: the rules, the per-day run ledger, the job runs."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal, get_args

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from keepwell import clock
from keepwell.tables import Base, UTCDateTime, one_of

TRIGGERS = (
    "order_placed",  # a customer placed an order on the day
    "first_order",  # a customer's first order, N days ago (days=0: on the day)
    "days_after_order",  # an order placed N days ago
    "special_date",  # a birthday or special date N days ahead
    "tenure_milestone",  # N whole years as a customer, N days ahead
    "quiet",  # no contact for N days (crossed on the day)
    "promise_due_soon",  # an open promise due within N days, no update for a while
    "promise_overdue",  # an open promise that went past its due date on the day
    "case_resolved",  # a case resolved on the day
    "case_backlog",  # at least N open cases: every customer with one
    "survey_detractor",  # a survey answer of 0-6 (needs keepwell.feedback)
    "score_threshold",  # latest P(active) below a threshold
    "product_update",  # a product update (resource) published on the day
    "tier_change",  # a loyalty tier reached (or left) on the day (needs keepwell.loyalty)
)
Action = Literal["task", "email"]
ACTIONS: tuple[Action, ...] = get_args(Action)
CATEGORIES = ("service", "marketing")


class Playbook(Base):
    """A named rule: when `trigger` fires for a customer meeting `condition`, do `action`.

    `trigger_params`, `condition` and `action_params` are small JSON maps, checked by
    keepwell.playbooks.service.check_playbook. `edited_at` is set when an admin changes
    the playbook: `keepwell init` never overwrites such a playbook with the shipped one.
    """

    __tablename__ = "playbooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100), unique=True)
    description: Mapped[str] = mapped_column(sa.Text, default="")
    enabled: Mapped[bool] = mapped_column(default=True)
    builtin: Mapped[bool] = mapped_column(default=False)
    trigger: Mapped[str] = mapped_column(sa.String(30))
    trigger_params: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    condition: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    action: Mapped[str] = mapped_column(sa.String(10))
    action_params: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(default=1)

    __table_args__ = (sa.CheckConstraint(one_of("action", ACTIONS), name="action"),)
    __mapper_args__: dict[str, Any] = {"version_id_col": version}  # noqa: RUF012


class PlaybookRun(Base):
    """The ledger: playbook `playbook_id` was evaluated for day `run_on` (`complete`: after
    the day was over, so never again)."""

    __tablename__ = "playbook_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    playbook_id: Mapped[int] = mapped_column(sa.ForeignKey("playbooks.id", ondelete="CASCADE"))
    run_on: Mapped[date] = mapped_column(sa.Date)
    ran_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    matched: Mapped[int] = mapped_column(default=0)
    tasks: Mapped[int] = mapped_column(default=0)
    messages: Mapped[int] = mapped_column(default=0)
    error: Mapped[str] = mapped_column(sa.Text, default="")
    # the day was over when it was evaluated: never again (today is evaluated at each run)
    complete: Mapped[bool] = mapped_column(default=False)

    __table_args__ = (sa.UniqueConstraint("playbook_id", "run_on"),)


class JobRun(Base):
    """One run of the playbooks (`keepwell playbooks run`, the server's daily run): when,
    through which day, what it created, and what went wrong."""

    __tablename__ = "playbook_job_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    through: Mapped[date] = mapped_column(sa.Date)
    days: Mapped[int] = mapped_column(default=0)
    tasks: Mapped[int] = mapped_column(default=0)
    messages: Mapped[int] = mapped_column(default=0)
    errors: Mapped[int] = mapped_column(default=0)
    error: Mapped[str] = mapped_column(sa.Text, default="")
    via: Mapped[str] = mapped_column(sa.String(20), default="cli")
