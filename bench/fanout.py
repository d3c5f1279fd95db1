"""Fan-out of one digest to 10,000 Telegram subscribers against a rate-capped, flaky Bot API.

The product's own pieces do the work: Dispatcher and Ledger (SQLite in a temporary directory),
TelegramDigestSender, and TelegramSender on the PTB Bot that TelegramAdapter builds, pointed at a
fake Bot API on 127.0.0.1. The fake runs in a process of its own, as Telegram is not on our loop
or our CPU: it delivers at most CAP messages in any sliding second and answers 429 (retry_after
1, as Telegram does) to a send beyond that, and answers 5% of the other sends 429 and 1% 500, at
random from a fixed seed. The sender paces itself at CAP requests a second; every other setting
is the product's default. A digest here is one message, so chats served per second is the rate.

Printed: chats that received the digest (goal: all), chats that received it more than once
(goal: none), elapsed time, achieved rate / cap (goal: at least 0.9), and where the time went:
the CPU of each process, ledger calls (on the loop, blocking it) and retry sleeps in the sender.
With 6% of sends refused at random and the sender paced at the cap, 0.94 is the ceiling.
"""

import asyncio
import importlib.util
import logging
import multiprocessing
import os
import random
import tempfile
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, insert, select

from bench.results import GoalResult
from bot.settings import PROJECT_ROOT
from bot.telegram.adapter import TelegramAdapter
from bot.telegram.digests import TelegramDigestSender
from bot.telegram.sending import TelegramSender
from briefings.conversation import Conversation
from briefings.delivery import DeliveryPolicy, Dispatcher
from briefings.library import Library
from briefings.loader import load_seeds
from briefings.rendering.renderer import Renderer
from fakes.telegram_api import (
    DEFAULT_TOKEN,
    FakeTelegram,
    server_error,
    too_many_requests,
)
from storage.chats import SqlChatStates
from storage.engine import make_engine
from storage.ledger import Claimed, Ledger, Settled
from storage.migrate import upgrade
from storage.schema import Chat, Delivery, Subscription

SUBSCRIBERS = int(os.environ.get("BENCH_FANOUT_SUBSCRIBERS", "10000"))
CAP = float(os.environ.get("BENCH_FANOUT_CAP", "300"))  # messages per second
# Requests a second the sender allows itself (TelegramSender's pacing); 0: unpaced.
PACE = float(os.environ.get("BENCH_FANOUT_PACE", str(CAP))) or None
RANDOM_429 = 0.05
RANDOM_500 = 0.01
SEED = 5
GOAL = 0.9
# Give up after this, whatever is left: the bench must end.
DEADLINE_S = 75.0
FIRST_CHAT = 100_000
# After the eve preview fell due: only the morning digest is planned.
PLANNED_AT = datetime(2024, 8, 25, tzinfo=UTC)
# A minute after the morning digest of 26 August fell due at 07:30 in Seoul.
SEND_AT = datetime(2024, 8, 25, 22, 31, tzinfo=UTC)
DIGEST_KEY = "turin-gwangju-2024:morning:2024-08-26"
PARTNERSHIP = "turin-gwangju"


# --- the fake Bot API, in its own process ---------------------------------------------------


@dataclass
class CappedTelegram(FakeTelegram):
    """The fake Bot API with Telegram's flood control: at most `cap` messages a second."""

    cap: float = CAP
    seed: int = SEED
    # 5% 429 and 1% 500 at random; off, the fake answers every send within the cap.
    faults: bool = True
    answers: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        super().__post_init__()
        self._random = random.Random(self.seed)  # noqa: S311 - simulated faults, not secrets
        self._delivered_at: deque[float] = deque()

    def _methods(self) -> dict[str, Callable[[dict[str, Any]], Any]]:
        methods = super()._methods()
        send = methods["sendmessage"]

        def capped_send(params: dict[str, Any]) -> object:
            now = time.monotonic()
            while self._delivered_at and self._delivered_at[0] <= now - 1.0:
                self._delivered_at.popleft()
            if len(self._delivered_at) >= self.cap:
                self.answers["429 over the cap"] += 1
                return too_many_requests(1)
            draw = self._random.random() if self.faults else 1.0
            if draw < RANDOM_429:
                self.answers["429 at random"] += 1
                return too_many_requests(1)
            if draw < RANDOM_429 + RANDOM_500:
                self.answers["500 at random"] += 1
                return server_error()
            self._delivered_at.append(now)
            self.answers["200"] += 1
            return send(params)

        methods["sendmessage"] = capped_send
        return methods


