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

from bot.lanes import ChatLanes
from bot.telegram.adapter import SECRET_HEADER
from briefings.conversation import Conversation
from briefings.rendering.renderer import Renderer
from fakes.telegram_api import private_message, too_many_requests, wait_until
from storage.seen import SqlSeenRequests
from tests.faults.conftest import WEBHOOK_SECRET, Webhook, webhook

HELD, OTHER = 6101, 6102
# How long a POST beyond the bound waits for room: longer than any test, or briefly.
PATIENT, IMPATIENT = 30.0, 0.2


class Held:
    """A webhook taking one update at a time, whose first 429's wait lasts until `gate` opens."""

    def __init__(self, served: Webhook, gate: asyncio.Event) -> None:
        self.fake, self.adapter, self.url = served.fake, served.adapter, served.url
        self.gate = gate

    async def post(self, session: aiohttp.ClientSession, update_id: int, chat: int) -> int:
        update = {"update_id": update_id, **private_message("/briefing", chat_id=chat)}
        async with session.post(
            self.url, json=update, headers={SECRET_HEADER: WEBHOOK_SECRET}
        ) as answer:
            if answer.status == 503:
                assert answer.headers["Retry-After"] == "1"
            return answer.status


@pytest.fixture
async def held(
    request: pytest.FixtureRequest, conversation: Conversation, renderer: Renderer, engine: Engine
) -> AsyncIterator[Held]:
    """`request.param`: the adapter's `hold_seconds`."""
    gate = asyncio.Event()

    async def sleep(seconds: float) -> None:
        await gate.wait()

    async with webhook(
        conversation,
        renderer,
        in_flight=1,
        hold_seconds=request.param,
        sleep=sleep,
        seen=SqlSeenRequests(engine),
    ) as served:
        try:
            yield Held(served, gate)
        finally:
            gate.set()


@pytest.mark.parametrize("held", [PATIENT], indirect=True)
async def test_a_post_beyond_the_bound_waits_for_room_and_is_answered(held: Held) -> None:
    held.fake.fail("sendMessage", too_many_requests(20), chat_id=HELD)
    async with aiohttp.ClientSession() as session:
        assert await held.post(session, 1, HELD) == 200  # taken on; its answer is held
        second = asyncio.create_task(held.post(session, 2, OTHER))
        await asyncio.sleep(0.5)
        assert not second.done()  # waiting for room, neither refused nor taken on
        assert held.fake.sent(OTHER) == []
        held.gate.set()
        assert await second == 200
    await wait_until(lambda: held.fake.sent(OTHER) != [] and held.fake.sent(HELD) != [])


@pytest.mark.parametrize("held", [IMPATIENT], indirect=True)
async def test_still_full_after_the_hold_it_is_refused_and_not_remembered(held: Held) -> None:
    held.fake.fail("sendMessage", too_many_requests(20), chat_id=HELD)
    async with aiohttp.ClientSession() as session:
        assert await held.post(session, 1, HELD) == 200
        assert await held.post(session, 2, OTHER) == 503
        held.gate.set()
        await wait_until(lambda: held.fake.sent(HELD) != [])
        # Telegram sends the refused update again: it is answered, once.
        assert await held.post(session, 2, OTHER) == 200
    await wait_until(lambda: len(held.fake.sent(OTHER)) == 1)
    await asyncio.sleep(0.2)
    assert len(held.fake.sent(OTHER)) == 1


@pytest.mark.parametrize("held", [PATIENT], indirect=True)
async def test_stopping_refuses_a_held_post_at_once(held: Held) -> None:
    held.fake.fail("sendMessage", too_many_requests(20), chat_id=HELD)
    async with aiohttp.ClientSession() as session:
        assert await held.post(session, 1, HELD) == 200
        waiting = asyncio.create_task(held.post(session, 2, OTHER))
        await asyncio.sleep(0.3)
        assert not waiting.done()
        await held.adapter.quiesce()  # SIGTERM: the 30 s hold is not waited out
        assert await asyncio.wait_for(waiting, 2) == 503
    held.gate.set()
    await wait_until(lambda: held.fake.sent(HELD) != [])
    assert held.fake.sent(OTHER) == []


async def test_a_place_is_waited_for_within_the_timeout() -> None:
    lanes = ChatLanes(1)
    release = asyncio.Event()
    assert await lanes.place(0.0)  # empty: a place at once
    lanes.fill("a", release.wait())
    assert not await lanes.place(0.05)  # full for longer than that
    waiting = asyncio.create_task(lanes.place(5.0))
    await asyncio.sleep(0)
    release.set()
    assert await waiting
    lanes.give_back()
    await lanes.close(1.0)


@pytest.mark.parametrize("held", [IMPATIENT], indirect=True)
async def test_an_unreadable_update_gives_its_place_back(held: Held) -> None:
    async with aiohttp.ClientSession() as session:
        for body in (b"{not json", b"[1, 2]"):
            async with session.post(
                held.url, data=body, headers={SECRET_HEADER: WEBHOOK_SECRET}
            ) as answer:
                assert answer.status == 400
        # The one place is free again: the next update is taken on at once, not after the hold.
        assert await held.post(session, 3, OTHER) == 200
    await wait_until(lambda: held.fake.sent(OTHER) != [])
