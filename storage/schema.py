"""The tables. Alembic migrations in `migrations/` create and change them; keep both in step."""

from datetime import UTC, datetime

from sqlalchemy import (
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    MetaData,
    String,
    TypeDecorator,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC in, aware UTC out, on PostgreSQL (timestamptz) and SQLite (naive UTC text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; pass an aware one")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(
        naming_convention={
            "pk": "pk_%(table_name)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ix": "ix_%(table_name)s_%(column_0_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        }
    )


class Chat(Base):
    """One chat per platform, and everything the bot keeps about it: language, chosen visit,
    reachability. Its subscriptions hang off it, so moving or unblocking the chat moves or resumes
    them with it."""

    __tablename__ = "chats"
    __table_args__ = (UniqueConstraint("platform", "chat_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    # Telegram chat ids and Slack user or channel ids, as text.
    chat_key: Mapped[str] = mapped_column(String(64))
    lang: Mapped[str | None] = mapped_column(String(8), default=None)
    visit_id: Mapped[str | None] = mapped_column(String(64), default=None)
    # False once the chat blocked or removed the bot: its digests wait (pending) until it is back.
    reachable: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class Subscription(Base):
    """A chat that wants a partnership's digests at a local time in a time zone.

    Unsubscribing keeps the row, with `cancelled_at` set, and deletes only its pending
    deliveries: the sent ones stay as the history that keeps a re-subscription (which reuses
    this row) from sending the same digest twice.
    """

    __tablename__ = "subscriptions"
    __table_args__ = (UniqueConstraint("chat_id", "partnership_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"))
    partnership_id: Mapped[str] = mapped_column(String(64))
    local_time: Mapped[str] = mapped_column(String(5))  # HH:MM
    timezone: Mapped[str] = mapped_column(String(64))
    # Who asked for it (a platform user id), where the platform says.
    subscriber: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class Delivery(Base):
    """The ledger: one row per (subscription, digest). Whoever claims the row sends it."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("subscription_id", "digest_key"),
        Index("ix_deliveries_status_due_at", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscriptions.id", ondelete="CASCADE"))
    digest_key: Mapped[str] = mapped_column(String(128))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # pending -> sending -> sent | failed | blocked; pending -> skipped (missed beyond grace)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    owner: Mapped[str | None] = mapped_column(String(64), default=None)
    attempts: Mapped[int] = mapped_column(default=0)
    not_before: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    detail: Mapped[str | None] = mapped_column(String(200), default=None)


class DeliveryPart(Base):
    """A part of a multi-message digest that went out: a retry resumes after the last one.

    The last part has no row: the delivery's `sent` says it went out.
    """

    __tablename__ = "delivery_parts"

    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("deliveries.id", ondelete="CASCADE"), primary_key=True
    )
    part: Mapped[int] = mapped_column(primary_key=True)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime())


class DeliveryOwner(Base):
    """A process that may hold deliveries in flight, alive until `lease_until` (PostgreSQL's
    clock), which it renews while it runs. Rows `sending` under an owner whose lease lapsed
    (or that has none) go back to the queue; rows of a live owner never do, whatever happened
    to its connections."""

    __tablename__ = "delivery_owners"

    owner: Mapped[str] = mapped_column(String(64), primary_key=True)
    lease_until: Mapped[datetime] = mapped_column(UTCDateTime())


class SeenRequest(Base):
    """A platform request already taken on (a Slack event or command, a Telegram update): the
    primary key lets exactly one delivery of it through, across processes. Rows older than any
    redelivery are pruned."""

    __tablename__ = "seen_requests"

    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
