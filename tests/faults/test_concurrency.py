"""Defect 1: one chat stalls everyone. A chat waiting out a flood limit must hold up only
itself; chats are answered concurrently, each chat's answers in the order it asked."""

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
import pytest
from sqlalchemy import Engine

from bot.http import HttpServer
from bot.slack.adapter import EVENTS_PATH, SlackAdapter
from briefings.conversation import Conversation
from briefings.rendering.renderer import Renderer
from fakes.slack_api import (
    BOT_TOKEN,
    SIGNING_SECRET,
    FakeSlack,
    event_callback,
    rate_limited,
    sign,
)
from fakes.telegram_api import (
    FakeTelegram,
    private_message,
    texts,
    too_many_requests,
    wait_until,
)
from storage.seen import SqlSeenRequests

from .conftest import Adapters

ALICE, BOB = 5001, 5002


class HeldSleep:
    """Stands in for the sender's sleep: a wait of `seconds` lasts until the test releases it,
    so a 429 of 20 s holds its chat exactly as long as the test needs, and no longer."""

    def __init__(self) -> None:
        self.asked: list[float] = []
        self.released = asyncio.Event()

    async def __call__(self, seconds: float) -> None:
        self.asked.append(seconds)
        await self.released.wait()


async def test_a_chat_held_by_a_flood_wait_does_not_hold_another(
    fake_telegram: Callable[..., Awaitable[FakeTelegram]], adapters: Adapters
) -> None:
    fake = await fake_telegram()
    fake.fail("sendMessage", too_many_requests(20), chat_id=ALICE)
    held = HeldSleep()
    await adapters.start(fake, sleep=held)
    try:
        fake.queue_update(private_message("/itinerary day 1", chat_id=ALICE))
        await wait_until(lambda: held.asked, timeout=10)  # Alice's reply waits out its 429
        fake.queue_update(private_message("/itinerary day 2", chat_id=BOB))
        # Far under the 20 s Alice waits: on the old code Bob waited behind her for all of it.
        await wait_until(lambda: fake.sent(BOB), timeout=10)
        assert fake.sent(ALICE) == []  # Alice's reply is still waiting
        assert held.asked == [20.0]
        assert "Tuesday 27 August 2024" in fake.sent(BOB)[0]["text"]
    finally:
        held.released.set()  # the 20 s are over (or the test failed: let it stop)
    await wait_until(lambda: fake.sent(ALICE), timeout=10)
    assert "Monday 26 August 2024" in fake.sent(ALICE)[0]["text"]


async def test_one_chat_s_replies_keep_the_order_it_asked_in(
    fake_telegram: Callable[..., Awaitable[FakeTelegram]], adapters: Adapters
) -> None:
    fake = await fake_telegram()
    # Its first reply takes a 429 and two server errors: the next must not overtake it.
    fake.fail("sendMessage", too_many_requests(1), chat_id=ALICE)
    await adapters.start(fake, sleep=_short)
    asked = [f"/itinerary day {n}" for n in (1, 2, 3, 1, 3, 2)]
    for text in asked:
        fake.queue_update(private_message(text, chat_id=ALICE))
    await wait_until(lambda: len(fake.sent(ALICE)) == len(asked), timeout=20)
    days = [_day(text) for text in texts(fake.sent(ALICE))]
    assert days == ["26", "27", "28", "26", "28", "27"]


async def _short(seconds: float) -> None:
    await asyncio.sleep(0.01)


def _day(text: str) -> str:
    for day in ("26", "27", "28"):
        if f"{day} August 2024" in text:
            return day
    raise AssertionError(f"no day of the visit in {text[:80]!r}")


# --- Slack: answers already run in tasks; one channel's must keep its order ---------------------

GENERAL, OTHER = "C0GENERAL", "C0OTHER"


@pytest.fixture
async def slack(
    conversation: Conversation, renderer: Renderer, engine: Engine
) -> AsyncIterator[tuple[FakeSlack, str]]:
    fake = FakeSlack()
    await fake.start()
    server = HttpServer("127.0.0.1", 0)
    adapter = SlackAdapter(
        bot_token=BOT_TOKEN,
        signing_secret=SIGNING_SECRET,
        api_url=fake.api_url,
        conversation=conversation,
        renderer=renderer,
        http=server,
        seen=SqlSeenRequests(engine),
    )
    await adapter.start()
    await server.start()
    try:
        yield fake, f"http://127.0.0.1:{server.port}{EVENTS_PATH}"
    finally:
        await server.stop()
        await adapter.stop()
        await fake.close()


async def _mention(url: str, channel: str, text: str, n: int) -> None:
    event = {
        "type": "app_mention",
        "channel": channel,
        "user": "U0ALICE",
        "text": f"<@U0BRIEFBOT> {text}",
        "ts": f"{time.time():.6f}{n}",
    }
    body = json.dumps(event_callback(event, event_id=f"Ev{n:04d}"))
    headers = {"Content-Type": "application/json", **sign(body)}
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data=body.encode(), headers=headers) as response,
    ):
        assert response.status == 200


async def test_slack_answers_one_channel_in_order_and_others_meanwhile(
    slack: tuple[FakeSlack, str],
) -> None:
    fake, url = slack
    # The first answer is rate limited for a second and retried; the second, asked right after
    # in the same channel, must wait for it; another channel's need not.
    fake.fail("chat.postMessage", rate_limited(1))
    await _mention(url, GENERAL, "itinerary day 1", 1)
    await fake.wait_for(lambda: bool(fake.called("chat.postMessage", ok_only=False)))
    await _mention(url, GENERAL, "itinerary day 3", 2)
    await _mention(url, OTHER, "itinerary day 2", 3)
    await fake.wait_for(lambda: len(fake.called("chat.postMessage")) == 3, timeout=15)
    posts = [
        (c.args.get("channel"), _day(json.dumps(c.args, ensure_ascii=False)))
        for c in fake.called("chat.postMessage")
    ]
    general = [day for channel, day in posts if channel == GENERAL]
    assert general == ["26", "28"]
    # The other channel was answered while the first one waited out its rate limit.
    assert posts[0] == (OTHER, "27")
