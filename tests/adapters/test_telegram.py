"""The Telegram adapter as Telegram sees it: the real python-telegram-bot Application, talking
over HTTP on 127.0.0.1 to a fake Bot API server, asserted on what that server receives.

Issue 3's acceptance. Each test has its own fake server and its own SQLite database; the clock is
fixed during the visit (Tuesday 27 August 2024, 09:00 in Gwangju).
"""

import io
import json
import logging
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.console import ConsoleChat
from bot.http import HttpServer
from bot.telegram.payloads import send_message as telegram_send_message
from bot.redaction import install_redaction
from bot.telegram.adapter import SECRET_HEADER, TelegramAdapter
from bot.telegram.sending import PLATFORM, RetryPolicy
from briefings.commands import COMMANDS, Briefing, Context, handle
from briefings.languages import Lang
from briefings.rendering.renderer import Renderer
from fakes.telegram_api import (
    BotApiSpec,
    FakeTelegram,
    blocked_by_user,
    callback_query,
    dropped_connection,
    error,
    group_message,
    private_message,
    server_error,
    texts,
    too_many_requests,
    wait_until,
)
from storage.chats import ChatStore
from storage.engine import make_engine
from storage.migrate import upgrade

from ..conftest import DURING, SHARED

SPEC_PATH = SHARED / "specs" / "telegram-bot-api.json"
# Quick retries keep the fault tests fast; the policy itself is the product's.
POLICY = RetryPolicy(attempts=3, first_backoff=0.01, max_backoff=0.05, max_retry_after=5.0)
POLL_TIMEOUT = 1.0
ALICE, BOB = 5001, 5002  # private chats: the chat id is the user's id
GROUP = -4001

Json = dict[str, Any]


# --- fixtures -----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def spec() -> BotApiSpec | None:
    return BotApiSpec.load(SPEC_PATH)


@pytest.fixture
async def fakes(spec: BotApiSpec | None) -> AsyncIterator[Callable[..., Awaitable[FakeTelegram]]]:
    """Start fake Bot API servers; at teardown, close them and check what they were asked."""
    started: list[FakeTelegram] = []

    async def start(**kwargs: Any) -> FakeTelegram:
        server = FakeTelegram(spec=spec, **kwargs)
        await server.start()
        started.append(server)
        return server

    yield start
    for server in started:
        await server.close()
    for server in started:
        assert server.violations == [], "requests that break the Bot API reference"


@pytest.fixture
async def fake(fakes: Callable[..., Awaitable[FakeTelegram]]) -> FakeTelegram:
    return await fakes()


@pytest.fixture
def database(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'briefings.db'}"


@dataclass
class Stores:
    """One ChatStore per "process"; several may open the same database file."""

    url: str
    engines: list[Any] = field(default_factory=list)

    def open(self) -> ChatStore:
        engine = make_engine(self.url)
        upgrade(engine)
        self.engines.append(engine)
        return ChatStore(engine)


@pytest.fixture
def stores(database: str) -> Iterator[Stores]:
    opened = Stores(database)
    yield opened
    for engine in opened.engines:
        engine.dispose()


@pytest.fixture
def store(stores: Stores) -> ChatStore:
    return stores.open()


@dataclass
class Bots:
    """Makes real TelegramAdapters pointed at a fake, and stops every one it started."""

    fake: FakeTelegram
    briefing: Briefing
    renderer: Renderer
    store: ChatStore
    running: list[TelegramAdapter] = field(default_factory=list)

    def make(self, **overrides: Any) -> TelegramAdapter:
        fake = overrides.pop("fake", self.fake)
        settings: dict[str, Any] = {
            "token": fake.token,
            "api_url": fake.base_url,
            "briefing": self.briefing,
            "renderer": self.renderer,
            "store": self.store,
            "clock": lambda: DURING,
            "retry": POLICY,
            "poll_timeout": POLL_TIMEOUT,
        }
        return TelegramAdapter(**{**settings, **overrides})

    async def start(
        self, adapter: TelegramAdapter | None = None, **overrides: Any
    ) -> TelegramAdapter:
        adapter = adapter or self.make(**overrides)
        self.running.append(adapter)
        await adapter.start()
        return adapter

    async def stop(self, adapter: TelegramAdapter) -> None:
        self.running.remove(adapter)
        await adapter.stop()


