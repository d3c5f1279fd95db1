"""Per-chat settings that must survive restarts: language, activity, migrated group ids."""

from dataclasses import dataclass

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from briefings.languages import Lang, is_lang
from storage.schema import Chat


@dataclass(frozen=True, slots=True)
class ChatSettings:
    lang: Lang | None
    active: bool


class ChatStore:
    """Short transactions, one per call: SQLite answers them in well under a millisecond."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def _get(self, session: Session, platform: str, key: str) -> Chat | None:
        return session.scalars(
            select(Chat).where(Chat.platform == platform, Chat.chat_key == key)
        ).one_or_none()

    def _get_or_create(self, session: Session, platform: str, key: str) -> Chat:
        chat = self._get(session, platform, key)
        if chat is None:
            chat = Chat(platform=platform, chat_key=key, active=True)
            session.add(chat)
        return chat

    def settings(self, platform: str, key: str) -> ChatSettings:
        """Language and reachability in one read: the adapters ask on every update."""
        with self._engine.connect() as connection:
            row = connection.execute(
                select(Chat.lang, Chat.active).where(
                    Chat.platform == platform, Chat.chat_key == key
                )
            ).one_or_none()
        if row is None:
            return ChatSettings(None, True)
        return ChatSettings(row.lang if is_lang(row.lang) else None, row.active)

    def lang(self, platform: str, key: str) -> Lang | None:
        with Session(self._engine) as session:
            chat = self._get(session, platform, key)
            value = chat.lang if chat else None
            return value if is_lang(value) else None

    def set_lang(self, platform: str, key: str, lang: Lang) -> None:
        with Session(self._engine) as session, session.begin():
            self._get_or_create(session, platform, key).lang = lang

    def set_active(self, platform: str, key: str, active: bool) -> None:
        with Session(self._engine) as session, session.begin():
            self._get_or_create(session, platform, key).active = active

    def migrate(self, platform: str, old: str, new: str) -> None:
        """A Telegram group became a supergroup: its settings follow it to the new id."""
        with Session(self._engine) as session, session.begin():
            chat = self._get(session, platform, old)
            if chat is None:
                return
            existing = self._get(session, platform, new)
            if existing is not None:
                existing.lang = existing.lang or chat.lang
                session.delete(chat)
            else:
                chat.chat_key = new
