"""The dispatcher's fan-out machinery: outcomes written in groups, a pipeline rather than batch by
batch, and a stop in the middle that still records what went out.

These came with bench/fanout.py (one slow send held up a whole batch; a commit per delivery
blocked the loop); the behaviour they keep is what the acceptance tests in test_scheduling.py
rely on at scale.
"""

import asyncio
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import Engine

from briefings.delivery import DeliveryPolicy, Dispatcher, Outcome, Parts
from briefings.digests import digests
from briefings.library import Library
from briefings.loader import Seeds
from briefings.ports import ChatRef, Settled, Subscription
from briefings.replies import Reply
from storage.chats import SqlChatStates
from storage.ledger import Ledger

from ..conftest import august

SEOUL_0730_DAY1 = datetime(2024, 8, 25, 22, 30, tzinfo=UTC)
BEFORE = datetime(2024, 8, 20, tzinfo=UTC)
# After the eve's 07:30 on 25 August: only the mornings are planned.
AFTER_EVE = datetime(2024, 8, 25, tzinfo=UTC)


def _subscribe(engine: Engine, seeds: Seeds, *keys: str, now: datetime = BEFORE) -> None:
    states = SqlChatStates(engine)
    subscription = Subscription("turin-gwangju", time(7, 30), "Asia/Seoul")
    for key in keys:
        states.subscribe(ChatRef("telegram", key), subscription, digests(august(seeds)), now)


def _statuses(ledger: Ledger) -> dict[tuple[str, str], str]:
    return {
        (r.recipient.chat.key, r.digest_key.split(":", 1)[1]): r.status for r in ledger.recent(100)
    }


def test_settle_writes_many_outcomes_at_once_and_only_for_their_owner(
    engine: Engine, seeds: Seeds
) -> None:
    ledger = Ledger(engine, "a")
    _subscribe(engine, seeds, "sent", "blocked", "again")
    claimed = {
        c.recipient.chat.key: c for c in ledger.claim(SEOUL_0730_DAY1, 10) if "eve" in c.digest_key
    }
    later = SEOUL_0730_DAY1 + timedelta(minutes=5)
    # Another process cannot write outcomes for rows it does not own.
    Ledger(engine, "b").settle([Settled(claimed["sent"].delivery_id, "sent", later)])
    assert ledger.counts().get("sent") is None

    ledger.settle(
        [
            Settled(claimed["sent"].delivery_id, "sent", later),
            Settled(claimed["blocked"].delivery_id, "blocked", later, "gone"),
            Settled(claimed["again"].delivery_id, "pending", later, "send failed; will retry"),
        ]
    )
    statuses = _statuses(ledger)
    assert statuses[("sent", "eve:2024-08-25")] == "sent"
    assert statuses[("blocked", "eve:2024-08-25")] == "blocked"
    assert not SqlChatStates(engine).state(ChatRef("telegram", "blocked")).reachable
    # Back in the queue, for anyone, but not before its time.
    assert Ledger(engine, "b").claim(later - timedelta(seconds=1), 10) == []
    retried = [c for c in Ledger(engine, "b").claim(later, 10) if c.digest_key.endswith("08-25")]
    assert [c.recipient.chat.key for c in retried] == ["again"]
    assert retried[0].attempts == 2


class Gated:
    """A digest sender whose `slow` chat answers only once every other chat has been sent."""

    def __init__(self, slow: str, others: int) -> None:
        self.slow = slow
        self.sent: list[str] = []
        self._others = others
        self._all_others = asyncio.Event()

    async def deliver(self, chat_key: str, reply: Reply, parts: Parts) -> Outcome:
        if chat_key == self.slow:
            await self._all_others.wait()
        self.sent.append(chat_key)
        if len(self.sent) == self._others:
            self._all_others.set()
        return Outcome.SENT