@pytest.fixture
async def bots(
    fake: FakeTelegram, briefing: Briefing, renderer: Renderer, store: ChatStore
) -> AsyncIterator[Bots]:
    made = Bots(fake, briefing, renderer, store)
    yield made
    for adapter in reversed(made.running):
        await adapter.stop()


@pytest.fixture
async def bot(bots: Bots) -> TelegramAdapter:
    return await bots.start()


@pytest.fixture
async def http() -> AsyncIterator[HttpServer]:
    server = HttpServer("127.0.0.1", 0)
    yield server
    await server.stop()


# --- helpers ------------------------------------------------------------------------------------


def expected(
    briefing: Briefing,
    renderer: Renderer,
    text: str,
    chat_id: int,
    lang: Lang = "en",
    private: bool = True,
) -> list[Json]:
    """What the core says to `text`, as sendMessage parameters: what the fake should receive."""
    reply = handle(briefing, Context(lang, DURING, private=private), text)
    return [telegram_send_message(m, chat_id) for m in renderer.render(reply, "telegram")]


async def answered(fake: FakeTelegram, chat_id: int, count: int) -> list[Json]:
    """Wait until `count` messages reached the chat; return them."""
    await wait_until(lambda: len(fake.sent(chat_id)) >= count)
    return fake.sent(chat_id)


def statuses(fake: FakeTelegram, method: str, chat_id: int | None = None) -> list[int]:
    return [
        c.status
        for c in fake.requests(method)
        if chat_id is None or c.params.get("chat_id") == chat_id
    ]


# --- the fake and the reference -----------------------------------------------------------------


def test_requests_are_checked_against_the_bot_api_reference(spec: BotApiSpec | None) -> None:
    if spec is None:
        pytest.skip(f"{SPEC_PATH} is absent: requests are not checked against the Bot API")
    assert spec.check("sendMessage", {"chat_id": 1, "text": "hi", "parse_mode": "HTML"}) == []
    assert spec.check("getMe", {}) == []
    assert spec.check("sendMessage", {"text": "hi", "colour": "red"}) == [
        "sendMessage: unknown parameter 'colour'",
        "sendMessage: required parameter 'chat_id' is missing",
    ]
    assert spec.check("sendMesage", {}) == ["sendMesage: no such method in the Bot API"]


async def test_the_fake_decodes_form_and_json_bodies(spec: BotApiSpec | None) -> None:
    server = FakeTelegram(spec=spec)
    await server.start()
    try:
        url = f"{server.base_url}/bot{server.token}/sendMessage"
        markup = {"inline_keyboard": [[{"text": "Tue", "callback_data": "itinerary x"}]]}
        async with aiohttp.ClientSession() as session:
            form = {"chat_id": "-100123", "text": "42", "reply_markup": json.dumps(markup)}
            async with session.post(url, data=form) as response:
                assert response.status == 200
                sent = (await response.json())["result"]
            async with session.post(url, json={"chat_id": 7, "text": "hi", "colour": 1}) as r:
                assert r.status == 200
            wrong = f"{server.base_url}/bot123:wrong/getMe"
            async with session.get(wrong) as response:
                assert response.status == 401
    finally:
        await server.close()
    assert server.requests("sendMessage")[0].params == {
        "chat_id": -100123,
        "text": "42",
        "reply_markup": markup,
    }
    assert sent["chat"] == {"id": -100123, "type": "supergroup", "title": sent["chat"]["title"]}
    assert server.requests("sendMessage")[1].params == {"chat_id": 7, "text": "hi", "colour": 1}
    if spec is not None:
        assert server.violations == ["sendMessage: unknown parameter 'colour'"]


# --- conversations ------------------------------------------------------------------------------


async def test_briefing_arrives_as_html_with_the_day_keyboard_on_the_last_message(
    fake: FakeTelegram, bot: TelegramAdapter, briefing: Briefing, renderer: Renderer
) -> None:
    fake.queue_update(private_message("/briefing", chat_id=ALICE))
    want = expected(briefing, renderer, "/briefing", ALICE)
    sent = await answered(fake, ALICE, len(want))

    assert len(sent) > 1
    assert all(m["parse_mode"] == "HTML" for m in sent)
    assert sent[0]["text"].startswith("<b>The Mayor of Turin in Gwangju</b>")
    assert all("reply_markup" not in m for m in sent[:-1])
    buttons = sent[-1]["reply_markup"]["inline_keyboard"][0]
    assert [b["callback_data"] for b in buttons] == [
        "itinerary 2024-08-26",
        "itinerary 2024-08-27",
        "itinerary 2024-08-28",
    ]
    assert all(len(b["callback_data"].encode()) <= 64 for b in buttons)
    # The console contract: `briefing-bot chat --format telegram` prints these very payloads.
    assert sent == want
    out = io.StringIO()
    ConsoleChat(briefing, renderer, lambda: DURING, "en", "telegram", out).answer("/briefing")
    console = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [{**m, "chat_id": ALICE} for m in console] == sent


