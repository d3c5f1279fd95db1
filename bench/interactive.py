"""Interactive replies during a digest fan-out: does a person still get an answer at once?

1,000 interactive replies from 100 private chats (each chat's next command a second after its
last answer came, as a person reads and asks again: Telegram's own per-chat pace, spaced as the
product spaces a chat's messages, so per-chat pacing adds no wait), sent as webhook POSTs to the
product's
TelegramAdapter; once alone, once while the product's Dispatcher fans a digest out to 10,000
chats through the same TelegramSender (one overall rate, interactive first). The fake Bot API is
bench/fanout.py's: its own process, at most CAP messages a second, 5% 429 and 1% 500 at random.

Latency is from the POST to the end of the reply's sendMessage (a chat's replies come in the
order it asked, so its k-th reply answers its k-th command). Printed: p50 and p99 alone, during
the fan-out, and the ratio (goal: p50 within 2x; interactive replies go before the fan-out).
"""

import asyncio
import logging
import os
import statistics
import tempfile
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import Engine

from bench.fanout import CAP, SEND_AT, fake_in_process, populate
from bench.results import GoalResult
from bot.http import HttpServer
from bot.settings import PROJECT_ROOT
from bot.telegram.adapter import SECRET_HEADER, TelegramAdapter
from bot.telegram.digests import TelegramDigestSender
from bot.telegram.sending import DIGEST, Sent
from briefings.conversation import Conversation
from briefings.delivery import DeliveryPolicy, Dispatcher
from briefings.library import Library
from briefings.loader import load_seeds
from briefings.rendering.renderer import Renderer
from fakes.telegram_api import DEFAULT_TOKEN, private_message
from storage.chats import SqlChatStates
from storage.engine import make_engine
from storage.ledger import Ledger
from storage.migrate import upgrade

CHATS = int(os.environ.get("BENCH_INTERACTIVE_CHATS", "100"))
PER_CHAT = int(os.environ.get("BENCH_INTERACTIVE_PER_CHAT", "10"))
FANOUT = int(os.environ.get("BENCH_INTERACTIVE_FANOUT", "10000"))
# p50 during the fan-out over p50 alone: interactive replies go ahead of digests (issue 10).
GOAL = 2.0
SECRET = "bench-webhook-secret"  # noqa: S105 - the bench's own
FIRST_CHAT = 1  # interactive chats 1..CHATS; the fan-out's start at bench.fanout's 100,000
DEADLINE_S = 120.0


async def measure(library: Library, engine: Engine, api_url: str, fan_out: bool) -> list[float]:
    renderer = Renderer()
    conversation = Conversation(library, SqlChatStates(engine), lambda: SEND_AT)
    http = HttpServer("127.0.0.1", 0)
    adapter = TelegramAdapter(
        token=DEFAULT_TOKEN,
        api_url=api_url,
        conversation=conversation,
        renderer=renderer,
        webhook_url="https://bench.example.org/telegram",
        webhook_secret=SECRET,
        http=http,
        send_rate=CAP,
    )
    asked: defaultdict[int, list[float]] = defaultdict(list)
    answered: defaultdict[int, list[float]] = defaultdict(list)
    send = adapter.sender.send

    async def timed_send(payload: dict[str, Any], *, priority: int = DIGEST) -> Sent:
        sent = await send(payload, priority=priority)
        answered[payload["chat_id"]].append(time.perf_counter())
        return sent

    adapter.sender.send = timed_send  # type: ignore[method-assign]  # instrumentation
    await http.start()
    await adapter.start()
    fanning: asyncio.Task[None] | None = None
    try:
        if fan_out:
            dispatcher = Dispatcher(
                Ledger(engine, owner="bench-interactive"),
                library,
                {"telegram": TelegramDigestSender(adapter.sender, renderer, conversation)},
                lambda: SEND_AT,
                DeliveryPolicy(),
            )
            fanning = asyncio.create_task(_fan_out(dispatcher.run_once))
            await asyncio.sleep(1.0)  # the fan-out in full swing
        url = f"http://127.0.0.1:{http.port}/telegram"
        async with aiohttp.ClientSession() as session:
            await asyncio.gather(
                *(
                    _chat(session, url, FIRST_CHAT + n, n / CHATS, asked=asked, answered=answered)
                    for n in range(CHATS)
                )
            )
            async with asyncio.timeout(DEADLINE_S):
                while sum(map(len, answered.values())) < CHATS * PER_CHAT:
                    await asyncio.sleep(0.05)
    finally:
        if fanning is not None:
            fanning.cancel()
            await asyncio.gather(fanning, return_exceptions=True)
        await http.quiesce()
        await adapter.stop()
        await http.stop()
    return [
        done - start
        for chat, starts in asked.items()
        for start, done in zip(starts, answered[chat], strict=True)
    ]


