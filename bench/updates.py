"""Updates a second on one process: interactive commands from 1,000 chats, against the fake.

The product's TelegramAdapter in webhook mode (PTB, the per-chat lanes of bot/lanes.py, the
conversation service on SQLite, the renderer, TelegramSender) behind its aiohttp server, with
no pacing (no overall rate, no per-chat windows), answering to bench/fanout.py's fake Bot API in
a process of its own (no cap, no faults). Telegram's side runs in a third process, as Telegram
does: it posts each chat's commands in order, one after the other's 200, over at most
CONNECTIONS connections at once (setWebhook's default `max_connections`), and posts a refused
update (503) again after the adapter's Retry-After. No process's CPU is another's.

The same load, first as deployed, each `briefing-bot run` a process of its own, unpaced, its
answers counted by the fake: the product as it was on the day issue 12 measured "one at a time
at about 160 a second" (bench/baseline.py takes that commit from this repository's history),
and today's tree, side by side for ROUNDS rounds. The median of the rounds' ratios is the goal
(at least 3x); every round is printed. Then twice in
this process, today's adapter alone with every update in one lane and with the lanes per chat,
for what the lanes add, p50 and p99 from the POST to the answer's sendMessage, and whether every
chat got its answers in the order it asked (each chat asks for day 1, day 2, day 3).
"""

import asyncio
import logging
import multiprocessing
import os
import re
import statistics
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import Engine

import bot.telegram.adapter
from bench import baseline
from bench.fanout import SEND_AT, FakeReport, fake_process
from bench.results import GoalResult
from bot.http import HttpServer
from bot.settings import PROJECT_ROOT
from bot.telegram.adapter import SECRET_HEADER, TelegramAdapter
from bot.telegram.sending import DIGEST, Sent
from briefings.conversation import Conversation
from briefings.library import Library
from briefings.loader import load_seeds
from briefings.rendering.renderer import Renderer
from fakes.telegram_api import DEFAULT_TOKEN, private_message
from storage.chats import SqlChatStates
from storage.engine import make_engine
from storage.migrate import upgrade
from tests.cli import free_port

CHATS = int(os.environ.get("BENCH_UPDATES_CHATS", "1000"))
COMMANDS = ("/itinerary day 1", "/itinerary day 2", "/itinerary day 3")
CONNECTIONS = 40
SECRET = "bench-webhook-secret"  # noqa: S105 - the bench's own
GOAL = 3.0
DEADLINE_S = 120.0
# Rounds of the two products side by side; the goal's figure is the median of their ratios.
ROUNDS = int(os.environ.get("BENCH_UPDATES_ROUNDS", "5"))
FIRST_CHAT = 10_000
DAY = re.compile(r"Day (\d+) of")


# --- Telegram's side: posts the updates, in its own process ----------------------------------


@dataclass(frozen=True)
class Posted:
    asked: dict[int, list[float]]  # chat -> when each of its updates was first posted
    refused: int


def _post_all(conn: Connection, url: str, chats: list[int]) -> None:
    """Process entry point: post every chat's commands, then send back when each was asked."""

    async def main() -> Posted:
        asked: defaultdict[int, list[float]] = defaultdict(list)
        refused = 0
        connector = aiohttp.TCPConnector(limit=CONNECTIONS)
        async with aiohttp.ClientSession(connector=connector) as session:

            async def chat(chat_id: int) -> None:
                nonlocal refused
                for n, command in enumerate(COMMANDS):
                    update = {
                        "update_id": chat_id * 10 + n,
                        **private_message(command, chat_id=chat_id),
                    }
                    asked[chat_id].append(time.perf_counter())
                    while True:
                        async with session.post(
                            url, json=update, headers={SECRET_HEADER: SECRET}
                        ) as response:
                            if response.status == 200:
                                break
                            assert response.status == 503, response.status
                            wait = float(response.headers.get("Retry-After", "1"))
                        refused += 1
                        await asyncio.sleep(wait)

            await asyncio.gather(*(chat(c) for c in chats))
        return Posted(dict(asked), refused)

    conn.send(asyncio.run(main()))


@contextmanager
def telegram_posting(url: str, chats: list[int]) -> Iterator[Connection]:
    parent, child = multiprocessing.get_context("spawn").Pipe()
    process = multiprocessing.get_context("spawn").Process(
        target=_post_all, args=(child, url, chats), daemon=True
    )
    process.start()
    try:
        yield parent
    finally:
        parent.close()
        process.join(5)
        if process.is_alive():
            process.kill()
            process.join()


# --- the product, answering -------------------------------------------------------------------


@dataclass(frozen=True)
class Phase:
    updates: int
    elapsed: float
    latencies: list[float]
    in_order: int  # chats whose answers came in the order asked
    chats: int
    refused: int

    @property
    def rate(self) -> float:
        return self.updates / self.elapsed


