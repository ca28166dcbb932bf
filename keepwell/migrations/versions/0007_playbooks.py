"""Playbooks, outreach messages and calendar feeds

New tables only: existing rows need nothing (`keepwell init` loads the shipped playbooks).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 03:10:00
"""

import sqlalchemy as sa
from alembic import op

import keepwell.db

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Moment = keepwell.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "playbooks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("builtin", sa.Boolean(), nullable=False),
        sa.Column("trigger", sa.String(length=30), nullable=False),
        sa.Column("trigger_params", sa.JSON(), nullable=False),
        sa.Column("condition", sa.JSON(), nullable=False),
        sa.Column("action", sa.String(length=10), nullable=False),
        sa.Column("action_params", sa.JSON(), nullable=False),
        sa.Column("created_at", Moment, nullable=False),
        sa.Column("edited_at", Moment, nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint("action IN ('task', 'email')", name=op.f("ck_playbooks_action")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_playbooks")),
        sa.UniqueConstraint("name", name=op.f("uq_playbooks_name")),
    )
    op.create_table(
        "playbook_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("playbook_id", sa.Integer(), nullable=False),
        sa.Column("run_on", sa.Date(), nullable=False),
        sa.Column("ran_at", Moment, nullable=False),
        sa.Column("matched", sa.Integer(), nullable=False),
        sa.Column("tasks", sa.Integer(), nullable=False),
        sa.Column("messages", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("complete", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["playbook_id"],
            ["playbooks.id"],
            name=op.f("fk_playbook_runs_playbook_id_playbooks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_playbook_runs")),
        sa.UniqueConstraint(
            "playbook_id", "run_on", name=op.f("uq_playbook_runs_playbook_id_run_on")
        ),
    )
    op.create_table(
        "playbook_job_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("started_at", Moment, nullable=False),
        sa.Column("finished_at", Moment, nullable=True),
        sa.Column("through", sa.Date(), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("tasks", sa.Integer(), nullable=False),
        sa.Column("messages", sa.Integer(), nullable=False),
        sa.Column("errors", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("via", sa.String(length=20), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_playbook_job_runs")),
    )
    with op.batch_alter_table("playbook_job_runs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_playbook_job_runs_started_at"), ["started_at"], unique=False
        )

    op.create_table(
        "outbox_messages",
        sa.Column("id", BigId, nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("playbook_id", sa.Integer(), nullable=True),
        sa.Column("category", sa.String(length=10), nullable=False),
        sa.Column("template", sa.String(length=100), nullable=False),
        sa.Column("to_address", sa.String(length=320), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("dedupe_key", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("queued_at", Moment, nullable=False),
        sa.Column("next_attempt_at", Moment, nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("sent_at", Moment, nullable=True),
        sa.Column("touch_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "status IN ('queued', 'sent', 'failed', 'cancelled')",
            name=op.f("ck_outbox_messages_status"),
        ),
        sa.CheckConstraint(
            "category IN ('service', 'marketing')", name=op.f("ck_outbox_messages_category")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_outbox_messages_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["team_members.id"],
            name=op.f("fk_outbox_messages_member_id_team_members"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["playbook_id"],
            ["playbooks.id"],
            name=op.f("fk_outbox_messages_playbook_id_playbooks"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["touch_id"],
            ["touches.id"],
            name=op.f("fk_outbox_messages_touch_id_touches"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_messages")),
        sa.UniqueConstraint(
            "customer_id", "dedupe_key", name=op.f("uq_outbox_messages_customer_id_dedupe_key")
        ),
    )
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.create_index(
            "ix_outbox_messages_status_next_attempt_at",
            ["status", "next_attempt_at"],
            unique=False,
        )
        batch_op.create_index(
            "ix_outbox_messages_customer_id_queued_at", ["customer_id", "queued_at"], unique=False
        )

    op.create_table(
        "outreach_resources",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("topics", sa.JSON(), nullable=False),
        sa.Column("product", sa.String(length=300), nullable=True),
        sa.Column("published_on", sa.Date(), nullable=False),
        sa.Column("created_at", Moment, nullable=False),
        sa.CheckConstraint(
            "kind IN ('article', 'guide', 'product_update')",
            name=op.f("ck_outreach_resources_kind"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outreach_resources")),
    )
    with op.batch_alter_table("outreach_resources", schema=None) as batch_op:
        batch_op.create_index("ix_outreach_resources_published_on", ["published_on"], unique=False)

    op.create_table(
        "calendar_feeds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", Moment, nullable=False),
        sa.Column("revoked_at", Moment, nullable=True),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["team_members.id"],
            name=op.f("fk_calendar_feeds_member_id_team_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_feeds")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_calendar_feeds_token_hash")),
    )
    with op.batch_alter_table("calendar_feeds", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_calendar_feeds_member_id"), ["member_id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("calendar_feeds")
    op.drop_table("outreach_resources")
    op.drop_table("outbox_messages")
    op.drop_table("playbook_job_runs")
    op.drop_table("playbook_runs")
    op.drop_table("playbooks")
