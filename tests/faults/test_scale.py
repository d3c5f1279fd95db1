"""Issue 12: the faster paths keep their promises.

- Digests go out through python-telegram-bot's request layer (no `Message` built from each
  answer): two processes on one PostgreSQL database, sends refused at random with 429 and 500,
  still deliver each chat its digest exactly once, with exactly the `sendMessage` parameters
  the console contract prints.
- Updates from many chats at once, unpaced (bench/updates.py's load), are answered concurrently
  and each chat in the order it asked.

Real PostgreSQL, PTB and aiohttp over loopback against the fake Bot API; no timed assertion.
"""

import asyncio
from collections import Counter
from datetime import datetime

import aiohttp
import pytest
from sqlalchemy import Engine
from telegram import Bot

from bot.telegram.adapter import SECRET_HEADER
from bot.telegram.digests import TelegramDigestSender
from bot.telegram.payloads import send_message
from bot.telegram.sending import TelegramSender
from briefings.conversation import Conversation
from briefings.delivery import DeliveryPolicy, Dispatcher
from briefings.digests import digest_reply
from briefings.library import Library
from briefings.loader import Seeds
from briefings.rendering.renderer import Renderer
from briefings.schedule import Digest
from fakes.memory import MemoryChatStates
from fakes.telegram_api import (
    DEFAULT_TOKEN,
    FakeTelegram,
    private_message,
    server_error,
    too_many_requests,
    wait_until,
)
from storage.engine import make_engine
from storage.ledger import Ledger
from tests.conftest import august
from tests.faults.conftest import WEBHOOK_SECRET, webhook
from tests.storage.test_scheduling import DAY1_KEY, _populate

CHATS = 400
DUE = datetime.fromisoformat("2024-08-26T07:30+09:00")
NOW = datetime.fromisoformat("2024-08-26T07:31+09:00")


async def _short(seconds: float) -> None:
    await asyncio.sleep(0.001)


class Process:
    """What one `briefing-bot run` brings to a fan-out: its engine, ledger, bot and sender."""

    def __init__(self, url: str, fake: FakeTelegram, library: Library, owner: str) -> None:
        self.engine: Engine = make_engine(url)
        self.bot = Bot(DEFAULT_TOKEN, base_url=f"{fake.base_url}/bot")
        renderer = Renderer()
        conversation = Conversation(library, MemoryChatStates(), lambda: NOW)
        sender = TelegramSender(self.bot, sleep=_short, rate=None, limits=None)
        self.dispatcher = Dispatcher(
            Ledger(self.engine, owner),
            library,
            {"telegram": TelegramDigestSender(sender, renderer, conversation)},
            lambda: NOW,
            # Each claims a little at a time, so that both hold rows while the other sends.
            DeliveryPolicy(batch=20, concurrency=16),
        )


async def test_two_processes_on_postgresql_send_each_digest_once_through_the_fast_path(
    postgres_url: str,
    seeds: Seeds,
    library: Library,
    renderer: Renderer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # as TelegramAdapter opts in
    chats = _populate(postgres_url, seeds, CHATS)
    fake = FakeTelegram()
    await fake.start()
    # Refused at random, as a flooded or failing Telegram refuses: every 7th chat's first
    # send gets a 429, every 31st a 500. Retried by the sender; none may go out twice.
    for n, chat in enumerate(chats):
        if n % 7 == 0:
            fake.fail("sendMessage", too_many_requests(1), chat_id=chat)
        if n % 31 == 0:
            fake.fail("sendMessage", server_error(), chat_id=chat)
    processes = [Process(postgres_url, fake, library, f"process-{n}") for n in (1, 2)]
    try:
        for process in processes:
            await process.bot.initialize()
        reports = await asyncio.gather(*(p.dispatcher.run_once(NOW) for p in processes))
    finally:
        for process in processes:
            await process.bot.shutdown()
            process.engine.dispose()
        await fake.close()

    received = Counter(params["chat_id"] for params in fake.sent())
    assert received == dict.fromkeys(chats, 1)  # each chat once: none lost, none twice
    assert all(report.sent > 0 for report in reports)  # both processes took part
    assert sum(report.sent for report in reports) == CHATS
    refused = [c for c in fake.requests("sendMessage") if not c.ok]
    assert len(refused) == len([n for n in range(CHATS) if n % 7 == 0 or n % 31 == 0]) + len(
        [n for n in range(CHATS) if n % 7 == 0 and n % 31 == 0]
    )
    # Exactly the parameters the console contract prints (and PTB's object layer sent).
    digest = Digest.parse(DAY1_KEY)
    visit = august(seeds)
    reply = digest_reply(
        digest, visit, library.partnership_of(visit), library.articles, "en", at=DUE
    )
    message = renderer.render(reply, "telegram")[0]
    first = next(c for c in fake.requests("sendMessage") if c.ok)
    assert first.params == send_message(message, first.params["chat_id"])
    assert first.http_method == "POST"


async def _post_commands(session: aiohttp.ClientSession, url: str, chat: int) -> None:
    for n, command in enumerate(("/itinerary day 1", "/itinerary day 2", "/itinerary day 3")):
        update = {"update_id": chat * 10 + n, **private_message(command, chat_id=chat)}
        while True:  # a 503 (the lanes are full) is sent again, as Telegram does
            async with session.post(
                url, json=update, headers={SECRET_HEADER: WEBHOOK_SECRET}
            ) as answer:
                if answer.status == 200:
                    break
                assert answer.status == 503
            await asyncio.sleep(0.05)


async def test_many_chats_at_once_unpaced_each_answered_in_the_order_it_asked(
    conversation: Conversation, renderer: Renderer
) -> None:
    chats = range(7000, 7000 + 200)
    async with webhook(conversation, renderer) as served:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=40)) as session:
            await asyncio.gather(*(_post_commands(session, served.url, chat) for chat in chats))
        await wait_until(lambda: len(served.fake.sent()) == 3 * len(chats), timeout=60)
    fake = served.fake
    for chat in chats:
        days = [_day(params["text"]) for params in fake.sent(chat)]
        assert days == ["Monday 26", "Tuesday 27", "Wednesday 28"], chat


def _day(text: str) -> str:
    for day in ("Monday 26", "Tuesday 27", "Wednesday 28"):
        if day in text.split("\n", 2)[1]:
            return day
    return text.split("\n", 2)[1]
