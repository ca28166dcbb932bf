"""Indexes for the web lists: customers sorted by name, revenue and last order; the
latest scoring's customers by stage and by health

Indexes only: no data changes.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-25 03:40:00
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.create_index("ix_customers_name_id", ["name", "id"], unique=False)
        batch_op.create_index(
            "ix_customers_revenue_minor_id", ["revenue_minor", "id"], unique=False
        )
        batch_op.create_index(
            "ix_customers_last_order_at_id", ["last_order_at", "id"], unique=False
        )
    with op.batch_alter_table("scores", schema=None) as batch_op:
        batch_op.create_index(
            "ix_scores_scored_on_stage_customer_id",
            ["scored_on", "stage", "customer_id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_scores_scored_on_health_customer_id",
            ["scored_on", "health", "customer_id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("scores", schema=None) as batch_op:
        batch_op.drop_index("ix_scores_scored_on_health_customer_id")
        batch_op.drop_index("ix_scores_scored_on_stage_customer_id")
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_index("ix_customers_last_order_at_id")
        batch_op.drop_index("ix_customers_revenue_minor_id")
        batch_op.drop_index("ix_customers_name_id")
