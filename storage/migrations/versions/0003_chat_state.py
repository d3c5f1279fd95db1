"""Chat state in one place: chats hold language, chosen visit and reachability; subscriptions
become one per chat and partnership.

Before: `chats.active` was written and never read; `subscriptions.active` meant both "unsubscribed"
and "blocked"; a subscription carried its own platform, chat key and language, so a group that
became a supergroup, an unblock or a `/lang` did not reach it. After: a subscription points at its
chat (`chat_id`), and everything else about the chat is read from `chats` at send time.

Carrying existing rows forward:
- every subscription's chat gets a `chats` row if it had none;
- a chat without a language takes its subscription's (the language its digests were sent in);
- `chats.reachable` is the old `chats.active` (the Telegram sender cleared it on a 403);
- an inactive subscription was either paused by a block or ended by /unsubscribe. A block kept
  its pending deliveries and cleared `chats.active`; /unsubscribe deleted them. So: an inactive
  subscription whose chat is inactive or that still has pending deliveries was blocked: the chat
  becomes unreachable and the subscription stays. Any other inactive one was unsubscribed: it is
  kept as history, cancelled (its sent deliveries keep a re-subscription from resending).
- the visit a subscription named becomes the partnership it belongs to (PARTNERSHIP_OF_VISIT).
  Should one chat end up with two subscriptions to one partnership (two visits of it), one is
  kept (the live one, else the newest) and the others' deliveries move to it; their digest keys
  name the visit, so they cannot collide.

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Mapping
from dataclasses import dataclass

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# Every visit until this revision belongs to the one partnership the bot shipped with. Spelled
# out so that a reader sees where each old subscription goes; a visit id not listed here (one a
# deployment added to its own seeds) goes to the same partnership, the only one there was.
PARTNERSHIP_OF_VISIT: Mapping[str, str] = {"turin-gwangju-2024": "turin-gwangju"}
ONLY_PARTNERSHIP = "turin-gwangju"
# What downgrade writes back into subscriptions.visit_id, the inverse of the mapping above.
VISIT_OF_PARTNERSHIP: Mapping[str, str] = {"turin-gwangju": "turin-gwangju-2024"}

chats = sa.table(
    "chats",
    sa.column("id", sa.Integer()),
    sa.column("platform", sa.String()),
    sa.column("chat_key", sa.String()),
    sa.column("lang", sa.String()),
    sa.column("active", sa.Boolean()),
    sa.column("reachable", sa.Boolean()),
)
subscriptions = sa.table(
    "subscriptions",
    sa.column("id", sa.Integer()),
    sa.column("platform", sa.String()),
    sa.column("chat_key", sa.String()),
    sa.column("visit_id", sa.String()),
    sa.column("lang", sa.String()),
    sa.column("active", sa.Boolean()),
    sa.column("chat_id", sa.Integer()),
    sa.column("partnership_id", sa.String()),
    sa.column("cancelled_at", sa.DateTime(timezone=True)),
)
deliveries = sa.table(
    "deliveries",
    sa.column("id", sa.Integer()),
    sa.column("subscription_id", sa.Integer()),
    sa.column("status", sa.String()),
)


def upgrade() -> None:
    with op.batch_alter_table("chats") as batch:
        batch.add_column(sa.Column("visit_id", sa.String(64), nullable=True))
        batch.add_column(
            sa.Column("reachable", sa.Boolean(), nullable=False, server_default=sa.true())
        )
    with op.batch_alter_table("subscriptions") as batch:
        batch.add_column(sa.Column("chat_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("partnership_id", sa.String(64), nullable=True))
        batch.add_column(sa.Column("subscriber", sa.String(64), nullable=True))
        batch.add_column(sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True))

    _carry_forward(op.get_bind())

    with op.batch_alter_table("chats") as batch:
        batch.drop_column("active")
    with op.batch_alter_table("subscriptions") as batch:
        batch.drop_constraint("uq_subscriptions_platform", type_="unique")
        batch.alter_column("chat_id", existing_type=sa.Integer(), nullable=False)
        batch.alter_column("partnership_id", existing_type=sa.String(64), nullable=False)
        for column in ("platform", "chat_key", "visit_id", "lang", "active"):
            batch.drop_column(column)
        batch.create_unique_constraint("uq_subscriptions_chat_id", ["chat_id", "partnership_id"])
        batch.create_foreign_key(
            "fk_subscriptions_chat_id_chats", "chats", ["chat_id"], ["id"], ondelete="CASCADE"
        )


@dataclass
class _OldSubscription:
    id: int
    platform: str
    chat_key: str
    visit_id: str
    lang: str
    active: bool
    pending: int


def _carry_forward(bind: sa.Connection) -> None:
    bind.execute(sa.update(chats).values(reachable=chats.c.active))
    known: dict[tuple[str, str], tuple[int, str | None, bool]] = {
        (row.platform, row.chat_key): (row.id, row.lang, row.active)
        for row in bind.execute(
            sa.select(chats.c.id, chats.c.platform, chats.c.chat_key, chats.c.lang, chats.c.active)
        )
    }
    pending = (
        sa.select(sa.func.count())
        .where(deliveries.c.subscription_id == subscriptions.c.id, deliveries.c.status == "pending")
        .scalar_subquery()
    )
    old = [
        _OldSubscription(r.id, r.platform, r.chat_key, r.visit_id, r.lang, r.active, r.pending)
        for r in bind.execute(
            sa.select(
                subscriptions.c.id,
                subscriptions.c.platform,
                subscriptions.c.chat_key,
                subscriptions.c.visit_id,
                subscriptions.c.lang,
                subscriptions.c.active,
                pending.label("pending"),
            ).order_by(subscriptions.c.id)
        )
    ]

    langs: dict[int, str] = {}  # chat id -> the language its digests were sent in
    groups: dict[tuple[int, str], list[tuple[bool, int]]] = {}  # (chat, partnership) -> subs
    for sub in old:
        chat = known.get((sub.platform, sub.chat_key))
        if chat is None:
            new_id = bind.execute(
                sa.insert(chats)
                .values(platform=sub.platform, chat_key=sub.chat_key, lang=None, reachable=True)
                .returning(chats.c.id)
            ).scalar_one()
            chat = (new_id, None, True)
            known[sub.platform, sub.chat_key] = chat
        chat_id, chat_lang, chat_active = chat
        # A live subscription's language wins over an ended one's, a later one's over earlier.
        if chat_lang is None and (sub.active or chat_id not in langs):
            langs[chat_id] = sub.lang
        blocked = not sub.active and (not chat_active or sub.pending > 0)
        if blocked:
            bind.execute(sa.update(chats).where(chats.c.id == chat_id).values(reachable=False))
        cancelled = not sub.active and not blocked
        partnership = PARTNERSHIP_OF_VISIT.get(sub.visit_id, ONLY_PARTNERSHIP)
        bind.execute(
            sa.update(subscriptions)
            .where(subscriptions.c.id == sub.id)
            .values(
                chat_id=chat_id,
                partnership_id=partnership,
                cancelled_at=sa.func.now() if cancelled else None,
            )
        )
        groups.setdefault((chat_id, partnership), []).append((not cancelled, sub.id))

    for chat_id, lang in langs.items():
        bind.execute(sa.update(chats).where(chats.c.id == chat_id).values(lang=lang))
    for group in groups.values():
        _, keep = max(group)  # the live one, else the newest
        for _, gone in group:
            if gone != keep:
                bind.execute(
                    sa.update(deliveries)
                    .where(deliveries.c.subscription_id == gone)
                    .values(subscription_id=keep)
                )
                bind.execute(sa.delete(subscriptions).where(subscriptions.c.id == gone))


def downgrade() -> None:
    """Back to per-visit subscriptions that carry their chat: lossy where 0003 added meaning (a
    chosen visit is forgotten; a cancelled subscription becomes an inactive one)."""
    with op.batch_alter_table("chats") as batch:
        batch.add_column(
            sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true())
        )
    with op.batch_alter_table("subscriptions") as batch:
        batch.add_column(sa.Column("platform", sa.String(16), nullable=True))
        batch.add_column(sa.Column("chat_key", sa.String(64), nullable=True))
        batch.add_column(sa.Column("visit_id", sa.String(64), nullable=True))
        batch.add_column(sa.Column("lang", sa.String(8), nullable=True))
        batch.add_column(
            sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true())
        )
    bind = op.get_bind()
    bind.execute(sa.update(chats).values(active=chats.c.reachable))
    rows = bind.execute(
        sa.select(
            subscriptions.c.id,
            subscriptions.c.partnership_id,
            subscriptions.c.cancelled_at,
            chats.c.platform,
            chats.c.chat_key,
            chats.c.lang,
            chats.c.reachable,
        ).join(chats, chats.c.id == subscriptions.c.chat_id)
    ).all()
    for row in rows:
        bind.execute(
            sa.update(subscriptions)
            .where(subscriptions.c.id == row.id)
            .values(
                platform=row.platform,
                chat_key=row.chat_key,
                visit_id=VISIT_OF_PARTNERSHIP.get(row.partnership_id, row.partnership_id),
                lang=row.lang or "en",
                active=row.cancelled_at is None and row.reachable,
            )
        )
    with op.batch_alter_table("subscriptions") as batch:
        batch.drop_constraint("fk_subscriptions_chat_id_chats", type_="foreignkey")
        batch.drop_constraint("uq_subscriptions_chat_id", type_="unique")
        for column in ("chat_id", "partnership_id", "subscriber", "cancelled_at"):
            batch.drop_column(column)
        for column, kind in (
            ("platform", sa.String(16)),
            ("chat_key", sa.String(64)),
            ("visit_id", sa.String(64)),
            ("lang", sa.String(8)),
        ):
            batch.alter_column(column, existing_type=kind, nullable=False)
        batch.create_unique_constraint(
            "uq_subscriptions_platform", ["platform", "chat_key", "visit_id"]
        )
    with op.batch_alter_table("chats") as batch:
        batch.drop_column("visit_id")
        batch.drop_column("reachable")
