"""Every table, gathered so migrations and tests see the whole schema."""

from keepwell.accounts.models import (
    ApiToken,
    AuditEntry,
    SignInThrottle,
    TeamMember,
    WebSession,
)
from keepwell.cases.models import Case
from keepwell.customers.models import Cadence, Customer, OwnerChange, SpecialDate
from keepwell.db import Base
from keepwell.ingest.models import ImportRun
from keepwell.orders.models import Order
from keepwell.promises.models import Promise, PromiseUpdate
from keepwell.scoring.models import Score
from keepwell.settings.models import DeskSecret, Setting
from keepwell.tasks.models import Task
from keepwell.touches.models import Touch

metadata = Base.metadata

__all__ = [
    "ApiToken",
    "AuditEntry",
    "Cadence",
    "Case",
    "Customer",
    "DeskSecret",
    "ImportRun",
    "Order",
    "OwnerChange",
    "Promise",
    "PromiseUpdate",
    "Score",
    "Setting",
    "SignInThrottle",
    "SpecialDate",
    "Task",
    "TeamMember",
    "Touch",
    "WebSession",
    "metadata",
]
