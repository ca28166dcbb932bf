"""Every engine and session sees the whole schema, whatever a process imported.

The suite imports everything into one process, so a table that only some corner of
the program registers looks present here; a user's `keepwell serve` or a single
command imports only its own corner. These tests run in a fresh interpreter each.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path


def run_fresh(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[1],
    )


def test_every_foreign_key_resolves_once_the_database_module_is_imported() -> None:
    done = run_fresh(
        """
        from keepwell import db
        tables = db.Base.metadata.sorted_tables
        targets = {fk.column.table.name for t in tables for fk in t.foreign_keys}
        print(len(tables), sorted(targets))
        """
    )
    assert done.returncode == 0, done.stderr
    count, targets = done.stdout.split(" ", 1)
    assert int(count) >= 30
    assert "'imports'" in targets and "'playbooks'" in targets


def test_an_order_is_recorded_by_a_process_that_imports_only_the_orders_service(
    tmp_path: Path,
) -> None:
    # orders.import_id points at imports, which nothing of orders imports: on the
    # shipped server this flush failed with NoReferencedTableError.
    done = run_fresh(
        f"""
        from datetime import UTC, datetime
        from keepwell.orders import service
        from keepwell.customers.models import Customer
        from keepwell import db
        engine = db.make_engine("sqlite:///{tmp_path / 'desk.db'}")
        db.upgrade(engine)
        with db.transaction(engine) as session:
            customer = Customer(name="Ann Test")
            session.add(customer)
            session.flush()
            [order] = service.create_orders(session, [service.NewOrder(
                customer_id=customer.id, ordered_at=datetime(2026, 11, 1, tzinfo=UTC),
                amount_minor=1000, currency="EUR", quantity=1, product=None,
                description=None, external_id=None)])
            print(order.id, order.amount_minor)
        """
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["1", "1000"]
