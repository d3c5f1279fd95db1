"""A full webhook slows Telegram down rather than sending it away.

Beyond the bound on updates in flight, a POST waits (up to `hold_seconds`) for room and is then
taken on with 200; only one still without room after that gets 503 and Retry-After, and its
update is neither handled nor remembered as seen. Telegram waits for each answer on at most
`max_connections` connections, so a held answer is back-pressure; a 503 made it wait a whole
Retry-After, with the lanes idle meanwhile.
"""

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest
from sqlalchemy import Engine

from bot.http import HttpServer
from bot.lanes import ChatLanes
from bot.telegram.adapter import SECRET_HEADER, TelegramAdapter
from briefings.conversation import Conversation
from briefings.rendering.renderer import Renderer
from fakes.telegram_api import FakeTelegram, private_message, too_many_requests, wait_until
from storage.seen import SqlSeenRequests

SECRET = "webhook-secret-for-back-pressure"  # noqa: S105 - the test's own
HELD, OTHER = 6101, 6102


class Webhook:
    def __init__(
        self, fake: FakeTelegram, gate: asyncio.Event, port: int, adapter: TelegramAdapter
    ) -> None:
        self.fake, self.gate, self.port, self.adapter = fake, gate, port, adapter

    async def post(self, session: aiohttp.ClientSession, update_id: int, chat: int) -> int:
        update = {"update_id": update_id, **private_message("/briefing", chat_id=chat)}
        async with session.post(
            f"http://127.0.0.1:{self.port}/telegram",
            json=update,
            headers={SECRET_HEADER: SECRET},
        ) as answer:
            if answer.status == 503:
                assert answer.headers["Retry-After"] == "1"
            return answer.status


async def _webhook(
    conversation: Conversation, renderer: Renderer, engine: Engine, hold_seconds: float
) -> AsyncIterator[Webhook]:
    fake = FakeTelegram()
    await fake.start()
    gate = asyncio.Event()

    async def held(seconds: float) -> None:
        await gate.wait()  # the 429's wait lasts until the test opens the gate

    http = HttpServer("127.0.0.1", 0)
    adapter = TelegramAdapter(
        token=fake.token,
        api_url=fake.base_url,
        conversation=conversation,
        renderer=renderer,
        webhook_url="https://bot.example.org/telegram",
        webhook_secret=SECRET,
        http=http,
        limits=None,
        in_flight=1,
        hold_seconds=hold_seconds,
        sleep=held,
        seen=SqlSeenRequests(engine),
    )
    await http.start()
    await adapter.start()
    try:
        yield Webhook(fake, gate, http.port, adapter)
    finally:
        gate.set()
        await http.quiesce()
        await adapter.stop()
        await http.stop()
        await fake.close()


@pytest.fixture
async def patient(
    conversation: Conversation, renderer: Renderer, engine: Engine
) -> AsyncIterator[Webhook]:
    async for webhook in _webhook(conversation, renderer, engine, hold_seconds=30.0):
        yield webhook


@pytest.fixture
async def impatient(
    conversation: Conversation, renderer: Renderer, engine: Engine
) -> AsyncIterator[Webhook]:
    async for webhook in _webhook(conversation, renderer, engine, hold_seconds=0.2):
        yield webhook


async def test_a_post_beyond_the_bound_waits_for_room_and_is_answered(patient: Webhook) -> None:
    patient.fake.fail("sendMessage", too_many_requests(20), chat_id=HELD)
    async with aiohttp.ClientSession() as session:
        assert await patient.post(session, 1, HELD) == 200  # taken on; its answer is held
        second = asyncio.create_task(patient.post(session, 2, OTHER))
        await asyncio.sleep(0.5)
        assert not second.done()  # waiting for room, neither refused nor taken on
        assert patient.fake.sent(OTHER) == []
        patient.gate.set()
        assert await second == 200
    await wait_until(lambda: patient.fake.sent(OTHER) != [] and patient.fake.sent(HELD) != [])


async def test_still_full_after_the_hold_it_is_refused_and_not_remembered(
    impatient: Webhook,
) -> None:
    impatient.fake.fail("sendMessage", too_many_requests(20), chat_id=HELD)
    async with aiohttp.ClientSession() as session:
        assert await impatient.post(session, 1, HELD) == 200
        assert await impatient.post(session, 2, OTHER) == 503
        impatient.gate.set()
        await wait_until(lambda: impatient.fake.sent(HELD) != [])
        # Telegram sends the refused update again: it is answered, once.
        assert await impatient.post(session, 2, OTHER) == 200
    await wait_until(lambda: len(impatient.fake.sent(OTHER)) == 1)
    await asyncio.sleep(0.2)
    assert len(impatient.fake.sent(OTHER)) == 1


async def test_stopping_refuses_a_held_post_at_once(patient: Webhook) -> None:
    patient.fake.fail("sendMessage", too_many_requests(20), chat_id=HELD)
    async with aiohttp.ClientSession() as session:
        assert await patient.post(session, 1, HELD) == 200
        held = asyncio.create_task(patient.post(session, 2, OTHER))
        await asyncio.sleep(0.3)
        assert not held.done()
        await patient.adapter.quiesce()  # SIGTERM: the 30 s hold is not waited out
        assert await asyncio.wait_for(held, 2) == 503
    patient.gate.set()
    await wait_until(lambda: patient.fake.sent(HELD) != [])
    assert patient.fake.sent(OTHER) == []


async def test_room_is_waited_for_within_the_timeout() -> None:
    lanes = ChatLanes(1)
    release = asyncio.Event()
    assert await lanes.room(0.0)  # empty: room at once
    assert lanes.offer("a", release.wait())
    assert not await lanes.room(0.05)  # full for longer than that
    waiting = asyncio.create_task(lanes.room(5.0))
    await asyncio.sleep(0)
    release.set()
    assert await waiting
    await lanes.close(1.0)