async def test_itinerary_in_italian_for_an_italian_user(
    fake: FakeTelegram, bot: TelegramAdapter, briefing: Briefing, renderer: Renderer
) -> None:
    fake.queue_update(private_message("/itinerary martedì", chat_id=ALICE, language_code="it"))
    want = expected(briefing, renderer, "/itinerary martedì", ALICE, lang="it")
    sent = await answered(fake, ALICE, len(want))
    assert sent[0]["text"].startswith("<b>martedì 27 agosto 2024</b>")
    assert "Tuesday" not in sent[0]["text"]
    assert sent == want


async def test_a_day_button_edits_the_message_in_place(
    fake: FakeTelegram, bot: TelegramAdapter, briefing: Briefing, renderer: Renderer
) -> None:
    fake.queue_update(private_message("/itinerary tuesday", chat_id=ALICE))
    await answered(fake, ALICE, 1)
    shown = [c for c in fake.requests("sendMessage") if c.ok][-1].result
    assert "reply_markup" in shown

    update = callback_query("itinerary 2024-08-28", on=shown, user_id=ALICE)
    fake.queue_update(update)
    await wait_until(lambda: any(c.ok for c in fake.requests("editMessageText")))

    [edit] = fake.requests("editMessageText")
    [wednesday] = expected(briefing, renderer, "/itinerary 2024-08-28", ALICE)
    assert edit.params == {**wednesday, "message_id": shown["message_id"]}
    assert edit.params["text"].startswith("<b>Wednesday 28 August 2024</b>")
    assert fake.message(ALICE, shown["message_id"])["text"] == wednesday["text"]
    [answer] = fake.requests("answerCallbackQuery")
    assert answer.params["callback_query_id"] == update["callback_query"]["id"]
    assert len(fake.sent(ALICE)) == 1  # edited, not sent again


async def test_pressing_the_day_already_shown_changes_nothing(
    fake: FakeTelegram, bot: TelegramAdapter
) -> None:
    fake.queue_update(private_message("/itinerary tuesday", chat_id=ALICE))
    await answered(fake, ALICE, 1)
    shown = [c for c in fake.requests("sendMessage") if c.ok][-1].result

    fake.queue_update(callback_query("itinerary 2024-08-27", on=shown, user_id=ALICE))
    fake.queue_update(private_message("/itinerary wednesday", chat_id=ALICE))
    await answered(fake, ALICE, 2)  # handled in order: the press has been handled

    # Telegram refuses an edit that changes nothing; that is not a reason to send it again.
    assert statuses(fake, "editMessageText") == [400]
    assert len(fake.requests("answerCallbackQuery")) == 1
    assert fake.sent(ALICE)[1]["text"].startswith("<b>Wednesday 28 August 2024</b>")


async def test_a_stale_button_press_still_shows_the_day(
    fake: FakeTelegram, bot: TelegramAdapter
) -> None:
    fake.queue_update(private_message("/itinerary tuesday", chat_id=ALICE))
    await answered(fake, ALICE, 1)
    shown = [c for c in fake.requests("sendMessage") if c.ok][-1].result
    # After a restart, presses from a while ago arrive too late to be answered.
    fake.fail(
        "answerCallbackQuery",
        error(
            400, "Bad Request: query is too old and response timeout expired or query id is invalid"
        ),
    )
    fake.queue_update(callback_query("itinerary 2024-08-28", on=shown, user_id=ALICE))
    await wait_until(lambda: any(c.ok for c in fake.requests("editMessageText")))
    text = fake.message(ALICE, shown["message_id"])["text"]
    assert text.startswith("<b>Wednesday 28 August 2024</b>")


