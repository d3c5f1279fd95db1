"""Slack slash command round trip: a signed POST to our Bolt app until the reply reaches Slack.

Ours is the SlackAdapter in HTTP mode (signature check, acknowledgement, the user's language from
the database, `handle()`, rendering, and the POST of the reply to the `response_url`); the bare
figure is a Bolt AsyncApp on the same kind of server whose `/briefing` handler only
acknowledges. The two apps run in a child process on 127.0.0.1; this process plays Slack with
the tests' fake (fakes/slack_api.py). The ratio is therefore what our work costs on top of
Bolt's own request handling, not network time. The two are timed in turns, one request each
per round, so a slow spell of the machine falls on both alike. Everything started here is
stopped before it returns.
"""

import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bench.child import child_env
from bot.http import HttpServer
from bot.settings import Settings
from bot.slack.adapter import EVENTS_PATH, SlackAdapter
from briefings.commands import Briefing
from briefings.loader import load_seeds
from briefings.rendering.renderer import Renderer
from fakes.slack_api import (
    BOT_TOKEN,
    SIGNING_SECRET,
    FakeSlack,
    form_body,
    sign,
    slash_command,
)
from storage.chats import ChatStore
from storage.engine import make_engine
from storage.migrate import upgrade

RUNS = 300
WARMUP = 10
COMMAND = "itinerary tuesday"
FORM = "application/x-www-form-urlencoded"


def _bare_app(api_url: str) -> AsyncApp:
    """A Bolt app with the same client settings as ours and a handler that only acknowledges."""
    app = AsyncApp(
        name="bare",
        client=AsyncWebClient(token=BOT_TOKEN, base_url=api_url),
        signing_secret=SIGNING_SECRET,
        process_before_response=True,
    )

    async def acknowledge(ack: AsyncAck) -> None:
        await ack()

    app.command("/briefing")(acknowledge)
    return app


def _route(app: AsyncApp) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handler(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await app.async_dispatch(await to_bolt_request(request)))

    return handler


async def serve(api_url: str) -> None:
    """The bot's side, in its own process: our adapter and the bare app, until stdin closes.

    A separate process, as in production: were the timing client on the same event loop, it
    could not read our acknowledgement while the answer that follows it holds the loop, and
    the acknowledgement would look as slow as the answer.
    """
    seeds = load_seeds(Settings().seeds_dir)
    briefing = Briefing(seeds.visit, seeds.articles)
    # A fixed clock inside the visit, so every run answers the same day.
    now = datetime(2024, 8, 27, 9, 0, tzinfo=ZoneInfo(seeds.visit.timezone))
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
        upgrade(engine)
        ours, bare = HttpServer("127.0.0.1", 0), HttpServer("127.0.0.1", 0)
        adapter = SlackAdapter(
            bot_token=BOT_TOKEN,
            signing_secret=SIGNING_SECRET,
            api_url=api_url,
            briefing=briefing,
            renderer=Renderer(),
            store=ChatStore(engine),
            clock=lambda: now,
            http=ours,
        )
        bare.add_post(EVENTS_PATH, _route(_bare_app(api_url)))
        started: list[Any] = []
        try:
            for service in (adapter, ours, bare):
                await service.start()
                started.append(service)
            print(ours.port, bare.port, flush=True)
            await asyncio.to_thread(sys.stdin.read)
        finally:
            for service in reversed(started):
                await service.stop()
            engine.dispose()


class Client:
    """Slack's side: the fake Slack, and signed POSTs to the two servers."""

    def __init__(self, fake: FakeSlack, ours: int, bare: int) -> None:
        self.fake = fake
        self.ours, self.bare = ours, bare
        self.session = aiohttp.ClientSession()
        self.sent = 0

    async def _post(self, port: int, name: str) -> float:
        """Seconds until the server answered the POST (the acknowledgement)."""
        body = form_body(slash_command(COMMAND, self.fake.response_url(name)))
        headers = {"Content-Type": FORM, **sign(body)}
        start = time.perf_counter()
        url = f"http://127.0.0.1:{port}{EVENTS_PATH}"
        async with self.session.post(url, data=body.encode(), headers=headers) as response:
            await response.read()
            if response.status != 200:
                raise RuntimeError(f"{url} answered {response.status}")
        return time.perf_counter() - start

    async def ours_round_trip(self) -> tuple[float, float]:
        """(acknowledged, reply received at the response_url), in seconds from the POST."""
        self.sent += 1
        name = f"b{self.sent}"
        start = time.perf_counter()
        ack = await self._post(self.ours, name)
        await self.fake.wait_for(lambda: bool(self.fake.answered(name)), timeout=10)
        return ack, time.perf_counter() - start

    async def bare_ack(self) -> float:
        return await self._post(self.bare, "bare")


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:8.2f}"


def _p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98]


async def measure(client: Client) -> dict[str, list[float]]:
    for _ in range(WARMUP):  # auth.test, the locale lookup, template compilation, pools
        await client.ours_round_trip()
        await client.bare_ack()
    samples: dict[str, list[float]] = {"bare ack": [], "our ack": [], "our round trip": []}
    for n in range(RUNS):
        # Alternate which goes first, so neither always follows the tail of the other's work.
        if n % 2:
            samples["bare ack"].append(await client.bare_ack())
        ack, trip = await client.ours_round_trip()
        samples["our ack"].append(ack)
        samples["our round trip"].append(trip)
        if not n % 2:
            samples["bare ack"].append(await client.bare_ack())
    return samples


async def run() -> dict[str, list[float]]:
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        return await _run(Path(tmp))


async def _run(cwd: Path) -> dict[str, list[float]]:
    fake = FakeSlack()
    await fake.start()
    server = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.slack_roundtrip",
        "--serve",
        fake.api_url,
        cwd=cwd,
        env=child_env(cwd),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert server.stdin is not None
    assert server.stdout is not None
    client: Client | None = None
    try:
        line = await asyncio.wait_for(server.stdout.readline(), timeout=30)
        if not line:
            raise RuntimeError("the bot's process exited before listening")
        ours, bare = (int(port) for port in line.split())
        client = Client(fake, ours, bare)
        return await measure(client)
    finally:
        server.stdin.close()
        try:
            await asyncio.wait_for(server.wait(), timeout=10)
        except TimeoutError:
            server.kill()
            await server.wait()
        if client is not None:
            await client.session.close()
        await fake.close()


def main() -> None:
    samples = asyncio.run(run())
    bare = statistics.median(samples["bare ack"])
    print(f"== Slack slash command, signed POST over 127.0.0.1 ({RUNS} runs, ms) ==")
    print("our round trip = POST until the reply reached the fake response_url;")
    print("our ack = POST until our 200; bare ack = the same POST to a Bolt app that only acks")
    print(f"{'':<16} {'median':>8} {'p99':>8} {'median/bare ack':>16}")
    for key in ("bare ack", "our ack", "our round trip"):
        values = samples[key]
        median = statistics.median(values)
        print(f"{key:<16} {_ms(median)} {_ms(_p99(values))} {median / bare:16.2f}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve"]:
        asyncio.run(serve(sys.argv[2]))
    else:
        main()
