"""Chat settings survive restarts and migrations, on SQLite and PostgreSQL alike."""

from sqlalchemy import Engine, inspect

from storage.chats import ChatStore
from storage.engine import make_engine
from storage.migrate import upgrade


def test_migrations_create_the_schema(engine: Engine) -> None:
    tables = set(inspect(engine).get_table_names())
    assert {"chats", "alembic_version"} <= tables


def test_upgrade_twice_is_harmless_and_keeps_data(database_url: str) -> None:
    first = make_engine(database_url)
    upgrade(first)
    ChatStore(first).set_lang("telegram", "1", "it")
    first.dispose()
    second = make_engine(database_url)
    upgrade(second)
    assert ChatStore(second).lang("telegram", "1") == "it"
    second.dispose()


def test_language_is_per_chat_and_per_platform(engine: Engine) -> None:
    store = ChatStore(engine)
    assert store.lang("telegram", "1") is None
    store.set_lang("telegram", "1", "ko")
    store.set_lang("telegram", "1", "it")
    store.set_lang("slack", "1", "en")
    assert store.lang("telegram", "1") == "it"
    assert store.lang("slack", "1") == "en"
    assert store.lang("telegram", "2") is None


def test_chats_are_active_until_marked_otherwise(engine: Engine) -> None:
    store = ChatStore(engine)
    assert store.settings("telegram", "5").active
    store.set_active("telegram", "5", False)
    assert not store.settings("telegram", "5").active
    store.set_active("telegram", "5", True)
    assert store.settings("telegram", "5").active


def test_migrated_group_keeps_its_settings(engine: Engine) -> None:
    store = ChatStore(engine)
    store.set_lang("telegram", "-100", "ko")
    store.migrate("telegram", "-100", "-100200")
    assert store.lang("telegram", "-100200") == "ko"
    assert store.lang("telegram", "-100") is None


def test_migration_onto_a_known_chat_merges(engine: Engine) -> None:
    store = ChatStore(engine)
    store.set_lang("telegram", "-1", "it")
    store.set_active("telegram", "-2", True)
    store.migrate("telegram", "-1", "-2")
    assert store.lang("telegram", "-2") == "it"
    store.migrate("telegram", "-404", "-405")  # unknown: nothing to move, no error
    assert store.lang("telegram", "-405") is None
