"""Chat state on SQLite and PostgreSQL: one place for language, visit, reachability and
subscription, and the three bugs that came of keeping them apart (issue 8)."""

from datetime import UTC, datetime, time, timedelta

from sqlalchemy import Engine, inspect

from briefings.digests import digests
from briefings.loader import Seeds
from briefings.ports import ChatRef, ChatState, Settled, Subscription
from storage.chats import SqlChatStates
from storage.engine import make_engine
from storage.ledger import Ledger
from storage.migrate import upgrade

from ..conftest import AUGUST, august

PARTNERSHIP = "turin-gwangju"
BEFORE = datetime(2024, 8, 20, tzinfo=UTC)
EVE_0730_SEOUL = datetime(2024, 8, 24, 22, 30, tzinfo=UTC)
DAY1_0730_SEOUL = datetime(2024, 8, 25, 22, 30, tzinfo=UTC)
SEOUL_0730 = Subscription(PARTNERSHIP, time(7, 30), "Asia/Seoul", subscriber="42")


def _subscribe(states: SqlChatStates, seeds: Seeds, chat: ChatRef) -> None:
    states.subscribe(chat, SEOUL_0730, digests(august(seeds)), BEFORE)


def test_migrations_create_the_schema(engine: Engine) -> None:
    tables = set(inspect(engine).get_table_names())
    assert {"chats", "subscriptions", "deliveries", "alembic_version"} <= tables


def test_upgrade_twice_is_harmless_and_keeps_data(database_url: str) -> None:
    chat = ChatRef("telegram", "1")
    first = make_engine(database_url)
    upgrade(first)
    SqlChatStates(first).set_lang(chat, "it")
    first.dispose()
    second = make_engine(database_url)
    upgrade(second)
    assert SqlChatStates(second).state(chat).lang == "it"
    second.dispose()


def test_an_unknown_chat_has_the_default_state(engine: Engine) -> None:
    assert SqlChatStates(engine).state(ChatRef("telegram", "404")) == ChatState()


def test_state_is_per_chat_and_per_platform(engine: Engine, seeds: Seeds) -> None:
    states = SqlChatStates(engine)
    telegram, slack = ChatRef("telegram", "1"), ChatRef("slack", "1")
    states.set_lang(telegram, "ko")
    states.set_lang(telegram, "it")
    states.set_visit(telegram, AUGUST)
    states.set_lang(slack, "en")
    _subscribe(states, seeds, slack)
    assert states.state(telegram) == ChatState(lang="it", visit=AUGUST)
    assert states.state(slack) == ChatState(lang="en", subscription=SEOUL_0730)
    states.set_visit(telegram, None)
    assert states.state(telegram).visit is None


def test_resubscribing_changes_the_time_and_keeps_one_row_per_digest(
    engine: Engine, seeds: Seeds
) -> None:
    states, ledger = SqlChatStates(engine), Ledger(engine, "a")
    chat = ChatRef("telegram", "1")
    _subscribe(states, seeds, chat)
    rome = Subscription(PARTNERSHIP, time(9, 0), "Europe/Rome")
    states.subscribe(chat, rome, digests(august(seeds)), BEFORE)
    rows = ledger.upcoming(BEFORE)
    assert len(rows) == 5
    assert rows[1].due_at == datetime(2024, 8, 26, 7, 0, tzinfo=UTC)  # 09:00 in Rome, summer
    assert states.state(chat).subscription == rome


def test_unsubscribe_keeps_history_and_a_resubscription_does_not_resend(
    engine: Engine, seeds: Seeds
) -> None:
    states, ledger = SqlChatStates(engine), Ledger(engine, "a")
    chat = ChatRef("telegram", "1")
    _subscribe(states, seeds, chat)
    for claimed in ledger.claim(DAY1_0730_SEOUL, 10):
        ledger.settle([Settled(claimed.delivery_id, "sent", DAY1_0730_SEOUL)])
    assert states.unsubscribe(chat)
    assert states.state(chat).subscription is None
    assert not states.unsubscribe(chat)
    assert ledger.upcoming(BEFORE) == []
    _subscribe(states, seeds, chat)
    assert ledger.claim(DAY1_0730_SEOUL, 10) == []
    assert ledger.counts() == {"sent": 2, "pending": 3}