async def test_the_command_menu_is_set_in_each_language(
    fake: FakeTelegram, bot: TelegramAdapter
) -> None:
    calls = fake.requests("setMyCommands")
    by_lang = {c.params.get("language_code"): c.params["commands"] for c in calls}
    assert Counter(c.params.get("language_code") for c in calls) == Counter(
        {"en": 1, "it": 1, "ko": 1, None: 1}
    )
    for lang in ("en", "it", "ko"):
        assert by_lang[lang] == [
            {"command": c.name, "description": c.summary(lang)} for c in COMMANDS
        ]
    assert by_lang[None] == by_lang["en"]
    assert by_lang["it"] != by_lang["en"] != by_lang["ko"]


async def test_lang_is_remembered_across_a_restart(
    fake: FakeTelegram, bots: Bots, stores: Stores, briefing: Briefing, renderer: Renderer
) -> None:
    first = await bots.start()
    fake.queue_update(private_message("/lang ko", chat_id=ALICE, language_code="en"))
    await answered(fake, ALICE, 1)
    await bots.stop(first)

    again = await bots.start(store=stores.open())  # a new process on the same database file
    fake.queue_update(private_message("/itinerary day 2", chat_id=ALICE, language_code="en"))
    want = expected(briefing, renderer, "/itinerary day 2", ALICE, lang="ko")
    sent = await answered(fake, ALICE, 1 + len(want))
    assert sent[1:] == want
    assert sent[1]["text"].startswith("<b>2024년 8월 27일 화요일</b>")
    assert again.application.running


async def test_in_a_group_only_commands_for_this_bot_are_answered(
    fake: FakeTelegram, bot: TelegramAdapter, briefing: Briefing, renderer: Renderer
) -> None:
    fake.queue_update(group_message("/itinerary@OtherBot tuesday", chat_id=GROUP))
    fake.queue_update(group_message("martedì", chat_id=GROUP))
    fake.queue_update(group_message("/itinerary@BriefingsBot tuesday", chat_id=GROUP))
    fake.queue_update(private_message("martedì", chat_id=ALICE, language_code="it"))

    want_private = expected(briefing, renderer, "martedì", ALICE, lang="it")
    await answered(fake, ALICE, len(want_private))  # updates are handled in order
    want_group = expected(
        briefing, renderer, "/itinerary@BriefingsBot tuesday", GROUP, private=False
    )
    assert fake.sent(GROUP) == want_group
    assert fake.sent(GROUP)[0]["text"].startswith("<b>Tuesday 27 August 2024</b>")
    assert fake.sent(ALICE) == want_private
    assert fake.sent(ALICE)[0]["text"].startswith("<b>martedì 27 agosto 2024</b>")


# --- webhook ------------------------------------------------------------------------------------


async def test_webhook_needs_the_secret(
    fake: FakeTelegram, bots: Bots, http: HttpServer, briefing: Briefing, renderer: Renderer
) -> None:
    secret = "webhook-secret-0123456789"  # noqa: S105 - a test value
    hook = "https://briefings.example.org/telegram/webhook"
    adapter = bots.make(webhook_url=hook, webhook_secret=secret, http=http)
    await http.start()
    await bots.start(adapter)
    base = f"http://127.0.0.1:{http.port}"

    def update(update_id: int, chat_id: int) -> Json:
        return {"update_id": update_id, **private_message("/itinerary tuesday", chat_id=chat_id)}

    async with aiohttp.ClientSession() as session:
        for headers in ({SECRET_HEADER: "not-the-secret"}, {}):
            async with session.post(
                f"{base}/telegram/webhook", json=update(1, BOB), headers=headers
            ) as response:
                assert response.status == 403
        async with session.post(
            f"{base}/telegram/webhook", json=update(2, ALICE), headers={SECRET_HEADER: secret}
        ) as response:
            assert response.status == 200
        for body in ("[1]", "null", "{"):
            async with session.post(
                f"{base}/telegram/webhook", data=body, headers={SECRET_HEADER: secret}
            ) as response:
                assert response.status == 400
        async with session.get(f"{base}/healthz") as response:
            assert response.status == 200
            assert await response.json() == {"status": "ok"}

    want = expected(briefing, renderer, "/itinerary tuesday", ALICE)
    assert await answered(fake, ALICE, len(want)) == want
    assert fake.sent(BOB) == []
    [webhook] = fake.requests("setWebhook")
    assert webhook.params["url"] == hook
    assert webhook.params["secret_token"] == secret
    assert {"message", "callback_query"} <= set(webhook.params["allowed_updates"])
    assert fake.requests("getUpdates") == []


