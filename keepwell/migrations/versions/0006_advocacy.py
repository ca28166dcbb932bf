"""Goals, account reviews, referrals and loyalty

New tables only: existing rows need nothing (reviews are scheduled, codes made and tiers
computed when asked: `keepwell review schedule`, `keepwell loyalty refresh`).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 03:10:00
"""

import sqlalchemy as sa
from alembic import op

import keepwell.db

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Moment = keepwell.db.UTCDateTime


def _customer_fk(table: str, column: str = "customer_id") -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], ["customers.id"], name=op.f(f"fk_{table}_{column}_customers"), ondelete="CASCADE"
    )


def _member_fk(table: str, column: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column],
        ["team_members.id"],
        name=op.f(f"fk_{table}_{column}_team_members"),
        ondelete="SET NULL",
    )


def upgrade() -> None:
    op.create_table(
        "goals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("what", sa.Text(), nullable=False),
        sa.Column("agreed_on", sa.Date(), nullable=False),
        sa.Column("target_on", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("created_at", Moment(timezone=True), nullable=False),
        sa.Column("updated_at", Moment(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "status IN ('open', 'met', 'missed', 'dropped')", name=op.f("ck_goals_status")
        ),
        _customer_fk("goals"),
        _member_fk("goals", "member_id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_goals")),
    )
    op.create_index("ix_goals_customer_id_status", "goals", ["customer_id", "status"])

    op.create_table(
        "review_questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", Moment(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_questions")),
    )

    op.create_table(
        "account_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("open_customer_id", sa.Integer(), nullable=True),
        sa.Column("completed_at", Moment(timezone=True), nullable=True),
        sa.Column("completed_by_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("answered", sa.Integer(), nullable=False),
        sa.Column("yes", sa.Integer(), nullable=False),
        sa.Column("partly", sa.Integer(), nullable=False),
        sa.Column("goals_met", sa.Integer(), nullable=False),
        sa.Column("goals_total", sa.Integer(), nullable=False),
        sa.Column("created_at", Moment(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "status IN ('due', 'done', 'cancelled')", name=op.f("ck_account_reviews_status")
        ),
        sa.CheckConstraint(
            "kind IN ('periodic', 'on_demand')", name=op.f("ck_account_reviews_kind")
        ),
        _customer_fk("account_reviews"),
        _member_fk("account_reviews", "member_id"),
        _member_fk("account_reviews", "completed_by_id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_reviews")),
        sa.UniqueConstraint("open_customer_id", name=op.f("uq_account_reviews_open_customer_id")),
    )
    op.create_index(
        "ix_account_reviews_member_id_status_due_on",
        "account_reviews",
        ["member_id", "status", "due_on"],
    )
    op.create_index(
        "ix_account_reviews_customer_id_completed_at",
        "account_reviews",
        ["customer_id", "completed_at"],
    )

    op.create_table(
        "review_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("question", sa.String(length=40), nullable=False),
        sa.Column("question_text", sa.String(length=500), nullable=False),
        sa.Column("answer", sa.String(length=10), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("answered_at", Moment(timezone=True), nullable=False),
        sa.Column("answered_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "answer IN ('yes', 'no', 'partly')", name=op.f("ck_review_answers_answer")
        ),
        sa.ForeignKeyConstraint(
            ["review_id"],
            ["account_reviews.id"],
            name=op.f("fk_review_answers_review_id_account_reviews"),
            ondelete="CASCADE",
        ),
        _customer_fk("review_answers"),
        _member_fk("review_answers", "answered_by_id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_answers")),
        sa.UniqueConstraint(
            "review_id", "question", name=op.f("uq_review_answers_review_id_question")
        ),
    )
    op.create_index("ix_review_answers_customer_id", "review_answers", ["customer_id"])

    op.create_table(
        "referral_codes",
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("created_at", Moment(timezone=True), nullable=False),
        _customer_fk("referral_codes"),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_referral_codes")),
        sa.UniqueConstraint("code", name=op.f("uq_referral_codes_code")),
    )

    op.create_table(
        "referrals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("referrer_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("linked_at", Moment(timezone=True), nullable=False),
        sa.Column("linked_by_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.CheckConstraint("customer_id <> referrer_id", name=op.f("ck_referrals_not_self")),
        sa.CheckConstraint(
            "source IN ('api', 'cli', 'import', 'demo')", name=op.f("ck_referrals_source")
        ),
        _customer_fk("referrals"),
        _customer_fk("referrals", "referrer_id"),
        _member_fk("referrals", "linked_by_id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referrals")),
        sa.UniqueConstraint("customer_id", name=op.f("uq_referrals_customer_id")),
    )
    op.create_index("ix_referrals_referrer_id", "referrals", ["referrer_id"])

    op.create_table(
        "referral_rewards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("referral_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("what", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("earned_at", Moment(timezone=True), nullable=True),
        sa.Column("given_at", Moment(timezone=True), nullable=True),
        sa.Column("given_by_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", Moment(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'earned', 'given')", name=op.f("ck_referral_rewards_status")
        ),
        sa.ForeignKeyConstraint(
            ["referral_id"],
            ["referrals.id"],
            name=op.f("fk_referral_rewards_referral_id_referrals"),
            ondelete="CASCADE",
        ),
        _customer_fk("referral_rewards"),
        _member_fk("referral_rewards", "given_by_id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral_rewards")),
        sa.UniqueConstraint("referral_id", name=op.f("uq_referral_rewards_referral_id")),
    )
    op.create_index("ix_referral_rewards_customer_id", "referral_rewards", ["customer_id"])
    op.create_index("ix_referral_rewards_status", "referral_rewards", ["status"])

    op.create_table(
        "loyalty_status",
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("tier", sa.String(length=40), nullable=True),
        sa.Column("tier_since", sa.Date(), nullable=False),
        sa.Column("updated_on", sa.Date(), nullable=False),
        _customer_fk("loyalty_status"),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_loyalty_status")),
    )
    op.create_index("ix_loyalty_status_tier", "loyalty_status", ["tier"])

    op.create_table(
        "loyalty_tier_changes",
        sa.Column("id", BigId, nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("from_tier", sa.String(length=40), nullable=True),
        sa.Column("to_tier", sa.String(length=40), nullable=True),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("reached_on", sa.Date(), nullable=False),
        sa.Column("recorded_at", Moment(timezone=True), nullable=False),
        _customer_fk("loyalty_tier_changes"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loyalty_tier_changes")),
    )
    op.create_index("ix_loyalty_tier_changes_customer_id", "loyalty_tier_changes", ["customer_id"])
    op.create_index("ix_loyalty_tier_changes_recorded_at", "loyalty_tier_changes", ["recorded_at"])


def downgrade() -> None:
    for table in (
        "loyalty_tier_changes",
        "loyalty_status",
        "referral_rewards",
        "referrals",
        "referral_codes",
        "review_answers",
        "account_reviews",
        "review_questions",
        "goals",
    ):
        op.drop_table(table)