@dataclass
class Answers:
    by_chat: defaultdict[int, list[tuple[float, str]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    count: int = 0


async def run(library: Library, engine: Engine, api_url: str, lanes: bool) -> Phase:
    """The whole load against a new adapter; `lanes=False`: every update in one lane."""
    conversation = Conversation(library, SqlChatStates(engine), lambda: SEND_AT)
    http = HttpServer("127.0.0.1", 0)
    adapter = TelegramAdapter(
        token=DEFAULT_TOKEN,
        api_url=api_url,
        conversation=conversation,
        renderer=Renderer(),
        webhook_url="https://bench.example.org/telegram",
        webhook_secret=SECRET,
        http=http,
        send_rate=None,
        limits=None,
    )
    answers = Answers()
    send = adapter.sender.send

    async def recorded_send(payload: dict[str, Any], *, priority: int = DIGEST) -> Sent:
        sent = await send(payload, priority=priority)
        answers.by_chat[payload["chat_id"]].append((time.perf_counter(), payload["text"]))
        answers.count += 1
        return sent

    adapter.sender.send = recorded_send  # type: ignore[method-assign]  # instrumentation
    lane_of = bot.telegram.adapter.lane_of
    if not lanes:
        bot.telegram.adapter.lane_of = lambda update: "one lane"  # instrumentation
    chats = list(range(FIRST_CHAT, FIRST_CHAT + CHATS))
    await http.start()
    await adapter.start()
    try:
        url = f"http://127.0.0.1:{http.port}/telegram"
        loop = asyncio.get_running_loop()
        with telegram_posting(url, chats) as posting:
            async with asyncio.timeout(DEADLINE_S):
                while answers.count < CHATS * len(COMMANDS):
                    await asyncio.sleep(0.01)
                posted: Posted = await loop.run_in_executor(None, posting.recv)
    finally:
        bot.telegram.adapter.lane_of = lane_of
        await http.quiesce()
        await adapter.stop()
        await http.stop()
    return _phase(posted, answers, chats)


def _phase(posted: Posted, answers: Answers, chats: list[int]) -> Phase:
    first = min(posted.asked[c][0] for c in chats)
    last = max(answers.by_chat[c][-1][0] for c in chats)
    latencies = [
        done - start
        for c in chats
        for start, (done, _) in zip(posted.asked[c], answers.by_chat[c], strict=True)
    ]
    # Day n's programme names day n: a chat's answers in the order asked name 1, 2, 3.
    in_order = sum(1 for c in chats if _days(answers.by_chat[c]) == [1, 2, 3])
    return Phase(len(latencies), last - first, latencies, in_order, len(chats), posted.refused)


def _days(texts: list[tuple[float, str]]) -> list[int]:
    return [_day_of(text) for _, text in texts]


def _cuts(latencies: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    return cuts[49] * 1000, cuts[98] * 1000


def _day_of(text: str) -> int:
    match = DAY.search(text)
    return int(match.group(1)) if match else 0


@dataclass(frozen=True)
class Served:
    """Updates a second that one `briefing-bot run` answered, or why it could not be measured."""

    rate: float | None
    why: str = ""


def run_product(code: Path | None, chats: list[int]) -> Served:
    """The load against `briefing-bot run` of the code in `code` as a process of its own, in
    webhook mode, unpaced, measured by the fake: the same way for the baseline and for today."""
    if code is None:
        return Served(None, f"commit {baseline.COMMIT[:7]} is not in this clone's history")
    port = free_port()
    with fake_process(1e9, faults=False) as fake, tempfile.TemporaryDirectory() as cache:
        settings = {
            "TELEGRAM_BOT_TOKEN": DEFAULT_TOKEN,
            "TELEGRAM_API_URL": fake.url,
            "TELEGRAM_WEBHOOK_URL": "https://bench.example.org/telegram",
            "TELEGRAM_WEBHOOK_SECRET": SECRET,
            "BRIEFINGS_HTTP_HOST": "127.0.0.1",
            "BRIEFINGS_HTTP_PORT": str(port),
            "BRIEFINGS_CACHE_DIR": cache,
            # No pacing, in that day's words and today's (a setting unknown to the code that
            # runs is ignored): an overall rate no fake reaches, no per-chat windows.
            "TELEGRAM_SEND_RATE": "1000000000",
            "TELEGRAM_PACING_SCALE": "0",
        }
        with baseline.running(code, settings, ready="started: Telegram"):
            url = f"http://127.0.0.1:{port}/telegram"
            with telegram_posting(url, chats) as posting:
                deadline = time.monotonic() + DEADLINE_S
                while time.monotonic() < deadline:
                    fake.conn.send("count")
                    if fake.conn.recv() >= len(chats) * len(COMMANDS):
                        break
                    time.sleep(0.05)
                if not posting.poll(max(1.0, deadline - time.monotonic())):
                    return Served(None, f"not every update posted within {DEADLINE_S:.0f} s")
                posted: Posted = posting.recv()
        fake.conn.send("stop")
        report: FakeReport = fake.conn.recv()
    answered = sum(report.delivered.values())
    if answered < len(chats) * len(COMMANDS):
        return Served(None, f"only {answered:,} answers within {DEADLINE_S:.0f} s")
    first = min(posted.asked[c][0] for c in chats)
    return Served(answered / (report.last_at - first))


def rounds(code: Path | None, chats: list[int]) -> list[tuple[Served, Served]]:
    """The two products ROUNDS times, one after the other, each round in the other order from
    the last: a machine shared with others speeds up and slows down from one minute to the
    next, and a ratio is only worth something between runs made side by side."""
    made: list[tuple[Served, Served]] = []
    for n in range(ROUNDS):
        if n % 2 == 0:
            then = run_product(code, chats)
            today = run_product(PROJECT_ROOT, chats)
        else:
            today = run_product(PROJECT_ROOT, chats)
            then = run_product(code, chats)
        made.append((then, today))
    return made


def main() -> GoalResult:
    logging.getLogger("bot.telegram.sending").setLevel(logging.ERROR)
    logging.getLogger("bot.telegram.adapter").setLevel(logging.ERROR)
    library = Library(load_seeds(PROJECT_ROOT / "seeds"))
    chats = list(range(FIRST_CHAT, FIRST_CHAT + CHATS))
    with baseline.tree() as code:
        measured = rounds(code, chats)
    phases: dict[bool, Phase] = {}
    with fake_process(1e9, faults=False) as fake:
        for lanes in (False, True):
            with tempfile.TemporaryDirectory() as tmp:
                engine = make_engine(f"sqlite:///{Path(tmp) / 'updates.sqlite3'}")
                try:
                    upgrade(engine)
                    phases[lanes] = asyncio.run(run(library, engine, fake.url, lanes))
                finally:
                    engine.dispose()
        fake.conn.send("stop")
        fake.conn.recv()
    serial, concurrent = phases[False], phases[True]
    print(
        f"== updates a second, one process: {CHATS:,} chats x {len(COMMANDS)} commands over "
        f"{CONNECTIONS} webhook connections; no pacing; fake Bot API in its own process =="
    )
    print(
        f"briefing-bot run, {ROUNDS} rounds side by side: issue 12's day (commit "
        f"{baseline.COMMIT[:7]}, one at a time, as measured then) and today's tree (per-chat "
        "lanes, the seen store, logging, the scheduler)"
    )
    ratios: list[float] = []
    why = ""
    for n, (then, today) in enumerate(measured, 1):
        if then.rate is None or today.rate is None:
            why = why or then.why or today.why
            print(f"round {n}  not measured: {then.why or today.why}")
            continue
        ratios.append(today.rate / then.rate)
        print(
            f"round {n}  then {then.rate:>7.1f} updates/s   today {today.rate:>7.1f} updates/s"
            f"   today / then {ratios[-1]:>5.2f}"
        )
    print("in this process, the adapter alone (no seen store), for latency and order:")
    for name, phase in (("one lane", serial), ("per-chat lanes", concurrent)):
        p50, p99 = _cuts(phase.latencies)
        print(
            f"{name:<16} {phase.rate:>7.1f} updates/s   p50 {p50:>8.1f} ms   p99 {p99:>8.1f} ms"
            f"   ({phase.updates:,} in {phase.elapsed:.2f} s; {phase.refused:,} refused 503)"
        )
    print(f"lanes / one lane {concurrent.rate / serial.rate:>7.2f}        (what concurrency adds)")
    ratio = statistics.median(ratios) if len(ratios) == ROUNDS else 0.0
    if ratio:
        print(
            f"today / then     {ratio:>7.2f}        (the median of the rounds, lowest "
            f"{min(ratios):.2f}; goal: at least {GOAL:g})"
        )
    order = concurrent.in_order == concurrent.chats
    print(
        f"order in a chat  {concurrent.in_order:,} of {concurrent.chats:,} chats answered "
        "day 1, 2, 3 in the order they asked"
    )
    met = ratio >= GOAL and order
    _, p99 = _cuts(concurrent.latencies)
    note = ""
    if why:
        note = f"not measured: {why}"
    elif not order:
        note = "answers out of order within a chat"
    elif not met:
        note = "one process's CPU: every update costs its parse, state, render and send"
    rates = "/".join(f"{r:.2f}" for r in ratios)
    figure = f"{ratio:.2f}x then (median of {rates}), p99 {p99:.0f} ms"
    return GoalResult("3. updates/s, one process", figure, met, note)


if __name__ == "__main__":
    main()
