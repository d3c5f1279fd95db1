"""Deliveries part by part, and owners' leases.

- `delivery_parts`: one row per part of a multi-message digest that went out, so that a retry
  resumes from the first part not sent rather than sending the digest whole again.
- `delivery_owners`: the processes sending digests and the time their lease runs out. Liveness
  was a session advisory lock, lost with its connection (`pg_terminate_backend`, a network
  blip) and never retaken, after which another process took back the live owner's rows.

Existing rows carry forward unchanged: no delivery has parts on record (every one so far was
sent whole), and a row left `sending` by a process of the previous release has an owner with no
lease, so it goes back to the queue as it did when that process's lock was free.
`rejected` (refused for good by the platform) is a new value of `deliveries.status`, a string.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "delivery_parts",
        sa.Column("delivery_id", sa.Integer(), nullable=False),
        sa.Column("part", sa.Integer(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("delivery_id", "part", name="pk_delivery_parts"),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["deliveries.id"],
            name="fk_delivery_parts_delivery_id_deliveries",
            ondelete="CASCADE",
        ),
    )
    op.create_table(
        "delivery_owners",
        sa.Column("owner", sa.String(64), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("owner", name="pk_delivery_owners"),
    )


def downgrade() -> None:
    # A digest refused for good was `failed` before this revision: the closest it knew.
    op.execute("update deliveries set status = 'failed' where status = 'rejected'")
    op.drop_table("delivery_owners")
    op.drop_table("delivery_parts")
