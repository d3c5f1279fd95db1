"""The ledger on SQLite and PostgreSQL: one claim per row, late within grace, recovery."""

from datetime import UTC, datetime, time, timedelta

from sqlalchemy import Engine

from briefings.delivery import DeliveryPolicy, Dispatcher, Outcome, Parts
from briefings.digests import digests
from briefings.library import Library
from briefings.loader import Seeds
from briefings.ports import ChatRef, Subscription
from briefings.replies import Reply, Say
from storage.chats import SqlChatStates
from storage.ledger import Ledger

from ..conftest import august

SEOUL_0730_DAY1 = datetime(2024, 8, 25, 22, 30, tzinfo=UTC)  # 07:30 in Seoul on 26 August
BEFORE = datetime(2024, 8, 20, tzinfo=UTC)


def _subscribe(engine: Engine, seeds: Seeds, key: str, zone: str = "Asia/Seoul") -> ChatRef:
    chat = ChatRef("telegram", key)
    subscription = Subscription("turin-gwangju", time(7, 30), zone)
    SqlChatStates(engine).subscribe(chat, subscription, digests(august(seeds)), BEFORE)
    return chat


def test_subscribing_plans_every_future_digest(engine: Engine, seeds: Seeds) -> None:
    ledger = Ledger(engine, "a")
    _subscribe(engine, seeds, "1")
    upcoming = ledger.upcoming(BEFORE)
    assert [r.digest_key.split(":", 1)[1] for r in upcoming] == [
        "eve:2024-08-25",
        "morning:2024-08-26",
        "morning:2024-08-27",
        "morning:2024-08-28",
        "recap:2024-08-29",
    ]
    assert upcoming[1].due_at == SEOUL_0730_DAY1


def test_a_due_row_is_claimed_once(engine: Engine, seeds: Seeds) -> None:
    first, second = Ledger(engine, "a"), Ledger(engine, "b")
    _subscribe(engine, seeds, "1")
    at = SEOUL_0730_DAY1 + timedelta(seconds=1)
    claimed = first.claim(at, 10)
    assert [c.digest_key.split(":", 1)[1] for c in claimed] == [
        "eve:2024-08-25",
        "morning:2024-08-26",
    ]
    assert second.claim(at, 10) == []
    assert first.claim(at, 10) == []


def test_nothing_is_due_early(engine: Engine, seeds: Seeds) -> None:
    ledger = Ledger(engine, "a")
    _subscribe(engine, seeds, "1")
    assert ledger.claim(datetime(2024, 8, 24, 22, 29, tzinfo=UTC), 10) == []


def test_missed_beyond_grace_is_skipped_not_sent(engine: Engine, seeds: Seeds) -> None:
    ledger = Ledger(engine, "a")
    _subscribe(engine, seeds, "1")
    late = SEOUL_0730_DAY1 + timedelta(hours=1)
    skipped = ledger.skip_missed(late, timedelta(hours=2))
    assert len(skipped) == 1  # only the eve, a day old
    assert "eve:2024-08-25" in skipped[0]
    assert [c.digest_key.split(":")[1] for c in ledger.claim(late, 10)] == ["morning"]


def test_recovery_requeues_rows_of_a_stopped_process(engine: Engine, seeds: Seeds) -> None:
    # Stopped without a word: on PostgreSQL its lease ran out (here, at once).
    dead = Ledger(engine, "dead", lease=timedelta(0))
    _subscribe(engine, seeds, "1")
    at = SEOUL_0730_DAY1
    assert len(dead.claim(at, 10)) == 2
    alive = Ledger(engine, "alive")
    assert alive.claim(at, 10) == []
    assert alive.recover() == 2
    assert len(alive.claim(at, 10)) == 2


def test_a_live_owner_keeps_its_rows_on_postgresql(postgres_url: str, seeds: Seeds) -> None:
    """SQLite serves one process, so only PostgreSQL can tell a live owner from a dead one."""
    from storage.engine import make_engine
    from storage.migrate import upgrade

    engine = make_engine(postgres_url)
    upgrade(engine)
    busy = Ledger(engine, "busy")
    busy.hold_owner_lock()
    try:
        _subscribe(engine, seeds, "1")
        assert len(busy.claim(SEOUL_0730_DAY1, 10)) == 2
        assert Ledger(engine, "other").recover() == 0
    finally:
        busy.release_owner_lock()
    assert Ledger(engine, "other").recover() == 2
    engine.dispose()