async def test_one_slow_send_does_not_hold_up_the_others(engine: Engine, seeds: Seeds) -> None:
    """Batch after batch, the first batch waited for its slowest send: with this sender, for
    ever. (A 429 asks for a second; 6% of sends meeting one slowed a fan-out fivefold.)"""
    keys = ["slow", *(f"chat{i}" for i in range(7))]
    _subscribe(engine, seeds, *keys, now=AFTER_EVE)
    sender = Gated("slow", others=len(keys) - 1)
    dispatcher = Dispatcher(
        Ledger(engine, "me"),
        Library(seeds),
        {"telegram": sender},
        clock=lambda: SEOUL_0730_DAY1,
        policy=DeliveryPolicy(batch=2, concurrency=2),
    )
    async with asyncio.timeout(10):
        report = await dispatcher.run_once(SEOUL_0730_DAY1)
    assert report.sent == len(keys)
    assert sender.sent[-1] == "slow"


class Stopper:
    """Sends `a` and `b`; on `c`, stops the run (as a shutdown cancels it) and never answers."""

    def __init__(self) -> None:
        self.run: asyncio.Task[object] | None = None
        self.b_sent = asyncio.Event()

    async def deliver(self, chat_key: str, reply: Reply, parts: Parts) -> Outcome:
        if chat_key == "b":
            await asyncio.sleep(0.001)  # after `a`'s write: `b` waits for the next group
            self.b_sent.set()
        elif chat_key == "c":
            await self.b_sent.wait()
            await asyncio.sleep(0)  # `b` hands its outcome to the writer
            assert self.run is not None
            self.run.cancel()
            await asyncio.Event().wait()
        return Outcome.SENT


async def test_a_run_stopped_midway_records_the_sends_that_went_out(
    engine: Engine, seeds: Seeds
) -> None:
    _subscribe(engine, seeds, "a", "b", "c", now=AFTER_EVE)
    ledger = Ledger(engine, "me")
    sender = Stopper()
    dispatcher = Dispatcher(
        ledger,
        Library(seeds),
        {"telegram": sender},
        clock=lambda: SEOUL_0730_DAY1,
    )
    sender.run = asyncio.ensure_future(dispatcher.run_once(SEOUL_0730_DAY1))
    async with asyncio.timeout(10):
        await asyncio.gather(sender.run, return_exceptions=True)
    assert sender.run.cancelled()
    # Checked at once, before the writer's next group would have gone on its own.
    statuses = _statuses(ledger)
    assert statuses[("a", "morning:2024-08-26")] == "sent"
    assert statuses[("b", "morning:2024-08-26")] == "sent"
    # `c` never answered: its row waits for the next start's recovery.
    assert ledger.counts()["sending"] == 1


class _Slow:
    """A sender whose sends take a while, so a stop can arrive in the middle of a fan-out."""

    def __init__(self) -> None:
        self.started = 0
        self.sent: list[str] = []

    async def deliver(self, chat_key: str, reply: Reply, parts: Parts) -> Outcome:
        self.started += 1
        await asyncio.sleep(0.05)
        self.sent.append(chat_key)
        return Outcome.SENT


async def test_stopping_the_scheduler_lets_sends_under_way_be_recorded(
    engine: Engine, seeds: Seeds
) -> None:
    from bot.scheduling import DigestScheduler

    ledger = Ledger(engine, "me")
    keys = [str(n) for n in range(40)]
    _subscribe(engine, seeds, *keys, now=AFTER_EVE)
    sender = _Slow()
    now = SEOUL_0730_DAY1 + timedelta(seconds=1)
    dispatcher = Dispatcher(
        ledger,
        Library(seeds),
        {"telegram": sender},
        clock=lambda: now,
        policy=DeliveryPolicy(batch=5, concurrency=5),
    )
    scheduler = DigestScheduler(
        ledger=ledger,
        dispatcher=dispatcher,
        plans={"turin-gwangju": digests(august(seeds))},
        clock=lambda: now,
        tick_seconds=60,
    )
    await scheduler.start()
    while sender.started < 5:
        await asyncio.sleep(0.01)
    await scheduler.stop()
    statuses = _statuses(ledger)
    # Every send that started went out once and is recorded; nothing is left mid-send, and the
    # rest stay pending for the next start rather than being claimed on the way out.
    assert len(sender.sent) == sender.started
    assert len(sender.sent) < len(keys)
    assert sorted(k for (k, _), s in statuses.items() if s == "sent") == sorted(sender.sent)
    assert "sending" not in statuses.values()
    assert ledger.counts().get("sending", 0) == 0
    assert ledger.counts()["pending"] >= len(keys) - len(sender.sent)
