"""Desk settings (pinned model and the like) and the desk's own secrets

New tables only: existing rows need nothing.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25 03:10:00
"""

import sqlalchemy as sa
from alembic import op

import keepwell.db

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "settings",
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("updated_at", keepwell.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_settings")),
    )
    op.create_table(
        "desk_secrets",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("value", sa.LargeBinary(length=64), nullable=False),
        sa.Column("created_at", keepwell.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_desk_secrets")),
    )


def downgrade() -> None:
    op.drop_table("desk_secrets")
    op.drop_table("settings")