class Transcript:
    """A digest sender that records every delivery and answers from a script."""

    def __init__(self, script: dict[str, list[Outcome]] | None = None) -> None:
        self.sent: list[tuple[str, str]] = []
        self.script = script or {}

    async def deliver(self, chat_key: str, reply: Reply, parts: Parts) -> Outcome:
        outcomes = self.script.get(chat_key)
        outcome = outcomes.pop(0) if outcomes else Outcome.SENT
        if outcome is Outcome.SENT:
            self.sent.append((chat_key, reply.data["heading"]))
        return outcome


def _dispatcher(
    engine: Engine, seeds: Seeds, sender: Transcript, now: list[datetime]
) -> Dispatcher:
    return Dispatcher(
        Ledger(engine, "me"),
        Library(seeds),
        {"telegram": sender},
        clock=lambda: now[0],
        policy=DeliveryPolicy(first_retry=timedelta(minutes=1), max_attempts=2),
    )


async def test_dispatcher_sends_each_due_digest_once(engine: Engine, seeds: Seeds) -> None:
    sender, now = Transcript(), [SEOUL_0730_DAY1]
    for key in ("1", "2", "3"):
        _subscribe(engine, seeds, key)
    dispatcher = _dispatcher(engine, seeds, sender, now)
    report = await dispatcher.run_once(now[0])
    # The eve preview fell due a day earlier, beyond the grace period: skipped, not sent late.
    assert report.sent == 3
    assert len(report.skipped) == 3
    assert sorted(k for k, _ in sender.sent) == ["1", "2", "3"]
    assert {heading for _, heading in sender.sent} == {
        Say("digest_morning", day="Monday 26 August 2024", n=1, total=3)
    }
    again = await dispatcher.run_once(now[0] + timedelta(minutes=1))
    assert (again.sent, again.skipped) == (0, [])
    assert len(sender.sent) == 3


async def test_a_digest_missed_within_grace_is_sent_late(engine: Engine, seeds: Seeds) -> None:
    sender, now = Transcript(), [SEOUL_0730_DAY1 + timedelta(minutes=90)]
    _subscribe(engine, seeds, "1")
    report = await _dispatcher(engine, seeds, sender, now).run_once(now[0])
    assert report.sent == 1
    assert sender.sent[0][0] == "1"


async def test_a_blocked_chat_waits_and_failures_retry_then_give_up(
    engine: Engine, seeds: Seeds
) -> None:
    ledger = Ledger(engine, "setup")
    _subscribe(engine, seeds, "blocked")
    _subscribe(engine, seeds, "flaky")
    sender = Transcript(
        {
            "blocked": [Outcome.BLOCKED],
            "flaky": [Outcome.FAILED, Outcome.SENT, Outcome.FAILED, Outcome.FAILED],
        }
    )
    day1 = SEOUL_0730_DAY1 - timedelta(days=1) + timedelta(seconds=5)  # the eve only
    now = [day1]
    dispatcher = _dispatcher(engine, seeds, sender, now)
    first = await dispatcher.run_once(day1)
    assert (first.blocked, first.retried) == (1, 1)
    blocked = SqlChatStates(engine).state(ChatRef("telegram", "blocked"))
    assert not blocked.reachable
    assert blocked.subscription is not None, "blocking is not unsubscribing"
    now[0] = day1 + timedelta(seconds=30)
    assert (await dispatcher.run_once(now[0])).sent == 0  # not before the back-off
    now[0] = day1 + timedelta(minutes=2)
    assert (await dispatcher.run_once(now[0])).sent == 1
    assert sender.sent == [("flaky", sender.sent[0][1])]
    # The next digest fails twice: the policy allows two attempts, then it is given up.
    now[0] = SEOUL_0730_DAY1 + timedelta(seconds=5)
    assert (await dispatcher.run_once(now[0])).retried == 1
    now[0] += timedelta(minutes=5)
    assert (await dispatcher.run_once(now[0])).failed == 1
    assert ledger.counts()["failed"] == 1
    assert ledger.counts()["blocked"] == 1