@dataclass(frozen=True)
class FakeReport:
    delivered: Counter[int]  # chat id -> messages delivered
    answers: Counter[str]
    first_at: float
    last_at: float
    cpu_s: float


def _serve_fake(conn: Connection, cap: float, faults: bool = True) -> None:
    """Process entry point: serve until told to stop, then send back what was delivered;
    asked "count" meanwhile, say how many messages were delivered so far."""

    async def main() -> None:
        fake = CappedTelegram(cap=cap, faults=faults)
        conn.send(await fake.start())
        loop = asyncio.get_running_loop()
        try:
            # "count": how many messages were delivered so far; "stop": the report, and stop.
            while await loop.run_in_executor(None, conn.recv) == "count":
                conn.send(fake.answers["200"])
        except EOFError:
            await fake.close()
            return
        sends = [c for c in fake.requests("sendMessage") if c.ok]
        conn.send(
            FakeReport(
                Counter(c.params["chat_id"] for c in sends),
                fake.answers,
                sends[0].at if sends else 0.0,
                sends[-1].at if sends else 0.0,
                time.process_time(),
            )
        )
        await fake.close()

    asyncio.run(main())


@dataclass(frozen=True)
class FakeProcess:
    """The fake's URL, the pipe that stops it (and brings its `FakeReport` back), its pid."""

    url: str
    conn: Connection
    pid: int


@contextmanager
def fake_in_process(cap: float) -> Iterator[tuple[str, Connection]]:
    with fake_process(cap) as fake:
        yield fake.url, fake.conn


@contextmanager
def fake_process(cap: float, *, faults: bool = True) -> Iterator[FakeProcess]:
    """The capped fake in a process of its own, stopped (or killed) on the way out."""
    parent, child = multiprocessing.get_context("spawn").Pipe()
    process = multiprocessing.get_context("spawn").Process(
        target=_serve_fake, args=(child, cap, faults), daemon=True
    )
    process.start()
    try:
        if not parent.poll(30):
            raise RuntimeError("the fake Bot API did not start")
        assert process.pid is not None
        yield FakeProcess(parent.recv(), parent, process.pid)
    finally:
        parent.close()  # an unfinished run: the fake's recv() ends, and so does the fake
        process.join(5)
        if process.is_alive():
            process.kill()
            process.join()


# --- the product, instrumented --------------------------------------------------------------


@dataclass
class Timings:
    """Seconds spent in each kind of ledger call (on the loop); sleeps asked for by retries."""

    seconds: dict[str, float] = field(default_factory=dict)
    calls: Counter[str] = field(default_factory=Counter)
    outcomes: int = 0
    sleeps: list[float] = field(default_factory=list)


class TimedLedger(Ledger):
    """The product's Ledger, with the wall time of every call added up by name."""

    def __init__(self, engine: Engine, owner: str, timings: Timings) -> None:
        super().__init__(engine, owner)
        self._timings = timings

    def _timed(self, name: str, start: float) -> None:
        seconds = self._timings.seconds
        seconds[name] = seconds.get(name, 0.0) + time.perf_counter() - start
        self._timings.calls[name] += 1

    def claim(self, now: datetime, limit: int) -> list[Claimed]:
        start = time.perf_counter()
        try:
            return super().claim(now, limit)
        finally:
            self._timed("claim", start)

    def settle(self, outcomes: Sequence[Settled]) -> None:
        start = time.perf_counter()
        try:
            super().settle(outcomes)
        finally:
            self._timed("settle", start)
            self._timings.outcomes += len(outcomes)

    def skip_missed(self, now: datetime, grace: timedelta) -> list[str]:
        start = time.perf_counter()
        try:
            return super().skip_missed(now, grace)
        finally:
            self._timed("skip_missed", start)


