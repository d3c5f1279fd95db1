"""0002 -> head on a database filled as the code before 0003 wrote it, on SQLite and PostgreSQL."""

from datetime import UTC, datetime, time

from sqlalchemy import Engine, text

from briefings.ports import ChatRef, ChatState, Subscription
from storage.chats import SqlChatStates
from storage.engine import make_engine
from storage.ledger import Ledger
from storage.migrate import downgrade, upgrade

VISIT = "turin-gwangju-2024"
EVE = f"{VISIT}:eve:2024-08-25"
MORNING = f"{VISIT}:morning:2024-08-26"
DAY1_0730_SEOUL = datetime(2024, 8, 25, 22, 30, tzinfo=UTC)


def _fill_as_0002(engine: Engine) -> None:
    """Rows as ChatStore and Ledger wrote them: subscription state in `subscriptions.active`."""
    with engine.begin() as connection:
        connection.execute(
            text(
                "insert into chats (platform, chat_key, lang, active) values"
                " ('telegram', 'live', 'ko', true),"  # /lang ko, then subscribed in Italian
                " ('telegram', 'blocked', null, false),"  # the sender saw a 403
                " ('slack', 'C-left', 'it', true)"
            )
        )
        connection.execute(
            text(
                "insert into subscriptions"
                " (platform, chat_key, visit_id, local_time, timezone, lang, active) values"
                " ('telegram', 'live', :visit, '07:30', 'Asia/Seoul', 'it', true),"
                " ('telegram', 'blocked', :visit, '07:30', 'Asia/Seoul', 'it', false),"
                " ('slack', 'C-left', :visit, '08:00', 'Europe/Rome', 'en', false),"
                # No chats row: subscribed, never chose a language.
                " ('slack', 'C-new', :visit, '09:00', 'Europe/Rome', 'en', true),"
                # Paused by a block in a chat the sender never marked: pending rows remain.
                " ('telegram', 'paused', :visit, '07:30', 'Asia/Seoul', 'ko', false)"
            ),
            {"visit": VISIT},
        )
        rows = [
            (1, EVE, "sent"),
            (1, MORNING, "pending"),
            (2, EVE, "blocked"),
            (2, MORNING, "pending"),
            (3, EVE, "sent"),  # then /unsubscribe, which deleted the pending rows
            (4, MORNING, "pending"),
            (5, EVE, "blocked"),
            (5, MORNING, "pending"),
        ]
        for subscription, key, status in rows:
            connection.execute(
                text(
                    "insert into deliveries (subscription_id, digest_key, due_at, status, attempts)"
                    " values (:s, :k, :due, :status, 1)"
                ),
                {
                    "s": subscription,
                    "k": key,
                    "due": datetime(2024, 8, 25 if key == MORNING else 24, 22, 30),
                    "status": status,
                },
            )


def test_0002_databases_are_carried_forward(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(engine, "0002")
    _fill_as_0002(engine)
    upgrade(engine)
    states, ledger = SqlChatStates(engine), Ledger(engine, "after")

    def subscription(at: time, zone: str) -> Subscription:
        return Subscription("turin-gwangju", at, zone)

    seoul, rome_8, rome_9 = (
        subscription(time(7, 30), "Asia/Seoul"),
        subscription(time(8, 0), "Europe/Rome"),
        subscription(time(9, 0), "Europe/Rome"),
    )
    # The chat's own language stays; a chat without one takes its subscription's.
    assert states.state(ChatRef("telegram", "live")) == ChatState(lang="ko", subscription=seoul)
    # Blocked (by the chat's flag, or by pending rows kept by a pause): unreachable, still
    # subscribed, so an unblock resumes it.
    for key, lang in (("blocked", "it"), ("paused", "ko")):
        assert states.state(ChatRef("telegram", key)) == ChatState(
            lang=lang, reachable=False, subscription=seoul
        )
    # Unsubscribed: no subscription, its sent digest kept as history.
    assert states.state(ChatRef("slack", "C-left")) == ChatState(lang="it")
    # A subscription without a chats row got one.
    assert states.state(ChatRef("slack", "C-new")) == ChatState(lang="en", subscription=rome_9)

    # Only reachable chats' digests are claimed, each in the chat's language.
    claimed = ledger.claim(DAY1_0730_SEOUL, 10)
    assert sorted((c.recipient.chat.key, c.recipient.lang) for c in claimed) == [
        ("C-new", "en"),
        ("live", "ko"),
    ]
    states.set_reachable(ChatRef("telegram", "blocked"), True)
    assert [c.recipient.chat.key for c in ledger.claim(DAY1_0730_SEOUL, 10)] == ["blocked"]

    # Re-subscribing the unsubscribed chat does not resend what it already had.
    states.subscribe(ChatRef("slack", "C-left"), rome_8, [], DAY1_0730_SEOUL)
    assert ledger.counts()["sent"] == 2
    assert all(r.recipient.chat.key != "C-left" for r in ledger.upcoming(DAY1_0730_SEOUL))
    engine.dispose()


def test_downgrade_to_0002_and_back(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(engine, "0002")
    _fill_as_0002(engine)
    upgrade(engine)
    downgrade(engine, "0002")
    with engine.connect() as connection:
        rows = connection.execute(text("select chat_key, active from subscriptions"))
        active = {key: bool(value) for key, value in rows}
    assert active == {
        "live": True,
        "blocked": False,
        "C-left": False,
        "C-new": True,
        "paused": False,
    }
    upgrade(engine)
    assert SqlChatStates(engine).state(ChatRef("telegram", "paused")).reachable is False
    engine.dispose()
