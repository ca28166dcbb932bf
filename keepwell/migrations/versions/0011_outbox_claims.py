"""The outbox sends each message at most once: a claim before the SMTP conversation

- `outbox_messages.status` may also be `sending` (claimed by one sender, its outcome
  not yet recorded) and `unconfirmed` (the server may have accepted it, but no sender
  recorded the answer: never sent again automatically). The column grows to 12
  characters and the check constraint lists the new states.
- `message_id_header`: the Message-ID the message carries, fixed at its first claim
  and kept for every attempt, so an admin can look it up in the mail server's log.
- `claimed_at`, `claimed_by`: the latest claim (when, and which process: host:pid:nonce).

Existing rows keep their status; their Message-ID is unknown (NULL) for those sent
before, and fixed at the next claim for those still waiting.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-26 09:00:00
"""

import sqlalchemy as sa
from alembic import op

from keepwell.tables import UTCDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

Moment = UTCDateTime(timezone=True)
OLD = "status IN ('queued', 'sent', 'failed', 'cancelled')"
NEW = "status IN ('queued', 'sending', 'sent', 'unconfirmed', 'failed', 'cancelled')"


def upgrade() -> None:
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_outbox_messages_status"), type_="check")
        batch_op.alter_column(
            "status",
            existing_type=sa.String(length=10),
            type_=sa.String(length=12),
            existing_nullable=False,
        )
        batch_op.add_column(sa.Column("message_id_header", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("claimed_at", Moment, nullable=True))
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=120), nullable=True))
        batch_op.create_check_constraint(batch_op.f("ck_outbox_messages_status"), NEW)


def downgrade() -> None:
    # A message in flight or unconfirmed goes back as failed and given up: it waits for
    # a person (`keepwell outreach retry`), never for an automatic retry.
    op.execute(
        "UPDATE outbox_messages SET status = 'failed', next_attempt_at = NULL"
        " WHERE status IN ('sending', 'unconfirmed')"
    )
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_outbox_messages_status"), type_="check")
        batch_op.drop_column("claimed_by")
        batch_op.drop_column("claimed_at")
        batch_op.drop_column("message_id_header")
        batch_op.alter_column(
            "status",
            existing_type=sa.String(length=12),
            type_=sa.String(length=10),
            existing_nullable=False,
        )
        batch_op.create_check_constraint(batch_op.f("ck_outbox_messages_status"), OLD)