def populate(engine: Engine, library: Library, count: int) -> None:
    """`count` subscribers at 07:30 in Seoul, planned as `briefing-bot run` plans them."""
    with engine.begin() as connection:
        ids = connection.scalars(
            insert(Chat).returning(Chat.id, sort_by_parameter_order=True),
            [
                {"platform": "telegram", "chat_key": str(FIRST_CHAT + i), "lang": "en"}
                for i in range(count)
            ],
        ).all()
        connection.execute(
            insert(Subscription),
            [
                {
                    "chat_id": chat_id,
                    "partnership_id": PARTNERSHIP,
                    "local_time": "07:30",
                    "timezone": "Asia/Seoul",
                }
                for chat_id in ids
            ],
        )
    Ledger(engine, "setup").plan_all(library.plans, PLANNED_AT)


@dataclass
class Run:
    elapsed: float
    cpu_s: float
    rounds: int
    sent: int
    retried: int
    failed: int
    timings: Timings
    fake: FakeReport


async def fan_out(library: Library, engine: Engine, api_url: str, stop_fake: Connection) -> Run:
    renderer = Renderer()
    clock = [SEND_AT]
    conversation = Conversation(library, SqlChatStates(engine), lambda: clock[0])
    adapter = TelegramAdapter(
        token=DEFAULT_TOKEN, api_url=api_url, conversation=conversation, renderer=renderer
    )
    timings = Timings()

    async def timed_sleep(seconds: float) -> None:
        timings.sleeps.append(seconds)
        await asyncio.sleep(seconds)

    await adapter.application.initialize()  # getMe, as at start; no polling
    try:
        sender = TelegramSender(adapter.application.bot, sleep=timed_sleep, rate=PACE)
        ledger = TimedLedger(engine, "bench", timings)
        policy = DeliveryPolicy()
        dispatcher = Dispatcher(
            ledger,
            library,
            {"telegram": TelegramDigestSender(sender, renderer, conversation)},
            lambda: clock[0],
            policy,
        )
        sent = retried = failed = rounds = 0
        start, cpu_start = time.perf_counter(), time.process_time()
        try:
            async with asyncio.timeout(DEADLINE_S):
                # A send given up by the sender comes back after the dispatcher's back-off:
                # move the simulated clock on to that time rather than wait for it.
                while True:
                    rounds += 1
                    report = await dispatcher.run_once(clock[0])
                    sent, retried = sent + report.sent, retried + report.retried
                    failed += report.failed
                    next_try = _next_try(engine)
                    if next_try is None:
                        break
                    clock[0] = max(clock[0], next_try)
        except TimeoutError:
            print(f"stopped after {DEADLINE_S:g} s with deliveries left: figures are partial")
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    finally:
        await adapter.application.shutdown()
    stop_fake.send("stop")
    fake: FakeReport = stop_fake.recv()
    return Run(elapsed, cpu, rounds, sent, retried, failed, timings, fake)


def _next_try(engine: Engine) -> datetime | None:
    """When the earliest day-1 delivery still pending may be tried; None when none is left."""
    with engine.connect() as connection:
        pending = connection.execute(
            select(func.count(), func.min(Delivery.not_before)).where(
                Delivery.status == "pending", Delivery.digest_key == DIGEST_KEY
            )
        ).one()
    count, not_before = pending
    if not count:
        return None
    return SEND_AT if not_before is None else not_before.replace(tzinfo=UTC)


