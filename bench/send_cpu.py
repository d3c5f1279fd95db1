"""CPU per digest message: the product's send path beside a bare httpx POST of the same payload.

One process sends the morning digest (rendered once, as a fan-out does) to SENDS chats, eight
requests open at once, against bench/fanout.py's fake Bot API in a process of its own (no cap
and no faults here: every request is answered 200, so every request is one message). The CPU
of this process (`time.process_time`) over the sends, divided by the messages, for:

- the product: `TelegramDigestSender.deliver` through `TelegramSender` (pacing machinery,
  per-chat gates, retries), which posts with python-telegram-bot's request layer;
- python-telegram-bot's object layer: `Bot.send_message`, which builds the request from PTB
  objects and a `Message` from the answer (what the product did before: nobody reads it);
- bare httpx: `AsyncClient.post(url, json=payload)`, the floor for any Python HTTP client.

Goal: the product at most 1.0 ms a message. The ratio to bare httpx says what is left above it.
"""

import asyncio
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

from bench.fanout import DIGEST_KEY, fake_process
from bench.results import GoalResult
from bot.settings import PROJECT_ROOT
from bot.telegram.adapter import TelegramAdapter
from bot.telegram.digests import TelegramDigestSender
from bot.telegram.payloads import send_message
from bot.telegram.sending import TelegramSender, to_kwargs
from briefings.conversation import Conversation
from briefings.digests import digest_reply
from briefings.library import Library
from briefings.loader import load_seeds
from briefings.rendering.renderer import Renderer
from briefings.schedule import Digest
from fakes.memory import MemoryChatStates
from fakes.telegram_api import DEFAULT_TOKEN

SENDS = int(os.environ.get("BENCH_SEND_CPU_SENDS", "3000"))
WARM_UP = 200
OPEN = 8  # requests open at once, as TelegramSender's default `in_flight`
GOAL_MS = 1.0
DUE = datetime(2024, 8, 25, 22, 30, tzinfo=UTC)
FIRST_CHAT = 200_000


@dataclass(frozen=True)
class Figure:
    name: str
    cpu_ms: float  # CPU of this process per message


async def _cpu_per_send(send: Callable[[int], Awaitable[object]], first: int) -> float:
    """Milliseconds of CPU per call of `send(chat)`, OPEN at once, after a warm-up."""

    async def run(chats: range) -> None:
        queue = iter(chats)

        async def worker() -> None:
            for chat in queue:
                await send(chat)

        await asyncio.gather(*(worker() for _ in range(OPEN)))

    await run(range(first, first + WARM_UP))
    start = time.process_time()
    await run(range(first + WARM_UP, first + WARM_UP + SENDS))
    return (time.process_time() - start) / SENDS * 1000


async def measure(library: Library, api_url: str) -> list[Figure]:
    renderer = Renderer()
    conversation = Conversation(library, MemoryChatStates(), lambda: DUE)
    adapter = TelegramAdapter(
        token=DEFAULT_TOKEN, api_url=api_url, conversation=conversation, renderer=renderer
    )
    digest = Digest.parse(DIGEST_KEY)
    visit = library.visit(digest.visit_id)
    assert visit is not None
    reply = digest_reply(
        digest, visit, library.partnership_of(visit), library.articles, "en", at=DUE
    )
    message = renderer.render(reply, "telegram")[0]
    bot = adapter.application.bot
    await adapter.application.initialize()
    try:
        sender = TelegramDigestSender(
            TelegramSender(bot, rate=None, in_flight=OPEN), renderer, conversation
        )

        async def product(chat: int) -> object:
            return await sender.deliver(str(chat), reply)

        async def object_layer(chat: int) -> object:
            return await bot.send_message(**to_kwargs(send_message(message, chat)))

        figures = [
            Figure("product: TelegramDigestSender", await _cpu_per_send(product, FIRST_CHAT)),
            Figure(
                "PTB object layer: Bot.send_message",
                await _cpu_per_send(object_layer, FIRST_CHAT + 100_000),
            ),
        ]
    finally:
        await adapter.application.shutdown()
    url = f"{api_url}/bot{DEFAULT_TOKEN}/sendMessage"
    limits = httpx.Limits(max_connections=OPEN)
    async with httpx.AsyncClient(limits=limits) as client:

        async def bare(chat: int) -> object:
            response = await client.post(url, json=send_message(message, chat))
            response.raise_for_status()
            return response.json()

        figures.append(Figure("bare httpx POST", await _cpu_per_send(bare, FIRST_CHAT + 200_000)))
    return figures


def main() -> GoalResult:
    library = Library(load_seeds(PROJECT_ROOT / "seeds"))
    with fake_process(1e9, faults=False) as fake:
        figures = asyncio.run(measure(library, fake.url))
        fake.conn.send("stop")
        fake.conn.recv()
    product, _, bare = figures
    print(
        f"== CPU per digest message: {SENDS:,} sends of the morning digest, {OPEN} at once, "
        "to the fake Bot API in its own process =="
    )
    for figure in figures:
        print(
            f"{figure.name:<38} {figure.cpu_ms:>6.3f} ms"
            f"   ({figure.cpu_ms / bare.cpu_ms:>4.2f}x bare httpx)"
        )
    met = product.cpu_ms <= GOAL_MS
    print(f"product / bare httpx                   {product.cpu_ms / bare.cpu_ms:>6.2f}")
    print(f"goal: the product at most {GOAL_MS} ms a message: {'met' if met else 'not met'}")
    note = "" if met else "above the goal even with PTB's request layer; see the ratio to httpx"
    return GoalResult(
        "2. CPU per digest message",
        f"{product.cpu_ms:.2f} ms ({product.cpu_ms / bare.cpu_ms:.1f}x bare httpx)",
        met,
        note,
    )


if __name__ == "__main__":
    main()