# --- faults -------------------------------------------------------------------------------------


async def test_flood_limit_waits_and_delivers_once(
    fake: FakeTelegram, bot: TelegramAdapter, briefing: Briefing, renderer: Renderer
) -> None:
    fake.fail("sendMessage", too_many_requests(retry_after=1))
    fake.queue_update(private_message("/itinerary tuesday", chat_id=ALICE))
    [want] = expected(briefing, renderer, "/itinerary tuesday", ALICE)
    await answered(fake, ALICE, 1)
    # A later update answered means the first one is done with: no late duplicate.
    fake.queue_update(private_message("/itinerary wednesday", chat_id=ALICE))
    await answered(fake, ALICE, 2)

    tries = [c for c in fake.requests("sendMessage") if c.params["text"] == want["text"]]
    assert [c.status for c in tries] == [429, 200]
    assert tries[1].at - tries[0].at >= 0.9  # it waited as long as Telegram asked
    assert texts(fake.sent(ALICE)).count(want["text"]) == 1


async def test_a_dropped_connection_is_retried_and_delivers_once(
    fake: FakeTelegram, bot: TelegramAdapter, briefing: Briefing, renderer: Renderer
) -> None:
    fake.fail("sendMessage", dropped_connection(), times=POLICY.attempts - 1)
    fake.queue_update(private_message("/itinerary tuesday", chat_id=ALICE))
    want = expected(briefing, renderer, "/itinerary tuesday", ALICE)
    assert await answered(fake, ALICE, len(want)) == want
    assert statuses(fake, "sendMessage") == [0] * (POLICY.attempts - 1) + [200] * len(want)


async def test_a_blocked_chat_is_marked_inactive_and_others_are_served(
    fake: FakeTelegram,
    bot: TelegramAdapter,
    store: ChatStore,
    briefing: Briefing,
    renderer: Renderer,
) -> None:
    fake.block(ALICE)
    fake.queue_update(private_message("/itinerary tuesday", chat_id=ALICE))
    fake.queue_update(private_message("/itinerary tuesday", chat_id=BOB))
    want = expected(briefing, renderer, "/itinerary tuesday", BOB)
    assert await answered(fake, BOB, len(want)) == want

    assert statuses(fake, "sendMessage", ALICE) == [403] * len(want)
    assert fake.sent(ALICE) == []
    assert store.settings(PLATFORM, str(ALICE)).active is False
    assert store.settings(PLATFORM, str(BOB)).active is True


async def test_a_burst_of_server_errors_does_not_stop_the_bot(
    fake: FakeTelegram, bot: TelegramAdapter, briefing: Briefing, renderer: Renderer
) -> None:
    # One more failure than the attempts for the first reply, then one for the second.
    fake.fail("sendMessage", server_error(), times=POLICY.attempts + 2)
    fake.queue_update(private_message("/itinerary tuesday", chat_id=ALICE))
    fake.queue_update(private_message("/itinerary wednesday", chat_id=ALICE))
    [lost] = expected(briefing, renderer, "/itinerary tuesday", ALICE)
    [retried] = expected(briefing, renderer, "/itinerary wednesday", ALICE)
    await answered(fake, ALICE, 1)
    assert bot.application.running
    assert bot.application.updater is not None
    assert bot.application.updater.running

    fake.queue_update(private_message("/itinerary monday", chat_id=ALICE))
    [monday] = expected(briefing, renderer, "/itinerary monday", ALICE)
    assert await answered(fake, ALICE, 2) == [retried, monday]
    assert statuses(fake, "sendMessage") == [500] * (POLICY.attempts + 2) + [200, 200]
    assert lost["text"] not in texts(fake.sent())