def report(run: Run, cap: float) -> GoalResult:
    delivered = run.fake.delivered
    chats = len(delivered)
    twice = sum(1 for n in delivered.values() if n > 1)
    messages = sum(delivered.values())
    rate = chats / run.elapsed
    ratio = rate / cap
    policy = DeliveryPolicy()
    print(
        f"== fan-out: {SUBSCRIBERS:,} subscribers, cap {cap:g} messages/s, "
        f"{RANDOM_429:.0%} 429 and {RANDOM_500:.0%} 500 at random =="
    )
    pace = f"paced at {PACE:g} requests/s" if PACE else "unpaced"
    print(
        f"sender {pace}; dispatcher: {policy.concurrency} sends at once, claims of {policy.batch}"
    )
    print(f"delivered (unique chats)   {chats:>8,} of {SUBSCRIBERS:,}")
    print(f"duplicates (chats > once)  {twice:>8,}  ({messages:,} messages in all)")
    print(f"elapsed                    {run.elapsed:>8.2f} s  ({run.rounds} dispatcher round(s))")
    print(f"achieved rate              {rate:>8.1f} messages/s")
    print(f"achieved / cap             {ratio:>8.2f}  (goal: at least {GOAL})")
    print(
        "dispatcher report          "
        f"sent {run.sent:,}, to retry {run.retried:,}, gave up {run.failed:,}"
    )
    answers = ", ".join(f"{k} {v:,}" for k, v in sorted(run.fake.answers.items()))
    print(f"fake's answers             {answers}")
    print("where the time went:")
    print(
        f"  CPU, this process        {run.cpu_s:>7.2f} s ({run.cpu_s / run.elapsed:.0%} of elapsed"
        f"; {run.cpu_s / max(messages, 1) * 1000:.2f} ms a message)"
    )
    print(f"  CPU, the fake's process  {run.fake.cpu_s:>7.2f} s")
    for name in sorted(run.timings.seconds, key=lambda n: -run.timings.seconds[n]):
        seconds, calls = run.timings.seconds[name], run.timings.calls[name]
        extra = f", {run.timings.outcomes:,} outcomes" if name == "settle" else ""
        print(
            f"  ledger.{name:<17} {seconds:>7.2f} s in {calls:,} call(s){extra}, "
            f"{seconds / max(calls, 1) * 1000:.2f} ms each ({seconds / run.elapsed:.0%} of elapsed)"
        )
    sleeps = run.timings.sleeps
    print(
        f"  sender retry sleeps      {sum(sleeps):>7.2f} s in {len(sleeps):,} sleep(s), "
        "each holding one of the dispatcher's places"
    )
    if importlib.util.find_spec("sniffio") is None:
        print(
            "  (sniffio is not installed: httpcore tries to import it several times per request,"
            " and each miss searches sys.path)"
        )
    lost = SUBSCRIBERS - chats
    return GoalResult(
        f"fan-out of {SUBSCRIBERS:,} at a {cap:g}/s cap: rate/cap (issue 10, at least {GOAL}; "
        "exactly once)",
        f"{ratio:.2f}; {lost:,} undelivered, {twice:,} twice",
        ratio >= GOAL and lost == 0 and twice == 0,
        f"{lost:,} not delivered by the {DEADLINE_S:g} s deadline" if lost else "",
    )


def main() -> GoalResult:
    # Each retry logs a warning; the figures count them. Errors (a send given up) still show.
    logging.getLogger("bot.telegram.sending").setLevel(logging.ERROR)
    library = Library(load_seeds(PROJECT_ROOT / "seeds"))
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'fanout.sqlite3'}")
        try:
            upgrade(engine)
            populate(engine, library, SUBSCRIBERS)
            with fake_in_process(CAP) as (url, conn):
                run = asyncio.run(fan_out(library, engine, url, conn))
        finally:
            engine.dispose()
    return report(run, CAP)


if __name__ == "__main__":
    main()
