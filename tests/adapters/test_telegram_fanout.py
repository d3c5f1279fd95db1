"""The Telegram sender under a fan-out: pacing, a bound on requests in flight, one rendering per
digest, and what a digest finds out about a chat. The real python-telegram-bot against the fake
Bot API on 127.0.0.1.

bench/fanout.py found each of these worth having; these tests keep them doing what they say.
"""

import asyncio
import itertools
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from telegram import Bot
from telegram.ext import Application

from bot.telegram.digests import TelegramDigestSender
from bot.telegram.sending import PLATFORM, Pacer, Sent, TelegramSender
from briefings.conversation import Conversation
from briefings.delivery import Outcome
from briefings.languages import Lang
from briefings.library import Library
from briefings.ports import ChatRef
from briefings.rendering.dialects import DialectName
from briefings.rendering.renderer import Renderer
from briefings.replies import Reply, Say
from briefings.views import notice_reply
from fakes.memory import MemoryChatStates
from fakes.telegram_api import DEFAULT_TOKEN, FakeTelegram
from tests.dialogue import NOW


@dataclass
class CountingTelegram(FakeTelegram):
    """Telegram taking a moment over each sendMessage, counting how many it holds at once."""

    delay: float = 0.02
    open_now: int = 0
    most_open: int = 0

    def _methods(self) -> dict[str, Callable[[dict[str, Any]], Any]]:
        methods = super()._methods()
        send = methods["sendmessage"]

        async def counted_send(params: dict[str, Any]) -> Any:
            self.open_now += 1
            self.most_open = max(self.most_open, self.open_now)
            try:
                await asyncio.sleep(self.delay)
                return send(params)
            finally:
                self.open_now -= 1

        methods["sendmessage"] = counted_send
        return methods


@pytest.fixture
async def fake() -> AsyncIterator[CountingTelegram]:
    server = CountingTelegram()
    await server.start()
    yield server
    await server.close()


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    """The Bot as the adapter builds it: PTB's Application, its pool of 256 connections."""
    app = (
        Application.builder()
        .token(DEFAULT_TOKEN)
        .base_url(f"{fake.base_url}/bot")
        .job_queue(None)  # type: ignore[arg-type]
        .build()
    )
    await app.initialize()
    yield app.bot
    await app.shutdown()


@pytest.fixture
def states() -> MemoryChatStates:
    return MemoryChatStates()


@pytest.fixture
def conversation(library: Library, states: MemoryChatStates) -> Conversation:
    return Conversation(library, states, lambda: NOW)


def morning(lang: Lang = "en") -> Reply:
    return notice_reply(Say("unsubscribed"), lang)


async def test_the_pacer_spaces_requests_and_saves_up_no_burst() -> None:
    now = [100.0]
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(round(seconds, 6))

    pacer = Pacer(10, clock=lambda: now[0], sleep=sleep)
    for _ in range(4):
        await pacer.wait()
    assert slept == [0.1, 0.2, 0.3]  # the first goes at once, each next a tenth later
    slept.clear()
    now[0] = 200.0  # a quiet spell: it does not let a burst through afterwards
    await pacer.wait()
    await pacer.wait()
    assert slept == [0.1]


async def test_slots_taken_a_little_late_keep_the_rate() -> None:
    """A busy loop wakes the pacer late: each slot a little late must not push every later
    one back (paced at 300 a second, a fan-out ran at 230)."""
    now = [100.0]
    granted: list[float] = []

    async def sleep(seconds: float) -> None:
        now[0] += seconds + 0.03  # every wake-up 30 ms late, under one interval

    pacer = Pacer(10, clock=lambda: now[0], sleep=sleep)
    for _ in range(11):
        await pacer.wait()
        granted.append(now[0])
    assert granted[-1] - granted[0] <= 1.0 + 0.03 + 1e-9  # ten intervals, not ten late ones
    gaps = [b - a for a, b in itertools.pairwise(granted)]
    assert min(gaps) >= 0.1 - 0.03 - 1e-9  # never closer than a slot less the lateness


class SleptClock:
    """A clock that only the pacer's sleeps move forward, and the sleeps it was asked for."""

    def __init__(self, now: float = 100.0) -> None:
        self.now = now
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 6))
        self.now += seconds


async def test_a_request_that_was_no_message_hands_its_slot_to_the_next() -> None:
    """Refused sends must not leave the rate unused, nor let failures alone flood Telegram."""
    clock = SleptClock()
    pacer = Pacer(10, clock=clock, sleep=clock.sleep)
    await pacer.wait()
    pacer.refund()  # answered 429: not a message
    await pacer.wait()  # at once, in the slot handed back
    assert clock.slept == []
    for _ in range(18):
        pacer.refund()
        await pacer.wait()
    assert clock.slept == []  # twenty requests in this second, twice the rate: no more
    pacer.refund()
    await pacer.wait()
    assert clock.slept == [1.0]  # the first request's second has to pass
    pacer.delivered()
    await pacer.wait()  # a message went: the next is an interval later
    assert clock.slept[-1] == 0.1


