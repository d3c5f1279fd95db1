"""The tables. Alembic migrations in `migrations/` create and change them; keep both in step."""

from datetime import datetime

from sqlalchemy import DateTime, MetaData, String, UniqueConstraint, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    metadata = MetaData(
        naming_convention={
            "pk": "pk_%(table_name)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ix": "ix_%(table_name)s_%(column_0_name)s",
        }
    )


class Chat(Base):
    """A chat the bot talks to, per platform: its chosen language and whether it still listens."""

    __tablename__ = "chats"
    __table_args__ = (UniqueConstraint("platform", "chat_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    # Telegram chat ids and Slack user or channel ids, as text.
    chat_key: Mapped[str] = mapped_column(String(64))
    lang: Mapped[str | None] = mapped_column(String(8), default=None)
    active: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )
