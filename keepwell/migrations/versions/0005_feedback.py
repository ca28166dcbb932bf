"""Surveys, feedback and closing the loop

New tables only: survey invitations (the signed links), feedback (answers and our own
relationship ratings, with the "told the customer" step), feedback actions and their
links to feedback. Existing rows need nothing.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 03:10:00
"""

import sqlalchemy as sa
from alembic import op

import keepwell.db

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "feedback_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("what", sa.Text(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("created_at", keepwell.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("done_at", keepwell.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["team_members.id"],
            name=op.f("fk_feedback_actions_member_id_team_members"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback_actions")),
    )
    op.create_table(
        "survey_invitations",
        sa.Column("id", BigId, nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("order_id", BigId, nullable=True),
        sa.Column("created_at", keepwell.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", keepwell.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", keepwell.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("sent_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('nps', 'csat', 'scorecard')", name=op.f("ck_survey_invitations_kind")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
            name=op.f("fk_survey_invitations_case_id_cases"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_survey_invitations_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_survey_invitations_order_id_orders"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["sent_by_id"],
            ["team_members.id"],
            name=op.f("fk_survey_invitations_sent_by_id_team_members"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_invitations")),
    )
    with op.batch_alter_table("survey_invitations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_survey_invitations_customer_id_created_at",
            ["customer_id", "created_at"],
            unique=False,
        )

    op.create_table(
        "feedback",
        sa.Column("id", BigId, nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("score", sa.SmallInteger(), nullable=True),
        sa.Column("ratings", sa.JSON(), nullable=True),
        sa.Column("verbatim", sa.Text(), nullable=False),
        sa.Column("answered_at", keepwell.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("invitation_id", BigId, nullable=True),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("order_id", BigId, nullable=True),
        sa.Column("told_at", keepwell.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("told_channel", sa.String(length=20), nullable=True),
        sa.Column("told_note", sa.Text(), nullable=False),
        sa.Column("told_by_id", sa.Integer(), nullable=True),
        sa.Column("told_touch_id", sa.Integer(), nullable=True),
        sa.Column("created_at", keepwell.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "(kind = 'nps' AND score >= 0 AND score <= 10)"
            " OR (kind = 'csat' AND score >= 1 AND score <= 5)"
            " OR (kind IN ('scorecard', 'relationship') AND score IS NULL)",
            name=op.f("ck_feedback_score_range"),
        ),
        sa.CheckConstraint(
            "kind IN ('nps', 'csat', 'scorecard', 'relationship')", name=op.f("ck_feedback_kind")
        ),
        sa.CheckConstraint(
            "source IN ('survey', 'manual', 'import')", name=op.f("ck_feedback_source")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_feedback_case_id_cases"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_feedback_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["invitation_id"],
            ["survey_invitations.id"],
            name=op.f("fk_feedback_invitation_id_survey_invitations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["team_members.id"],
            name=op.f("fk_feedback_member_id_team_members"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_feedback_order_id_orders"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["told_by_id"],
            ["team_members.id"],
            name=op.f("fk_feedback_told_by_id_team_members"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["told_touch_id"],
            ["touches.id"],
            name=op.f("fk_feedback_told_touch_id_touches"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback")),
        sa.UniqueConstraint("invitation_id", name=op.f("uq_feedback_invitation_id")),
    )
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.create_index("ix_feedback_answered_at", ["answered_at"], unique=False)
        batch_op.create_index(
            "ix_feedback_customer_id_answered_at", ["customer_id", "answered_at"], unique=False
        )

    op.create_table(
        "feedback_action_links",
        sa.Column("action_id", sa.Integer(), nullable=False),
        sa.Column("feedback_id", BigId, nullable=False),
        sa.Column("linked_at", keepwell.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["action_id"],
            ["feedback_actions.id"],
            name=op.f("fk_feedback_action_links_action_id_feedback_actions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["feedback_id"],
            ["feedback.id"],
            name=op.f("fk_feedback_action_links_feedback_id_feedback"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("action_id", "feedback_id", name=op.f("pk_feedback_action_links")),
    )
    with op.batch_alter_table("feedback_action_links", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_feedback_action_links_feedback_id"), ["feedback_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("feedback_action_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_feedback_action_links_feedback_id"))
    op.drop_table("feedback_action_links")
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.drop_index("ix_feedback_customer_id_answered_at")
        batch_op.drop_index("ix_feedback_answered_at")
    op.drop_table("feedback")
    with op.batch_alter_table("survey_invitations", schema=None) as batch_op:
        batch_op.drop_index("ix_survey_invitations_customer_id_created_at")
    op.drop_table("survey_invitations")
    op.drop_table("feedback_actions")