async def test_a_refund_while_the_pacer_sleeps_hands_out_one_slot_not_two() -> None:
    now = [100.0]
    woken = asyncio.Event()
    granted: list[tuple[str, float]] = []

    async def sleep(seconds: float) -> None:
        start = now[0]
        await woken.wait()  # the test decides when the sleep ends; then the clock has moved
        now[0] = max(now[0], start + seconds)

    pacer = Pacer(10, clock=lambda: now[0], sleep=sleep)

    async def send(name: str) -> None:
        await pacer.wait()
        granted.append((name, round(now[0], 6)))

    await send("a")  # at 100.0; the next slot is at 100.1
    waiting = [asyncio.create_task(send(n)) for n in ("b", "c")]
    for _ in range(3):
        await asyncio.sleep(0)  # b and c wait; the pacer sleeps towards 100.1
    now[0] = 100.06
    pacer.refund()  # a was refused: its slot goes to b at once
    await asyncio.sleep(0)
    assert granted == [("a", 100.0), ("b", 100.06)]
    woken.set()  # the pacer's sleep ends at 100.1
    await asyncio.gather(*waiting)
    # c waits its own interval after b (100.16), not the slot b already took.
    assert granted[-1][0] == "c"
    assert granted[-1][1] >= 100.16 - 1e-9


async def test_refunds_never_let_more_than_the_rate_through_in_a_second() -> None:
    clock = SleptClock()
    pacer = Pacer(2, clock=clock, sleep=clock.sleep)
    await pacer.wait()
    pacer.delivered()  # at 100.0
    clock.now = 100.5
    await pacer.wait()
    pacer.delivered()  # at 100.5: two messages in this second, the rate
    clock.now = 100.6
    pacer.refund()  # a third request refused: spacing alone would let the next go now
    await pacer.wait()
    assert clock.slept == [0.4]  # the first message's second has to pass
    assert clock.now == 101.0


async def test_requests_in_flight_stay_within_the_bound(fake: CountingTelegram, bot: Bot) -> None:
    sender = TelegramSender(bot, in_flight=2)
    results = await asyncio.gather(
        *(sender.send({"chat_id": 7000 + i, "text": f"n{i}"}) for i in range(8))
    )
    assert [r.status for r in results] == ["sent"] * 8
    # Sent through PTB's request layer: the message's id, not a PTB Message built from it.
    assert all(r.message_id is not None and r.moved_to is None for r in results)
    assert sorted(p["chat_id"] for p in fake.sent()) == list(range(7000, 7008))
    assert fake.most_open == 2


async def test_the_sender_says_what_it_found_and_writes_nothing(
    fake: CountingTelegram, bot: Bot
) -> None:
    fake.block(7001)
    fake.migrate(-7002, -1007002)
    sender = TelegramSender(bot)
    blocked = await sender.send({"chat_id": 7001, "text": "hi"})
    moved = await sender.send({"chat_id": -7002, "text": "hi"})
    assert blocked == Sent("blocked")
    assert (moved.status, moved.moved_to) == ("sent", -1007002)
    assert fake.sent(-1007002) == [{"chat_id": -1007002, "text": "hi"}]


class CountingRenderer(Renderer):
    def __init__(self) -> None:
        super().__init__()
        self.renders = 0

    def items(self, reply: Reply, dialect: DialectName) -> list[str]:
        self.renders += 1
        return super().items(reply, dialect)


async def test_a_digest_is_rendered_once_for_all_its_readers(
    fake: CountingTelegram, bot: Bot, conversation: Conversation
) -> None:
    renderer = CountingRenderer()
    digests = TelegramDigestSender(TelegramSender(bot), renderer, conversation)
    reply = morning()
    outcomes = await asyncio.gather(*(digests.deliver(str(7100 + i), reply) for i in range(5)))
    assert outcomes == [Outcome.SENT] * 5
    assert renderer.renders == 1
    assert len(fake.sent()) == 5
    # Another reply, even an equal one, is rendered for itself.
    await digests.deliver("7200", morning())
    assert renderer.renders == 2


async def test_a_digest_to_a_blocked_chat_is_blocked_for_the_ledger_to_record(
    fake: CountingTelegram,
    bot: Bot,
    conversation: Conversation,
    states: MemoryChatStates,
    renderer: Renderer,
) -> None:
    fake.block(7300)
    digests = TelegramDigestSender(TelegramSender(bot), renderer, conversation)
    assert await digests.deliver("7300", morning()) is Outcome.BLOCKED
    # The ledger marks the chat unreachable when it settles the delivery; not the sender.
    assert states.chats == {}


async def test_a_digest_follows_a_migrated_group_and_tells_the_service(
    fake: CountingTelegram,
    bot: Bot,
    conversation: Conversation,
    states: MemoryChatStates,
    renderer: Renderer,
) -> None:
    old, new = -7400, -1007400
    states.set_lang(ChatRef(PLATFORM, str(old)), "it")
    fake.migrate(old, new)
    digests = TelegramDigestSender(TelegramSender(bot), renderer, conversation)
    assert await digests.deliver(str(old), morning("it")) is Outcome.SENT
    assert len(fake.sent(new)) == 1
    assert states.state(ChatRef(PLATFORM, str(new))).lang == "it"
    assert ChatRef(PLATFORM, str(old)) not in states.chats
