"""The Telegram sender under a fan-out: pacing, a bound on requests in flight, one rendering per
digest. The real python-telegram-bot against the fake Bot API on 127.0.0.1.

bench/fanout.py found each of these worth having; these tests keep them doing what they say.
"""

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from telegram import Bot
from telegram.ext import Application

from bot.telegram.digests import TelegramDigestSender
from bot.telegram.sending import Pacer, TelegramSender
from briefings.delivery import Outcome
from briefings.rendering.renderer import Message, Renderer
from briefings.replies import Reply
from briefings.views import notice_reply
from fakes.telegram_api import DEFAULT_TOKEN, FakeTelegram
from storage.chats import ChatStore
from storage.engine import make_engine
from storage.migrate import upgrade


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
def store(tmp_path: Path) -> ChatStore:
    engine = make_engine(f"sqlite:///{tmp_path / 'chats.sqlite3'}")
    upgrade(engine)
    return ChatStore(engine)


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


async def test_requests_in_flight_stay_within_the_bound(
    fake: CountingTelegram, bot: Bot, store: ChatStore
) -> None:
    sender = TelegramSender(bot, store, in_flight=2)
    statuses = await asyncio.gather(
        *(sender.send_status({"chat_id": 7000 + i, "text": f"n{i}"}) for i in range(8))
    )
    assert statuses == ["sent"] * 8
    assert sorted(p["chat_id"] for p in fake.sent()) == list(range(7000, 7008))
    assert fake.most_open == 2


class CountingRenderer(Renderer):
    def __init__(self) -> None:
        super().__init__()
        self.renders = 0

    def render(self, reply: Reply, dialect: Any) -> list[Message]:
        self.renders += 1
        return super().render(reply, dialect)


async def test_a_digest_is_rendered_once_for_all_its_readers(
    fake: CountingTelegram, bot: Bot, store: ChatStore
) -> None:
    renderer = CountingRenderer()
    digests = TelegramDigestSender(TelegramSender(bot, store), renderer)
    reply = notice_reply("Good morning.", "en")
    outcomes = await asyncio.gather(*(digests.deliver(str(7100 + i), reply) for i in range(5)))
    assert outcomes == [Outcome.SENT] * 5
    assert renderer.renders == 1
    assert len(fake.sent()) == 5
    # Another reply, even an equal one, is rendered for itself.
    await digests.deliver("7200", notice_reply("Good morning.", "en"))
    assert renderer.renders == 2
