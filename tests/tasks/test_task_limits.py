"""A task's kind, reason and source at their longest (keepwell/tasks/service.py): each is
taken at its limit and refused one character over, with the field named."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine

from keepwell import clock
from keepwell.db import transaction
from keepwell.errors import InvalidInput
from keepwell.tasks.service import MAX_KIND, MAX_REASON, MAX_SOURCE, create_task
from tests.tasks.test_tasks import DAY, TODAY, customer


def test_the_longest_kind_reason_and_source_are_taken_one_more_is_refused(sqlite_engine: Engine) -> None:
    longest = {"kind": "k" * MAX_KIND, "reason": "r" * MAX_REASON, "source": "s" * MAX_SOURCE}
    with clock.frozen(TODAY), transaction(sqlite_engine) as session:
        bea = customer(session)
        task = create_task(session, bea, due_on=DAY, **longest)
        assert (task.kind, task.reason, task.source) == (longest["kind"], longest["reason"], longest["source"])
        for name in longest:
            with pytest.raises(InvalidInput) as refused:
                create_task(session, bea, due_on=DAY, **{**longest, name: longest[name] + "x"})
            assert refused.value.field == name