# --- regressions (issue 8) --------------------------------------------------------------


def test_a_chat_that_blocks_then_unblocks_gets_digests_again(engine: Engine, seeds: Seeds) -> None:
    """Blocking used to deactivate the subscription itself: after an unblock, no digests and
    `/subscriptions` said none."""
    states, ledger = SqlChatStates(engine), Ledger(engine, "a")
    chat = ChatRef("telegram", "7")
    _subscribe(states, seeds, chat)
    eve = ledger.claim(EVE_0730_SEOUL, 10)
    assert len(eve) == 1
    ledger.settle([Settled(eve[0].delivery_id, "blocked", EVE_0730_SEOUL, "403")])
    assert states.state(chat).reachable is False
    assert states.state(chat).subscription == SEOUL_0730
    assert ledger.claim(DAY1_0730_SEOUL, 10) == [], "nothing is tried while the chat is blocked"

    states.set_reachable(chat, True)
    assert states.state(chat) == ChatState(reachable=True, subscription=SEOUL_0730)
    resumed = ledger.claim(DAY1_0730_SEOUL, 10)
    assert [c.digest_key for c in resumed] == [f"{AUGUST}:morning:2024-08-26"]
    assert resumed[0].recipient.chat == chat


def test_a_migrated_supergroup_keeps_its_state_and_can_unsubscribe(
    engine: Engine, seeds: Seeds
) -> None:
    """The group's subscription used to keep the old id: digests went on, /unsubscribe under
    the new id found nothing."""
    states, ledger = SqlChatStates(engine), Ledger(engine, "a")
    group, supergroup = ChatRef("telegram", "-100"), ChatRef("telegram", "-1001234")
    states.set_lang(group, "ko")
    states.set_visit(group, AUGUST)
    _subscribe(states, seeds, group)
    states.migrate(group, supergroup.key)

    assert states.state(group) == ChatState()
    moved = states.state(supergroup)
    assert moved == ChatState(lang="ko", visit=AUGUST, subscription=SEOUL_0730)
    claimed = ledger.claim(EVE_0730_SEOUL, 10)
    assert [c.recipient.chat for c in claimed] == [supergroup]
    assert claimed[0].recipient.lang == "ko"
    assert states.unsubscribe(supergroup)
    assert states.state(supergroup).subscription is None
    assert ledger.upcoming(BEFORE) == []


def test_migrating_onto_a_chat_already_known_merges_them(engine: Engine, seeds: Seeds) -> None:
    states = SqlChatStates(engine)
    group, supergroup = ChatRef("telegram", "-1"), ChatRef("telegram", "-2")
    states.set_lang(group, "it")
    _subscribe(states, seeds, group)
    states.set_visit(supergroup, AUGUST)  # a message from the supergroup came first
    states.migrate(group, supergroup.key)
    assert states.state(supergroup) == ChatState(lang="it", visit=AUGUST, subscription=SEOUL_0730)
    states.migrate(ChatRef("telegram", "-404"), "-405")  # unknown: nothing to move, no error
    assert states.state(ChatRef("telegram", "-405")) == ChatState()


def test_a_language_chosen_after_subscribing_reaches_the_digests(
    engine: Engine, seeds: Seeds
) -> None:
    """The subscription used to keep the language of the moment it was made."""
    states, ledger = SqlChatStates(engine), Ledger(engine, "a")
    chat = ChatRef("slack", "C1")
    _subscribe(states, seeds, chat)
    assert [c.recipient.lang for c in ledger.claim(EVE_0730_SEOUL, 10)] == ["en"]
    states.set_lang(chat, "ko")
    later = DAY1_0730_SEOUL + timedelta(minutes=1)
    assert [c.recipient.lang for c in ledger.claim(later, 10)] == ["ko"]