async def test_rejected_html_goes_out_as_plain_text(
    fake: FakeTelegram,
    bot: TelegramAdapter,
    briefing: Briefing,
    renderer: Renderer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake.fail(
        "sendMessage",
        error(400, "Bad Request: can't parse entities: Unsupported start tag at byte offset 0"),
    )
    fake.queue_update(private_message("/itinerary wednesday", chat_id=ALICE))
    [want] = expected(briefing, renderer, "/itinerary wednesday", ALICE)
    [sent] = await answered(fake, ALICE, 1)

    assert "parse_mode" not in sent
    assert sent["text"].startswith("Wednesday 28 August 2024\n")
    assert "<" not in sent["text"]
    assert sent["reply_markup"] == want["reply_markup"]
    assert statuses(fake, "sendMessage") == [400, 200]
    assert any("plain text" in r.getMessage() for r in caplog.records if r.levelname == "ERROR")


async def test_a_migrated_group_is_followed_to_its_new_id(
    fake: FakeTelegram,
    bot: TelegramAdapter,
    store: ChatStore,
    briefing: Briefing,
    renderer: Renderer,
) -> None:
    old, new = -4005, -1004005
    store.set_lang(PLATFORM, str(old), "it")
    fake.migrate(old, new)
    fake.queue_update(group_message("/itinerary@BriefingsBot tuesday", chat_id=old))
    want = expected(briefing, renderer, "/itinerary tuesday", new, lang="it", private=False)
    assert await answered(fake, new, len(want)) == want

    assert statuses(fake, "sendMessage", old) == [400] * len(want)
    assert store.lang(PLATFORM, str(new)) == "it"
    assert store.lang(PLATFORM, str(old)) is None


async def test_a_migration_notice_moves_the_chat_settings(
    fake: FakeTelegram, bot: TelegramAdapter, store: ChatStore
) -> None:
    old, new = -4006, -1004006
    store.set_lang(PLATFORM, str(old), "ko")
    notice = group_message("", chat_id=old)
    del notice["message"]["text"]
    notice["message"]["migrate_to_chat_id"] = new
    fake.queue_update(notice)
    fake.queue_update(private_message("/itinerary tuesday", chat_id=ALICE))
    await answered(fake, ALICE, 1)  # handled in order: the notice has been handled
    assert store.lang(PLATFORM, str(new)) == "ko"
    assert store.lang(PLATFORM, str(old)) is None


# --- secrets ------------------------------------------------------------------------------------


TOKEN = "123456:SECRET-TOKEN-abcdefghijklmnop"  # noqa: S105 - recognisable, and fake


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))  # with exception text and stack, if any


@pytest.fixture
def debug_logs() -> Iterator[Capture]:
    """Every logger at DEBUG into one capture; the logging set-up is restored afterwards."""
    root = logging.getLogger()
    loggers = [root] + [
        logger
        for logger in logging.root.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)
    ]
    levels = [logger.level for logger in loggers]
    factory = logging.getLogRecordFactory()
    capture = Capture()
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
    root.addHandler(capture)
    try:
        yield capture
    finally:
        root.removeHandler(capture)
        logging.setLogRecordFactory(factory)
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


async def test_the_token_never_reaches_a_log_line(
    fakes: Callable[..., Awaitable[FakeTelegram]],
    bots: Bots,
    debug_logs: Capture,
    briefing: Briefing,
    renderer: Renderer,
) -> None:
    install_redaction([TOKEN])  # as the composition root does
    fake = await fakes(token=TOKEN)
    fake.fail("getUpdates", server_error())  # PTB logs the polling error with its traceback
    fake.fail("sendMessage", blocked_by_user(), chat_id=BOB)
    fake.fail("sendMessage", dropped_connection(), chat_id=ALICE)
    await bots.start(fake=fake, token=TOKEN)
    fake.queue_update(private_message("/briefing", chat_id=ALICE))
    fake.queue_update(private_message("/itinerary tuesday", chat_id=BOB))
    fake.queue_update(private_message("/itinerary tuesday", chat_id=ALICE))
    want = expected(briefing, renderer, "/briefing", ALICE)
    await answered(fake, ALICE, len(want) + 1)

    logged = "\n".join(debug_logs.lines)
    assert "sendMessage" in logged  # the capture did see the traffic
    assert "Traceback" in logged  # and exception text
    assert "/bot***/sendMessage" in logged  # httpx's request lines, masked
    assert TOKEN not in logged
    assert TOKEN.split(":", 1)[1] not in logged
    assert "SECRET-TOKEN" not in logged


def test_a_malformed_log_call_neither_raises_nor_leaks(debug_logs: Capture) -> None:
    install_redaction([TOKEN])
    logging.getLogger("briefings.test").warning("%d updates for %s", "many", TOKEN)
    [line] = debug_logs.lines
    assert "many" in line
    assert TOKEN not in line
