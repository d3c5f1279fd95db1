"""Issue 10, defect 8: a request the platform delivers more than once is answered exactly once.

Slack retries an event it thinks was missed (`X-Slack-Retry-Num` 1, 2, 3), perhaps to another
process; a signed slash command or button press can be replayed; Telegram redelivers a webhook
update after a 5xx or a timeout. The real Bolt app (HTTP mode) and the real python-telegram-bot
Application run against the fakes on 127.0.0.1; each "process" here is an adapter with its own
engine, conversation and HTTP server, sharing one database (SQLite file, and PostgreSQL where a
server answers), as processes behind a load balancer do.

Counts are final once every adapter has stopped: `stop()` waits for the answers in flight, and
each duplicate was decided before its acknowledgement came back.
"""

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import Engine

from bot.http import HttpServer
from bot.slack.adapter import SlackAdapter
from bot.telegram.adapter import SECRET_HEADER, TelegramAdapter
from briefings.conversation import Conversation
from briefings.library import Library
from briefings.rendering.renderer import Renderer
from fakes.slack_api import (
    BOT_TOKEN,
    BOT_USER,
    SIGNING_SECRET,
    EventsSpec,
    FakeSlack,
    WebApiSpec,
    block_action,
    event_callback,
    form_body,
    slash_command,
)
from fakes.telegram_api import FakeTelegram, private_message, wait_until
from storage.chats import SqlChatStates
from storage.engine import make_engine
from storage.migrate import upgrade
from storage.seen import SqlSeenRequests
from tests.adapters.test_slack import (
    DM,
    EVENTS_SPEC,
    GENERAL,
    WEB_SPEC,
    Bot,
    Core,
    dm,
    mention,
    posts,
)
from tests.dialogue import NOW
from tests.storage.conftest import postgres_admin, postgres_url

# Fixtures used by name below; imported so that pytest finds them in this module.
__all__ = ["postgres_admin", "postgres_url"]

RETRY = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
SECOND_RETRY = {"X-Slack-Retry-Num": "2", "X-Slack-Retry-Reason": "http_timeout"}
TELEGRAM_SECRET = "webhook-secret-for-the-fault-tests"  # noqa: S105 - a test value
HOOK = "https://briefings.example.org/telegram"
ALICE_TG = 5001


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """slack_sdk sends even 127.0.0.1 through a proxy named in the environment."""
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'briefings.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'briefings.db'}"


@dataclass
class Processes:
    """Adapters that each stand for one process: own engine, conversation and HTTP server, one
    database between them."""

    url: str
    library: Library
    renderer: Renderer
    engines: list[Engine] = field(default_factory=list)
    servers: list[HttpServer] = field(default_factory=list)
    services: list[SlackAdapter | TelegramAdapter] = field(default_factory=list)
    sessions: list[aiohttp.ClientSession] = field(default_factory=list)

    def _process(self) -> tuple[Conversation, SqlSeenRequests, HttpServer]:
        engine = make_engine(self.url)
        upgrade(engine)
        self.engines.append(engine)
        server = HttpServer("127.0.0.1", 0)
        self.servers.append(server)
        conversation = Conversation(self.library, SqlChatStates(engine), lambda: NOW)
        return conversation, SqlSeenRequests(engine), server

    async def slack(self, fake: FakeSlack, events_spec: EventsSpec | None) -> Bot:
        conversation, seen, server = self._process()
        adapter = SlackAdapter(
            bot_token=BOT_TOKEN,
            signing_secret=SIGNING_SECRET,
            api_url=fake.api_url,
            conversation=conversation,
            renderer=self.renderer,
            http=server,
            seen=seen,
        )
        session = aiohttp.ClientSession()
        self.sessions.append(session)
        self.services.append(adapter)
        await adapter.start()
        await server.start()
        return Bot(fake, adapter, server, session, events_spec)

    async def telegram(self, fake: FakeTelegram) -> str:
        """A Telegram adapter in webhook mode; its webhook's URL."""
        conversation, seen, server = self._process()
        adapter = TelegramAdapter(
            token=fake.token,
            api_url=fake.base_url,
            conversation=conversation,
            renderer=self.renderer,
            webhook_url=HOOK,
            webhook_secret=TELEGRAM_SECRET,
            http=server,
            seen=seen,
        )
        await server.start()
        self.services.append(adapter)
        await adapter.start()
        return f"http://127.0.0.1:{server.port}/telegram"

    async def stop(self) -> None:
        """Every adapter stops, each waiting for its answers in flight."""
        for server in self.servers:
            await server.stop()
        for service in reversed(self.services):
            await service.stop()
        self.services.clear()
        for session in self.sessions:
            await session.close()
        self.sessions.clear()


@pytest.fixture
async def slack(web_spec: WebApiSpec | None) -> AsyncIterator[FakeSlack]:
    server = FakeSlack(web_spec)
    await server.start()
    yield server
    await server.close()
    assert server.violations == [], "calls that break Slack's Web API spec"


