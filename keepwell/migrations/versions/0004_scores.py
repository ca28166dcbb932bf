"""Scores: one row per customer per scoring date (`keepwell score`)

A new table only: existing rows need nothing.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 01:40:27.123196
"""

import sqlalchemy as sa
from alembic import op

import keepwell.db

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scores",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("scored_on", sa.Date(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("model", sa.String(length=20), nullable=False),
        sa.Column("p_alive", sa.Float(), nullable=True),
        sa.Column("expected_purchases_90d", sa.Float(), nullable=True),
        sa.Column("predicted_value_minor", sa.BigInteger(), nullable=True),
        sa.Column("clv_minor", sa.BigInteger(), nullable=True),
        sa.Column("risk_minor", sa.BigInteger(), nullable=False),
        sa.Column("rfm_r", sa.SmallInteger(), nullable=True),
        sa.Column("rfm_f", sa.SmallInteger(), nullable=True),
        sa.Column("rfm_m", sa.SmallInteger(), nullable=True),
        sa.Column("rfm_segment", sa.String(length=30), nullable=True),
        sa.Column("health", sa.SmallInteger(), nullable=False),
        sa.Column("stage", sa.String(length=20), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("created_at", keepwell.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "stage IN ('onboarding', 'adopting', 'repeat', 'advocate', 'at_risk', 'lapsed', 'prospect')",
            name=op.f("ck_scores_stage"),
        ),
        sa.CheckConstraint("health >= 0 AND health <= 100", name=op.f("ck_scores_health_range")),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_scores_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scores")),
        sa.UniqueConstraint(
            "scored_on", "customer_id", name=op.f("uq_scores_scored_on_customer_id")
        ),
    )
    with op.batch_alter_table("scores", schema=None) as batch_op:
        batch_op.create_index(
            "ix_scores_customer_id_scored_on", ["customer_id", "scored_on"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("scores", schema=None) as batch_op:
        batch_op.drop_index("ix_scores_customer_id_scored_on")

    op.drop_table("scores")
