"""Round trip of `/briefing` through the real Telegram stack, beside a bare echo handler.

An update is queued at a fake Bot API on 127.0.0.1; the time until the fake has received every
`sendMessage` of the reply is one sample. Both stacks are the real python-telegram-bot polling
the same fake. The bare handler sends the very same (pre-rendered) messages, so the ratio is what
our side adds per update: the conversation service (the chat's state read from SQLite, the
command table), rendering and escaping. A one-line
echo (the usual "bare echo") is shown too, for scale.
"""

import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from telegram import Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters

from bench.results import GoalResult
from bot.settings import PROJECT_ROOT
from bot.telegram.adapter import TelegramAdapter
from bot.telegram.payloads import send_message
from bot.telegram.sending import to_kwargs
from briefings.conversation import Conversation, Incoming
from briefings.library import Library
from briefings.loader import load_seeds
from briefings.ports import ChatRef
from briefings.rendering.renderer import Renderer
from fakes.memory import MemoryChatStates
from fakes.telegram_api import FakeTelegram, private_message
from storage.chats import SqlChatStates
from storage.engine import make_engine
from storage.migrate import upgrade
from tests.dialogue import NOW

UPDATES = 500
WARMUP = 20
CHAT = 5001
GOAL = 1.2  # ours/bare, median (issue 8)


async def _sample(fake: FakeTelegram, expected: int) -> float:
    """Queue one update; seconds until its `expected` messages have all arrived."""
    before = fake.counts["sendmessage"]
    start = time.perf_counter()
    fake.queue_update(private_message("/briefing", chat_id=CHAT))
    # The fake's running count, not a scan of its history: the poll itself must cost nothing,
    # or the stack that takes more turns of the loop pays for the measuring.
    while fake.counts["sendmessage"] < before + expected:
        await asyncio.sleep(0)
    return time.perf_counter() - start


Starter = Callable[[FakeTelegram], Awaitable[Callable[[], Awaitable[None]]]]


async def _measure(stacks: dict[str, tuple[Starter, int]]) -> dict[str, list[float]]:
    """Every stack runs against its own fake at once; samples are taken in turns, one update
    each per round, so that a slow spell of this shared machine falls on all of them alike."""
    fakes: dict[str, FakeTelegram] = {}
    stops: list[Callable[[], Awaitable[None]]] = []
    try:
        for name, (start, _) in stacks.items():
            fakes[name] = FakeTelegram()
            await fakes[name].start()
            stops.append(await start(fakes[name]))
        samples: dict[str, list[float]] = {name: [] for name in stacks}
        for round_ in range(WARMUP + UPDATES):
            for name, (_, expected) in stacks.items():
                elapsed = await _sample(fakes[name], expected)
                if round_ >= WARMUP:
                    samples[name].append(elapsed)
        return samples
    finally:
        for stop in stops:
            await stop()
        for fake in fakes.values():
            await fake.close()


def _bare(payloads: list[dict[str, Any]]) -> Starter:
    async def start(fake: FakeTelegram) -> Callable[[], Awaitable[None]]:
        app = (
            Application.builder()
            .token(fake.token)
            .base_url(f"{fake.base_url}/bot")
            .job_queue(None)  # type: ignore[arg-type]
            .build()
        )

        async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            assert update.effective_chat is not None
            for payload in payloads:
                await context.bot.send_message(
                    **to_kwargs({**payload, "chat_id": update.effective_chat.id})
                )

        app.add_handler(MessageHandler(filters.ALL, echo))
        await app.initialize()
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(timeout=5)

        async def stop() -> None:
            assert app.updater is not None
            await app.updater.stop()
            await app.stop()
            await app.shutdown()

        return stop

    return start


def _ours(conversation: Conversation, renderer: Renderer) -> Starter:
    async def start(fake: FakeTelegram) -> Callable[[], Awaitable[None]]:
        adapter = TelegramAdapter(
            token=fake.token,
            api_url=fake.base_url,
            conversation=conversation,
            renderer=renderer,
            poll_timeout=5,
            # One chat asks 520 times in a row: Telegram's pace of a message a second per chat
            # would time the pacing, not our work, and the bare handler has none.
            limits=None,
        )
        await adapter.start()
        return adapter.stop

    return start


def _row(name: str, samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    median = statistics.median(ordered)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    print(f"{name:<42} {median * 1000:8.2f} ms {p99 * 1000:8.2f} ms")
    return median, p99


async def run() -> float:
    library, renderer = Library(load_seeds(PROJECT_ROOT / "seeds")), Renderer()
    # What the adapter will answer, worked out once beforehand for the bare handler to send.
    alone = Conversation(library, MemoryChatStates(), lambda: NOW)
    answer = await alone.handle(
        Incoming(ChatRef("telegram", str(CHAT)), locale="en", text="/briefing")
    )
    payloads = [send_message(m, CHAT) for m in renderer.render(answer.reply, "telegram")]
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}")
        upgrade(engine)
        conversation = Conversation(library, SqlChatStates(engine), lambda: NOW)
        samples = await _measure(
            {
                "ours": (_ours(conversation, renderer), len(payloads)),
                "bare": (_bare(payloads), len(payloads)),
                "echo": (_bare(payloads[:1]), 1),
            }
        )
        engine.dispose()
    ours, bare, one_line = samples["ours"], samples["bare"], samples["echo"]
    print(f"Telegram round trip of /briefing ({len(payloads)} messages), {UPDATES} updates each")
    print(f"{'':<42} {'median':>11} {'p99':>11}")
    ours_median, ours_p99 = _row("ours: TelegramAdapter", ours)
    bare_median, bare_p99 = _row("bare handler, same messages", bare)
    _row("bare echo, one message", one_line)
    print(
        f"ratio ours/bare: median {ours_median / bare_median:.2f}, p99 {ours_p99 / bare_p99:.2f}"
        f" (goal: at most {GOAL})"
    )
    return ours_median / bare_median


def main() -> GoalResult:
    ratio = asyncio.run(run())
    return GoalResult(
        "Telegram round trip ours/bare median (issue 8, at most 1.2)",
        f"{ratio:.2f}",
        ratio <= GOAL,
    )


if __name__ == "__main__":
    main()