@pytest.fixture(scope="module")
def web_spec() -> WebApiSpec | None:
    return WebApiSpec.load(WEB_SPEC)


@pytest.fixture(scope="module")
def events_spec() -> EventsSpec | None:
    return EventsSpec.load(EVENTS_SPEC)


@pytest.fixture
def core(library: Library) -> Core:
    return Core(library)


def _processes(url: str, library: Library, renderer: Renderer) -> Iterator[Processes]:
    made = Processes(url, library, renderer)
    yield made
    for engine in made.engines:
        engine.dispose()


@pytest.fixture
async def on_sqlite(
    sqlite_url: str, library: Library, renderer: Renderer
) -> AsyncIterator[Processes]:
    for made in _processes(sqlite_url, library, renderer):
        yield made
        await made.stop()


@pytest.fixture
async def on_both(
    database_url: str, library: Library, renderer: Renderer
) -> AsyncIterator[Processes]:
    for made in _processes(database_url, library, renderer):
        yield made
        await made.stop()


def canonical(payload: dict[str, Any]) -> str:
    return json.dumps(payload, sort_keys=True)


def delivery(event: dict[str, Any], event_id: str) -> str:
    return json.dumps(event_callback(event, event_id=event_id))


# --- Slack events -------------------------------------------------------------------------------


async def test_a_mention_that_arrives_only_as_a_retry_is_answered_once(
    on_sqlite: Processes, slack: FakeSlack, events_spec: EventsSpec | None, core: Core
) -> None:
    """The first delivery never reached us (Slack timed out before it arrived): its retries
    are all there is, and the first of them must be answered."""
    bot = await on_sqlite.slack(slack, events_spec)
    body = delivery(mention(f"<@{BOT_USER}> itinerary tuesday"), "Ev0ONLYRETRY")
    assert (await bot.event_body(body, headers=RETRY))[0] == 200
    assert (await bot.event_body(body, headers=SECOND_RETRY))[0] == 200
    await slack.wait_for(lambda: bool(slack.called("chat.postMessage")))
    await on_sqlite.stop()
    want = posts(await core.reply("itinerary tuesday"), GENERAL)
    assert [c.args for c in slack.called("chat.postMessage")] == want


async def test_the_same_event_delivered_and_retried_is_answered_once(
    on_sqlite: Processes, slack: FakeSlack, events_spec: EventsSpec | None, core: Core
) -> None:
    bot = await on_sqlite.slack(slack, events_spec)
    body = delivery(mention(f"<@{BOT_USER}> who kang"), "Ev0TWICE")
    assert (await bot.event_body(body))[0] == 200
    assert (await bot.event_body(body, headers=RETRY))[0] == 200
    await slack.wait_for(lambda: bool(slack.called("chat.postMessage")))
    await on_sqlite.stop()
    want = posts(await core.reply("who kang"), GENERAL)
    assert [c.args for c in slack.called("chat.postMessage")] == want


@pytest.mark.parametrize(
    ("to_first", "to_second"),
    [(None, RETRY), (RETRY, SECOND_RETRY)],
    ids=["delivery-and-retry", "two-retries"],
)
async def test_two_processes_given_the_same_event_answer_it_once_in_total(
    on_both: Processes,
    slack: FakeSlack,
    events_spec: EventsSpec | None,
    core: Core,
    to_first: dict[str, str] | None,
    to_second: dict[str, str],
) -> None:
    """Two deliveries of one event race, each to another process behind the balancer: the
    first and a retry, or (the first lost) two retries."""
    first = await on_both.slack(slack, events_spec)
    second = await on_both.slack(slack, events_spec)
    for n in range(5):
        body = delivery(mention(f"<@{BOT_USER}> itinerary tuesday"), f"Ev0RACE{n}")
        statuses = await asyncio.gather(
            first.event_body(body, headers=to_first), second.event_body(body, headers=to_second)
        )
        assert [status for status, _ in statuses] == [200, 200]
    await slack.wait_for(lambda: len(slack.called("chat.postMessage")) >= 5)
    await on_both.stop()
    [want] = posts(await core.reply("itinerary tuesday"), GENERAL)
    assert [c.args for c in slack.called("chat.postMessage")] == [want] * 5


async def test_a_dm_that_mentions_the_bot_is_answered_once_across_processes(
    on_sqlite: Processes, slack: FakeSlack, events_spec: EventsSpec | None
) -> None:
    """Slack sends such a message as two events (two event ids): one per process here."""
    first = await on_sqlite.slack(slack, events_spec)
    second = await on_sqlite.slack(slack, events_spec)
    message = dm(f"<@{BOT_USER}> tuesday")
    await first.event_body(delivery(message, "Ev0DMMESSAGE"))
    await second.event_body(delivery({**message, "type": "app_mention"}, "Ev0DMMENTION"))
    await slack.wait_for(lambda: bool(slack.called("chat.postMessage")))
    await on_sqlite.stop()
    assert [c.args["channel"] for c in slack.called("chat.postMessage")] == [DM]