async def _fan_out(run_once: Callable[[Any], Awaitable[Any]]) -> None:
    while True:
        await run_once(SEND_AT)
        await asyncio.sleep(0.1)


async def _chat(
    session: aiohttp.ClientSession,
    url: str,
    chat: int,
    offset: float,
    *,
    asked: defaultdict[int, list[float]],
    answered: defaultdict[int, list[float]],
) -> None:
    """One person: PER_CHAT commands, each a second after the answer to the one before.

    A second after the command would not do: the product spaces a chat's messages a second
    from the end of the last one sent (as Telegram counts them), so one late answer would hold
    back every later answer to that chat by as much, and the figure would be that carry-over
    (it was: p50 alone anywhere from 4 to 27 ms from one run to the next)."""
    await asyncio.sleep(offset)
    for n in range(PER_CHAT):
        update = {"update_id": chat * 1000 + n, **private_message("/itinerary day 1", chat_id=chat)}
        asked[chat].append(time.perf_counter())
        async with session.post(url, json=update, headers={SECRET_HEADER: SECRET}) as response:
            assert response.status == 200, response.status
        while len(answered[chat]) <= n:
            await asyncio.sleep(0.01)
        await asyncio.sleep(max(0.0, answered[chat][n] + 1.0 - time.perf_counter()))


def _percentiles(latencies: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    return cuts[49], cuts[98]


def main() -> GoalResult:
    logging.getLogger("bot.telegram.sending").setLevel(logging.ERROR)
    library = Library(load_seeds(PROJECT_ROOT / "seeds"))
    runs: dict[str, list[float]] = {}
    for name, fan_out in (("alone", False), ("during fan-out", True)):
        with tempfile.TemporaryDirectory() as tmp:
            engine = make_engine(f"sqlite:///{Path(tmp) / 'interactive.sqlite3'}")
            try:
                upgrade(engine)
                if fan_out:
                    populate(engine, library, FANOUT)
                with fake_in_process(CAP) as (url, _):
                    runs[name] = asyncio.run(measure(library, engine, url, fan_out))
            finally:
                engine.dispose()
    print(
        f"== interactive replies: {CHATS * PER_CHAT:,} from {CHATS} chats, alone and during a "
        f"{FANOUT:,}-chat digest fan-out; fake capped at {CAP:g} messages/s =="
    )
    alone, busy = (_percentiles(runs[k]) for k in ("alone", "during fan-out"))
    print(f"alone            p50 {alone[0] * 1000:>8.1f} ms   p99 {alone[1] * 1000:>8.1f} ms")
    print(f"during fan-out   p50 {busy[0] * 1000:>8.1f} ms   p99 {busy[1] * 1000:>8.1f} ms")
    print(f"ratio            p50 {busy[0] / alone[0]:>8.2f}      p99 {busy[1] / alone[1]:>8.2f}")
    ratio = busy[0] / alone[0]
    return GoalResult(
        f"interactive p50 during fan-out / alone (issue 10, at most {GOAL:g})",
        f"{ratio:.2f} (p99 {busy[1] / alone[1]:.2f})",
        ratio <= GOAL,
    )


if __name__ == "__main__":
    main()
