"""Every table, gathered so migrations and tests see the whole schema."""

from keepwell.accounts.models import TeamMember
from keepwell.customers.models import Customer, SpecialDate
from keepwell.db import Base
from keepwell.ingest.models import ImportRun
from keepwell.orders.models import Order

metadata = Base.metadata

__all__ = ["Customer", "ImportRun", "Order", "SpecialDate", "TeamMember", "metadata"]
