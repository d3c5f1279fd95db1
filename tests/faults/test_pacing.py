"""Defect 2: no per-chat pacing. Replies to one chat are paced within Telegram's limits for a
private chat (about one a second) and a group (also 20 a minute), here at 1/20 of Telegram's
intervals on both sides, and interactive replies go before a digest fan-out."""

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from bot.telegram.sending import DIGEST, INTERACTIVE, Pacer
from fakes.telegram_api import (
    FakeTelegram,
    FloodLimits,
    group_message,
    private_message,
    texts,
    wait_until,
)

from .conftest import SCALE, Adapters

ALICE, GROUP = 5001, -4001
COMMANDS = [f"/itinerary day {n}" for n in (1, 2, 3, 2, 1)] * 4  # 20, each day told apart


@pytest.mark.parametrize("chat_id", [ALICE, GROUP], ids=["private", "group"])
async def test_twenty_commands_in_a_second_are_all_answered_in_order_without_a_429(
    fake_telegram: Callable[..., Awaitable[FakeTelegram]], adapters: Adapters, chat_id: int
) -> None:
    fake = await fake_telegram(flood_limits=FloodLimits().scaled(SCALE))
    await adapters.start(fake)
    for text in COMMANDS:
        update = (
            private_message(text, chat_id=chat_id)
            if chat_id > 0
            else group_message(text, chat_id=chat_id)
        )
        fake.queue_update(update)
    await wait_until(lambda: len(fake.sent(chat_id)) >= len(COMMANDS), timeout=60)
    assert fake.flooded() == []
    days = [_day(text) for text in texts(fake.sent(chat_id))]
    assert days == [{"1": "26", "2": "27", "3": "28"}[c[-1]] for c in COMMANDS]


def _day(text: str) -> str:
    return next(day for day in ("26", "27", "28") if f"{day} August 2024" in text)


async def test_interactive_replies_go_before_a_waiting_fan_out() -> None:
    pacer = Pacer(50)
    order: list[str] = []

    async def send(name: str, priority: int) -> None:
        await pacer.wait(priority)
        order.append(name)

    fan_out = [asyncio.create_task(send(f"digest {n}", DIGEST)) for n in range(10)]
    await asyncio.sleep(0)  # the digests are waiting their turns
    reply = asyncio.create_task(send("reply", INTERACTIVE))
    await asyncio.gather(*fan_out, reply)
    # One digest went at once; the reply asked later takes the next turn, not the eleventh.
    assert order.index("reply") <= 2
    assert [n for n in order if n != "reply"] == [f"digest {n}" for n in range(10)]
