"""Requests already taken on, so that a platform's redelivery is answered once.

Slack retries an event it thinks was missed (and may send the retry to another process); Telegram
redelivers a webhook update after a 5xx or a timeout. One row per request key, unique: the
INSERT that creates it is the one that answers. Nothing to carry forward: before this revision
retries were dropped unseen.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "seen_requests",
        sa.Column("key", sa.String(160), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_seen_requests"),
    )
    op.create_index("ix_seen_requests_seen_at", "seen_requests", ["seen_at"])


def downgrade() -> None:
    op.drop_index("ix_seen_requests_seen_at", table_name="seen_requests")
    op.drop_table("seen_requests")