async def test_events_are_remembered_across_a_restart(
    on_sqlite: Processes, slack: FakeSlack, events_spec: EventsSpec | None
) -> None:
    body = delivery(mention(f"<@{BOT_USER}> who kang"), "Ev0RESTART")
    before = await on_sqlite.slack(slack, events_spec)
    await before.event_body(body)
    await slack.wait_for(lambda: bool(slack.called("chat.postMessage")))
    await on_sqlite.stop()
    after = await on_sqlite.slack(slack, events_spec)
    assert (await after.event_body(body, headers=SECOND_RETRY))[0] == 200
    await on_sqlite.stop()
    assert len(slack.called("chat.postMessage")) == 1


# --- Slack slash commands and buttons -----------------------------------------------------------


async def test_a_replayed_slash_command_is_answered_once(
    on_sqlite: Processes, slack: FakeSlack, events_spec: EventsSpec | None
) -> None:
    """The same signed request twice (same trigger_id): one answer at its response_url; a
    new command with the same words is a new request and is answered."""
    bot = await on_sqlite.slack(slack, events_spec)
    command = form_body(slash_command("itinerary tuesday", slack.response_url("once")))
    for _ in range(2):
        assert (await bot.post(command, "application/x-www-form-urlencoded"))[0] == 200
    await bot.command("itinerary tuesday", "again")
    await slack.wait_for(lambda: bool(slack.answered("once")) and bool(slack.answered("again")))
    await on_sqlite.stop()
    assert len(slack.answered("once")) == len(slack.answered("again")) == 1


async def test_a_replayed_button_press_is_answered_once(
    on_sqlite: Processes, slack: FakeSlack, events_spec: EventsSpec | None
) -> None:
    bot = await on_sqlite.slack(slack, events_spec)
    container = {"type": "message", "channel_id": GENERAL, "message_ts": "1724716800.000001"}
    press = block_action("not-a-real-payload", container=container)
    first, second = await on_sqlite.slack(slack, events_spec), bot
    statuses = await asyncio.gather(first.action(press), second.action(press))
    assert [status for status, _ in statuses] == [200, 200]
    await slack.wait_for(lambda: bool(slack.called("chat.update")))
    await on_sqlite.stop()
    assert len(slack.called("chat.update")) == 1


# --- Telegram webhook ---------------------------------------------------------------------------


async def test_a_telegram_update_redelivered_to_either_process_is_handled_once(
    on_both: Processes, library: Library, renderer: Renderer
) -> None:
    """Telegram resends an update it got no 200 for (a timeout, a 5xx), to whichever process
    the balancer picks; the update_id is the same."""
    fake = FakeTelegram()
    await fake.start()
    try:
        hooks = [await on_both.telegram(fake), await on_both.telegram(fake)]
        update = {"update_id": 777, **private_message("/itinerary tuesday", chat_id=ALICE_TG)}
        headers = {SECRET_HEADER: TELEGRAM_SECRET}
        async with aiohttp.ClientSession() as session:

            async def post(url: str) -> int:
                async with session.post(url, json=update, headers=headers) as response:
                    return response.status

            assert await asyncio.gather(post(hooks[0]), post(hooks[1])) == [200, 200]
            assert await post(hooks[0]) == 200  # and once more, later
            later = {"update_id": 778, **private_message("/help", chat_id=ALICE_TG)}
            async with session.post(hooks[1], json=later, headers=headers) as response:
                assert response.status == 200
        conversation = Conversation(library, SqlChatStates(on_both.engines[0]), lambda: NOW)
        tuesday = await _telegram_reply(conversation, renderer, "/itinerary tuesday")
        helped = await _telegram_reply(conversation, renderer, "/help")
        await wait_until(lambda: len(fake.sent(ALICE_TG)) >= len(tuesday) + len(helped))
        await on_both.stop()
        # Two processes: the two updates may be answered in either order.
        assert sorted(fake.sent(ALICE_TG), key=canonical) == sorted(tuesday + helped, key=canonical)
    finally:
        await on_both.stop()
        await fake.close()


async def _telegram_reply(
    conversation: Conversation, renderer: Renderer, text: str
) -> list[dict[str, Any]]:
    from bot.telegram.payloads import send_message
    from bot.telegram.sending import PLATFORM
    from briefings.conversation import Incoming
    from briefings.ports import ChatRef

    incoming = Incoming(ChatRef(PLATFORM, str(ALICE_TG)), "private", str(ALICE_TG), "en", text)
    answer = await conversation.handle(incoming)
    return [send_message(m, ALICE_TG) for m in renderer.render(answer.reply, "telegram")]
