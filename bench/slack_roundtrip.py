"""Slack slash command round trip: a signed POST to our Bolt app until the reply reaches Slack.

Ours is the SlackAdapter in HTTP mode (signature check, acknowledgement, the user's locale, the
conversation service over the SQLite chat states, rendering, and the POST of the reply to the
`response_url`); the bare
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
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bench.child import child_env
from bench.results import GoalResult
from bot.http import HttpServer
from bot.settings import Settings
from bot.slack.adapter import EVENTS_PATH, SlackAdapter
from bot.slack.payloads import response_body, with_share_button
from briefings.conversation import Conversation, Incoming
from briefings.library import Library
from briefings.loader import load_seeds
from briefings.ports import ChatRef
from briefings.rendering.renderer import Renderer
from fakes.memory import MemoryChatStates
from fakes.slack_api import (
    BOT_TOKEN,
    SIGNING_SECRET,
    FakeSlack,
    form_body,
    sign,
    slash_command,
)
from storage.chats import SqlChatStates
from storage.engine import make_engine
from storage.migrate import upgrade
from storage.seen import SqlSeenRequests

RUNS = 300
GOAL = 1.2  # our ack / bare ack, median (issue 8)
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


def _echo_app(
    api_url: str,
    answer_body: dict[str, Any],
    session: aiohttp.ClientSession,
    tasks: set[asyncio.Task[None]],
) -> AsyncApp:
    """A Bolt app that acknowledges, then posts a ready-made answer (ours, rendered once) to the
    response_url as ours does: Slack's round trip with nothing of ours in it."""
    app = AsyncApp(
        name="echo",
        client=AsyncWebClient(token=BOT_TOKEN, base_url=api_url),
        signing_secret=SIGNING_SECRET,
        process_before_response=True,
    )

    async def answer(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        webhook = AsyncWebhookClient(str(body["response_url"]), session=session)
        task = asyncio.get_running_loop().create_task(_send(webhook, answer_body))
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    app.command("/briefing")(answer)
    return app


async def _send(webhook: AsyncWebhookClient, body: dict[str, Any]) -> None:
    await webhook.send_dict(body)


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
    library = Library(load_seeds(Settings().seeds_dir))
    # A fixed clock inside the August visit, so every run answers the same day.
    now = datetime(2024, 8, 27, 9, 0, tzinfo=ZoneInfo("Asia/Seoul"))
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
        upgrade(engine)
        ours, bare = HttpServer("127.0.0.1", 0), HttpServer("127.0.0.1", 0)
        adapter = SlackAdapter(
            bot_token=BOT_TOKEN,
            signing_secret=SIGNING_SECRET,
            api_url=api_url,
            conversation=Conversation(library, SqlChatStates(engine), lambda: now),
            renderer=Renderer(),
            http=ours,
            seen=SqlSeenRequests(engine),
        )
        bare.add_post(EVENTS_PATH, _route(_bare_app(api_url)))
        echo = HttpServer("127.0.0.1", 0)
        session = aiohttp.ClientSession()
        tasks: set[asyncio.Task[None]] = set()
        answer = await _our_answer(library, now)
        echo.add_post(EVENTS_PATH, _route(_echo_app(api_url, answer, session, tasks)))
        started: list[Any] = []
        try:
            for service in (adapter, ours, bare, echo):
                await service.start()
                started.append(service)
            print(ours.port, bare.port, echo.port, flush=True)
            await asyncio.to_thread(sys.stdin.read)
        finally:
            for service in reversed(started):
                await service.stop()
            await asyncio.gather(*tasks, return_exceptions=True)
            await session.close()
            engine.dispose()


async def _our_answer(library: Library, now: datetime) -> dict[str, Any]:
    """The body ours posts for COMMAND, made once, for the echo app to post every time."""
    conversation = Conversation(library, MemoryChatStates(), lambda: now)
    incoming = Incoming(ChatRef("slack", "C0GENERAL"), "channel", "U0ALICE", "en-US", COMMAND, True)
    reply = (await conversation.handle(incoming)).reply
    [message] = Renderer().render(reply, "slack")
    return with_share_button(response_body(message, "ephemeral"), COMMAND, reply.lang)


class Client:
    """Slack's side: the fake Slack, and signed POSTs to the two servers."""

    def __init__(self, fake: FakeSlack, ours: int, bare: int, echo: int) -> None:
        self.fake = fake
        self.ours, self.bare, self.echo = ours, bare, echo
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

    async def ours_round_trip(self, port: int | None = None) -> tuple[float, float]:
        """(acknowledged, reply received at the response_url), in seconds from the POST."""
        self.sent += 1
        name = f"b{self.sent}"
        start = time.perf_counter()
        ack = await self._post(self.ours if port is None else port, name)
        await self.fake.wait_for(lambda: bool(self.fake.answered(name)), timeout=10)
        return ack, time.perf_counter() - start

    async def bare_ack(self) -> float:
        return await self._post(self.bare, "bare")

    async def echo_round_trip(self) -> float:
        return (await self.ours_round_trip(self.echo))[1]


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:8.2f}"


def _p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98]


async def measure(client: Client) -> dict[str, list[float]]:
    for _ in range(WARMUP):  # auth.test, the locale lookup, template compilation, pools
        await client.ours_round_trip()
        await client.bare_ack()
        await client.echo_round_trip()
    samples: dict[str, list[float]] = {
        "bare ack": [],
        "our ack": [],
        "echo round trip": [],
        "our round trip": [],
    }
    for n in range(RUNS):
        # Alternate which goes first, so neither always follows the tail of the other's work.
        if n % 2:
            samples["bare ack"].append(await client.bare_ack())
            samples["echo round trip"].append(await client.echo_round_trip())
        ack, trip = await client.ours_round_trip()
        samples["our ack"].append(ack)
        samples["our round trip"].append(trip)
        if not n % 2:
            samples["bare ack"].append(await client.bare_ack())
            samples["echo round trip"].append(await client.echo_round_trip())
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
        ours, bare, echo = (int(port) for port in line.split())
        client = Client(fake, ours, bare, echo)
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


def main() -> GoalResult:
    samples = asyncio.run(run())
    bare = statistics.median(samples["bare ack"])
    echo = statistics.median(samples["echo round trip"])
    print(f"== Slack slash command, signed POST over 127.0.0.1 ({RUNS} runs, ms) ==")
    print("our round trip = POST until the reply reached the fake response_url;")
    print("our ack = POST until our 200; bare ack = the same POST to a Bolt app that only acks;")
    print("echo round trip = a Bolt app that acks, then posts our answer, made once, likewise")
    print(f"{'':<16} {'median':>8} {'p99':>8} {'median/bare ack':>16} {'/echo round trip':>17}")
    for key in ("bare ack", "our ack", "echo round trip", "our round trip"):
        values = samples[key]
        median = statistics.median(values)
        print(
            f"{key:<16} {_ms(median)} {_ms(_p99(values))} {median / bare:16.2f}"
            f" {median / echo:17.2f}"
        )
    ratio = statistics.median(samples["our ack"]) / bare
    print(f"goal: our ack / bare ack at most {GOAL} (issue 8): {ratio:.2f}")
    return GoalResult(
        f"Slack slash command our ack/bare ack median (issue 8, at most {GOAL})",
        f"{ratio:.2f}",
        ratio <= GOAL,
    )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve"]:
        asyncio.run(serve(sys.argv[2]))
    else:
        main()
