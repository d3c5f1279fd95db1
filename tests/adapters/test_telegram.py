"""The Telegram adapter as Telegram sees it: the real python-telegram-bot Application, talking
over HTTP on 127.0.0.1 to a fake Bot API server, asserted on what that server receives.

Each test has its own fake server and its own SQLite database (`SqlChatStates`), and the clock is
fixed during the visit (Tuesday 27 August 2024, 09:00 in Gwangju). What the fake must receive is
worked out by a `Mirror`: the same conversation service on in-memory ports, fed the same things,
its answer rendered for Telegram by `bot.telegram.payloads` (the console's contract too).
"""

import html
import io
import json
import logging
import re
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import Engine

from bot.console import ConsoleChat
from bot.http import HttpServer
from bot.redaction import install_redaction
from bot.session import SessionChatStates
from bot.telegram.adapter import SECRET_HEADER, TelegramAdapter
from bot.telegram.digests import TelegramDigestSender
from bot.telegram.payloads import SELECTED, send_message
from bot.telegram.sending import PLATFORM, TELEGRAM_LIMITS, RetryPolicy
from briefings.actions import Action, encode
from briefings.commands import COMMANDS
from briefings.conversation import Conversation, Incoming
from briefings.delivery import DeliveryPolicy, Dispatcher, Report
from briefings.digests import digest_reply
from briefings.labels import label
from briefings.library import Library
from briefings.ports import ChatRef
from briefings.rendering.renderer import Renderer
from briefings.schedule import DEFAULT_TIME, Digest, DigestKind, due_at
from briefings.views import PARTS
from fakes.memory import MemoryChatStates
from fakes.telegram_api import (
    BotApiSpec,
    Call,
    FakeTelegram,
    blocked_by_user,
    callback_query,
    dropped_connection,
    error,
    group_message,
    my_chat_member,
    private_message,
    server_error,
    texts,
    too_many_requests,
    wait_until,
)
from storage.chats import SqlChatStates
from storage.engine import make_engine
from storage.ledger import Ledger
from storage.migrate import upgrade
from tests.dialogue import AUGUST, DIALOGUE, NOW
from tests.telegram_html import telegram_text, validate

from ..conftest import SEOUL, SHARED

SPEC_PATH = SHARED / "specs" / "telegram-bot-api.json"
# Quick retries keep the fault tests fast; the policy itself is the product's.
POLICY = RetryPolicy(attempts=3, first_backoff=0.01, max_backoff=0.05, max_retry_after=5.0)
POLL_TIMEOUT = 1.0
# Telegram's per-chat pace at 1/100: a second a message would make each test a minute.
LIMITS = TELEGRAM_LIMITS.scaled(0.01)
ALICE, BOB = 5001, 5002  # private chats: the chat id is the user's id
GROUP = -4001
MEMBER, ADMIN, OWNER = 5002, 5003, 5004
HANGUL = re.compile("[가-힣]")
REFUSED = "Only the chat's administrators can change its settings here."

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


@dataclass
class Databases:
    """One engine per "process"; several may open the same SQLite file."""

    url: str
    engines: list[Engine] = field(default_factory=list)

    def open(self) -> Engine:
        engine = make_engine(self.url)
        upgrade(engine)
        self.engines.append(engine)
        return engine


@pytest.fixture
def databases(tmp_path: Path) -> Iterator[Databases]:
    opened = Databases(f"sqlite:///{tmp_path / 'briefings.db'}")
    yield opened
    for engine in opened.engines:
        engine.dispose()


@pytest.fixture
def engine(databases: Databases) -> Engine:
    return databases.open()


@pytest.fixture
def states(engine: Engine) -> SqlChatStates:
    return SqlChatStates(engine)


@pytest.fixture
def conversation(library: Library, states: SqlChatStates) -> Conversation:
    return Conversation(library, states, lambda: NOW)


@dataclass
class Bots:
    """Makes real TelegramAdapters pointed at a fake, and stops every one it started."""

    fake: FakeTelegram
    conversation: Conversation
    renderer: Renderer
    running: list[TelegramAdapter] = field(default_factory=list)

    def make(self, **overrides: Any) -> TelegramAdapter:
        fake = overrides.pop("fake", self.fake)
        settings: dict[str, Any] = {
            "token": fake.token,
            "api_url": fake.base_url,
            "conversation": self.conversation,
            "renderer": self.renderer,
            "retry": POLICY,
            "poll_timeout": POLL_TIMEOUT,
            "limits": LIMITS,
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
    fake: FakeTelegram, conversation: Conversation, renderer: Renderer
) -> AsyncIterator[Bots]:
    made = Bots(fake, conversation, renderer)
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


# --- what the fake should receive ------------------------------------------------------------


async def _yes() -> bool:
    return True


async def _no() -> bool:
    return False


def kind_of(chat_id: int) -> str:
    return "private" if chat_id > 0 else "group"


@dataclass
class Mirror:
    """The conversation service on in-memory ports, told what the bot is told: its answers,
    rendered and made `sendMessage` parameters, are what the fake must receive."""

    library: Library
    renderer: Renderer
    states: MemoryChatStates = field(default_factory=MemoryChatStates)
    now: datetime = NOW

    def __post_init__(self) -> None:
        self.conversation = Conversation(self.library, self.states, lambda: self.now)

    async def say(
        self,
        text: str | None = None,
        *,
        chat_id: int = ALICE,
        press: str | None = None,
        user_id: int | None = None,
        locale: str | None = "en",
        admin: bool = True,
    ) -> list[Json]:
        kind = "private" if chat_id > 0 else "group"
        incoming = Incoming(
            ChatRef(PLATFORM, str(chat_id)),
            kind,
            str(user_id or chat_id),
            locale,
            text,
            action=press,
            is_admin=(_yes if admin else _no) if kind == "group" else None,
        )
        answer = await self.conversation.handle(incoming)
        return [send_message(m, chat_id) for m in self.renderer.render(answer.reply, "telegram")]

    def moved(self, old: int, new: int) -> None:
        self.conversation.chat_moved(ChatRef(PLATFORM, str(old)), str(new))


@pytest.fixture
def mirror(library: Library, renderer: Renderer) -> Mirror:
    return Mirror(library, renderer)


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


def shown(fake: FakeTelegram, chat_id: int) -> Json:
    """The last message the bot sent to the chat, as Telegram holds it now (after any edits)."""
    last = [c for c in fake.requests("sendMessage") if c.ok and c.params["chat_id"] == chat_id][-1]
    return fake.message(chat_id, last.result["message_id"])


def delivered(calls: list[Call]) -> list[Call]:
    return [c for c in calls if c.ok and c.method in ("sendMessage", "editMessageText")]


async def delivered_since(fake: FakeTelegram, first: int, count: int) -> list[Call]:
    """Wait until `count` messages were sent or edited from the fake's `first` call on."""
    await wait_until(lambda: len(delivered(fake.calls[first:])) >= count)
    return delivered(fake.calls[first:])


def plain(payloads: list[Json]) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", "\n".join(texts(payloads))))


# --- the fake and the reference -----------------------------------------------------------------


def test_requests_are_checked_against_the_bot_api_reference(spec: BotApiSpec | None) -> None:
    if spec is None:
        pytest.skip(f"{SPEC_PATH} is absent: requests are not checked against the Bot API")
    assert spec.check("sendMessage", {"chat_id": 1, "text": "hi", "parse_mode": "HTML"}) == []
    assert spec.check("getMe", {}) == []
    assert spec.check("getChatMember", {"chat_id": -1, "user_id": 2}) == []
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
        markup = {"inline_keyboard": [[{"text": "Tue", "callback_data": "a1.d.x.20240827"}]]}
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


# --- the dialogue shared with the core, the console and Slack ------------------------------


async def test_the_dialogue_through_telegram(
    fake: FakeTelegram, bot: TelegramAdapter, mirror: Mirror, caplog: pytest.LogCaptureFixture
) -> None:
    on: Json | None = None
    for step in DIALOGUE:
        want = await mirror.say(step.text, press=step.press)
        before = len(fake.calls)
        if step.press is not None:
            assert on is not None, "a button is pressed under a message the bot sent"
            fake.queue_update(callback_query(step.press, on=on, user_id=ALICE))
        else:
            assert step.text is not None
            fake.queue_update(private_message(step.text, chat_id=ALICE))
        got = await delivered_since(fake, before, len(want))
        if step.press is not None:
            # A button's answer replaces the message it sits on; what does not fit follows.
            assert on is not None
            assert [c.method for c in got] == ["editMessageText"] + ["sendMessage"] * (
                len(want) - 1
            )
            assert got[0].params == {**want[0], "message_id": on["message_id"]}, step
            assert [c.params for c in got[1:]] == want[1:], step
        else:
            assert [c.method for c in got] == ["sendMessage"] * len(want), step
            assert [c.params for c in got] == want, step
        said = plain([c.params for c in got])
        for fragment in step.says:
            assert fragment in said, f"{step}: {fragment!r} not in {said!r}"
        for fragment in step.never:
            assert fragment not in said, f"{step}: {fragment!r} in {said!r}"
        on = shown(fake, ALICE)
    assert len(fake.requests("answerCallbackQuery")) == sum(1 for s in DIALOGUE if s.press)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


# --- conversations ------------------------------------------------------------------------------


async def test_briefing_arrives_as_html_with_its_buttons_on_the_last_message(
    fake: FakeTelegram, bot: TelegramAdapter, mirror: Mirror, library: Library, renderer: Renderer
) -> None:
    fake.queue_update(private_message("/briefing", chat_id=ALICE))
    want = await mirror.say("/briefing")
    sent = await answered(fake, ALICE, len(want))

    assert sent == want
    assert all(m["parse_mode"] == "HTML" for m in sent)
    # One screen: one message, the visit, its dates and the day of it in bold.
    assert len(sent) == 1
    assert sent[0]["text"].startswith(
        "<b>The Mayor of Turin in Gwangju · 26–28 August 2024 · Day 2 of 3</b>"
    )
    assert all("reply_markup" not in m for m in sent[:-1])
    buttons = [b for row in sent[-1]["reply_markup"]["inline_keyboard"] for b in row]
    datas = [b["callback_data"] for b in buttons]
    assert encode(Action("day", AUGUST, date(2024, 8, 26))) in datas
    assert all(len(d.encode()) <= 64 for d in datas)
    assert all(library.codec.decode(d) is not None for d in datas)
    # The console contract: `briefing-bot chat --format telegram` prints these very payloads.
    out = io.StringIO()
    console = Conversation(library, SessionChatStates(), lambda: NOW, persistent=False)
    await ConsoleChat(console, renderer, "en", "telegram", out).answer("/briefing")
    printed = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [{**m, "chat_id": ALICE} for m in printed] == sent


async def test_itinerary_in_italian_for_an_italian_user(
    fake: FakeTelegram, bot: TelegramAdapter, mirror: Mirror
) -> None:
    fake.queue_update(private_message("/itinerary martedì", chat_id=ALICE, language_code="it"))
    want = await mirror.say("/itinerary martedì", locale="it")
    sent = await answered(fake, ALICE, len(want))
    assert sent == want
    assert "martedì 27 agosto 2024" in sent[0]["text"]
    assert "Tuesday" not in sent[0]["text"]


async def test_a_day_button_edits_the_message_in_place(
    fake: FakeTelegram, bot: TelegramAdapter, mirror: Mirror
) -> None:
    fake.queue_update(private_message("/itinerary tuesday", chat_id=ALICE))
    await answered(fake, ALICE, 1)
    on = shown(fake, ALICE)
    assert "reply_markup" in on

    wednesday = encode(Action("day", AUGUST, date(2024, 8, 28)))
    update = callback_query(wednesday, on=on, user_id=ALICE)
    fake.queue_update(update)
    await wait_until(lambda: any(c.ok for c in fake.requests("editMessageText")))

    [edit] = fake.requests("editMessageText")
    [want] = await mirror.say(press=wednesday)
    assert edit.params == {**want, "message_id": on["message_id"]}
    assert "Wednesday 28 August 2024" in edit.params["text"]
    assert fake.message(ALICE, on["message_id"])["text"] == want["text"]
    [answer] = fake.requests("answerCallbackQuery")
    assert answer.params["callback_query_id"] == update["callback_query"]["id"]
    assert len(fake.sent(ALICE)) == 1  # edited, not sent again


async def test_pressing_the_day_already_shown_changes_nothing(
    fake: FakeTelegram, bot: TelegramAdapter
) -> None:
    fake.queue_update(private_message("/itinerary tuesday", chat_id=ALICE))
    await answered(fake, ALICE, 1)
    on = shown(fake, ALICE)

    tuesday = encode(Action("day", AUGUST, date(2024, 8, 27)))
    fake.queue_update(callback_query(tuesday, on=on, user_id=ALICE))
    fake.queue_update(private_message("/itinerary wednesday", chat_id=ALICE))
    await answered(fake, ALICE, 2)  # handled in order: the press has been handled

    # Telegram refuses an edit that changes nothing; that is not a reason to send it again.
    assert statuses(fake, "editMessageText") == [400]
    assert len(fake.requests("answerCallbackQuery")) == 1
    assert "Wednesday 28 August 2024" in fake.sent(ALICE)[1]["text"]


async def test_a_press_too_old_to_answer_still_shows_the_day(
    fake: FakeTelegram, bot: TelegramAdapter
) -> None:
    fake.queue_update(private_message("/itinerary tuesday", chat_id=ALICE))
    await answered(fake, ALICE, 1)
    on = shown(fake, ALICE)
    # After a restart, presses from a while ago arrive too late to be answered.
    fake.fail(
        "answerCallbackQuery",
        error(
            400, "Bad Request: query is too old and response timeout expired or query id is invalid"
        ),
    )
    wednesday = encode(Action("day", AUGUST, date(2024, 8, 28)))
    fake.queue_update(callback_query(wednesday, on=on, user_id=ALICE))
    await wait_until(lambda: any(c.ok for c in fake.requests("editMessageText")))
    assert "Wednesday 28 August 2024" in fake.message(ALICE, on["message_id"])["text"]


async def test_a_forged_payload_gets_a_polite_answer(
    fake: FakeTelegram, bot: TelegramAdapter, mirror: Mirror, caplog: pytest.LogCaptureFixture
) -> None:
    fake.queue_update(private_message("/itinerary tuesday", chat_id=ALICE))
    await answered(fake, ALICE, 1)
    on = shown(fake, ALICE)
    for forged in ("itinerary 2024-08-28", "a1.d.ffffffff.20240899", "x" * 64):
        before = len(fake.requests("editMessageText"))
        fake.queue_update(callback_query(forged, on=on, user_id=ALICE))
        await wait_until(lambda n=before: len(fake.requests("editMessageText")) > n)
        [want, *_] = await mirror.say(press=forged)
        assert fake.requests("editMessageText")[-1].params["text"] == want["text"]
        assert "This button is out of date" in want["text"]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


# --- the one-screen briefing and its parts, opened in place (issue 9) ---------------------------

# The day after the August visit: the Korean article has reported what came of it.
AFTER = datetime(2024, 8, 29, 12, 0, tzinfo=SEOUL)
# Issue 9's one screen, counted on the text the reader sees (tags and entities aside).
SCREEN_LINES, SCREEN_CHARACTERS = 14, 1000


def keys(payload: Json) -> list[Json]:
    """The keys of a message's inline keyboard, row after row."""
    rows = payload.get("reply_markup", {}).get("inline_keyboard", [])
    return [key for row in rows for key in row]


def marked(payload: Json) -> list[str]:
    """The callback_data of the keys shown as the one selected."""
    return [k["callback_data"] for k in keys(payload) if k["text"].startswith(SELECTED)]


def pressed(library: Library, data: str) -> Action:
    action = library.codec.decode(data)
    assert action is not None, f"a key the bot cannot read back: {data!r}"
    return action


def assert_one_screen(summary: Json, now: datetime) -> None:
    """One message whose visible text fits the bounds, telling the hour's news: the day of the
    visit during it, what came of it after."""
    assert validate(summary["text"]) == []
    visible = telegram_text(summary["text"])
    assert len(visible.splitlines()) <= SCREEN_LINES, visible
    assert len(visible) <= SCREEN_CHARACTERS, visible
    if now == AFTER:
        assert label("summary_over", "en") in visible
        assert label("summary_came_of_it", "en") in visible
        assert label("summary_nothing_reported", "en") not in visible
    else:
        assert label("day_of", "en", n=2, total=3) in visible


@pytest.mark.parametrize("now", [NOW, AFTER], ids=["during", "after"])
async def test_briefing_opens_each_day_and_part_in_place_and_comes_back(
    fake: FakeTelegram,
    bots: Bots,
    states: SqlChatStates,
    library: Library,
    renderer: Renderer,
    now: datetime,
) -> None:
    """Every key of the one-screen briefing, pressed as Telegram sends it (the message it sits
    on, its exact callback_data): the part replaces that message, exactly as the core renders
    it, with its own key marked; its "Briefing" key brings the summary back in place."""
    mirror = Mirror(library, renderer, now=now)
    await bots.start(conversation=Conversation(library, states, lambda: now))
    fake.queue_update(private_message("/briefing", chat_id=ALICE))
    want = await mirror.say("/briefing")
    assert await answered(fake, ALICE, len(want)) == want

    [summary] = fake.sent(ALICE)
    assert_one_screen(summary, now)

    # Its keys: each day of the visit, then the briefing and each of its parts.
    visit = library.visit(AUGUST)
    assert visit is not None
    actions = {k["callback_data"]: pressed(library, k["callback_data"]) for k in keys(summary)}
    assert {a.visit for a in actions.values()} == {AUGUST}
    days = [data for data, a in actions.items() if a.view == "day"]
    assert [actions[data].day for data in days] == list(visit.days)
    parts = {a.view: data for data, a in actions.items() if a.view != "day"}
    assert list(parts) == ["briefing", *PARTS]
    assert set(marked(summary)) <= {parts["briefing"]}  # no day and no part shown as open

    on = shown(fake, ALICE)
    followers = 0
    for data in [*days, *(parts[view] for view in PARTS)]:
        want = await mirror.say(press=data)
        before = len(fake.calls)
        fake.queue_update(callback_query(data, on=on, user_id=ALICE))
        got = await delivered_since(fake, before, len(want))
        # The message pressed on shows the part; what a part cannot fit in one message follows.
        assert [c.method for c in got] == ["editMessageText"] + ["sendMessage"] * (len(want) - 1)
        assert got[0].params == {**want[0], "message_id": on["message_id"]}, actions[data]
        assert [c.params for c in got[1:]] == want[1:], actions[data]
        followers += len(want) - 1
        # The keyboard rides on the part's last message, with the pressed key marked.
        assert marked(got[-1].params) == [data]
        first = on["message_id"]
        on = fake.message(ALICE, got[-1].result["message_id"])
        assert on["reply_markup"] == got[-1].params["reply_markup"]

        # Back: that keyboard's "Briefing" key puts the one-screen summary where it sits.
        [back] = [
            k["callback_data"]
            for k in keys(on)
            if pressed(library, k["callback_data"]).view == "briefing"
        ]
        assert back == parts["briefing"]
        assert await mirror.say(press=back) == [summary]
        before = len(fake.calls)
        fake.queue_update(callback_query(back, on=on, user_id=ALICE))
        [edit] = await delivered_since(fake, before, 1)
        assert (edit.method, edit.params) == (
            "editMessageText",
            {**summary, "message_id": on["message_id"]},
        )
        on = fake.message(ALICE, on["message_id"])
        assert (on["text"], on["reply_markup"]) == (summary["text"], summary["reply_markup"])
        # A long part comes back on the message its keyboard rode on, the last one: the messages
        # before it keep the rest of the part (the first, the one pressed on, without keys).
        if len(want) > 1:
            assert fake.message(ALICE, first)["text"] == want[0]["text"]
            assert "reply_markup" not in fake.message(ALICE, first)

    # Every press answered, every edit accepted, and nothing sent but a long part's followers.
    presses = 2 * (len(days) + len(PARTS))
    assert len(fake.requests("answerCallbackQuery")) == presses
    assert statuses(fake, "editMessageText") == [200] * presses
    assert len(fake.sent(ALICE)) == 1 + followers


async def test_the_command_menu_is_the_core_command_table_in_each_language(
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
    fake: FakeTelegram, bots: Bots, databases: Databases, library: Library, mirror: Mirror
) -> None:
    first = await bots.start()
    fake.queue_update(private_message("/lang ko", chat_id=ALICE, language_code="en"))
    await answered(fake, ALICE, 1)
    await mirror.say("/lang ko")
    await bots.stop(first)

    # A new process on the same database file.
    again = Conversation(library, SqlChatStates(databases.open()), lambda: NOW)
    await bots.start(conversation=again)
    fake.queue_update(private_message("/itinerary day 2", chat_id=ALICE, language_code="en"))
    want = await mirror.say("/itinerary day 2")
    sent = await answered(fake, ALICE, 1 + len(want))
    assert sent[1:] == want
    assert HANGUL.search(sent[1]["text"])
    assert "Tuesday" not in sent[1]["text"]


async def test_in_a_group_only_commands_for_this_bot_are_answered(
    fake: FakeTelegram, bot: TelegramAdapter, mirror: Mirror
) -> None:
    fake.queue_update(group_message("/itinerary@OtherBot tuesday", chat_id=GROUP))
    fake.queue_update(group_message("martedì", chat_id=GROUP))
    fake.queue_update(group_message("/itinerary@BriefingsBot tuesday", chat_id=GROUP))
    fake.queue_update(private_message("martedì", chat_id=ALICE, language_code="it"))

    want_private = await mirror.say("martedì", locale="it")
    await answered(fake, ALICE, len(want_private))  # updates are handled in order
    want_group = await mirror.say("/itinerary@BriefingsBot tuesday", chat_id=GROUP, user_id=MEMBER)
    assert fake.sent(GROUP) == want_group
    assert "Tuesday 27 August 2024" in fake.sent(GROUP)[0]["text"]
    assert fake.sent(ALICE) == want_private
    assert "martedì 27 agosto 2024" in fake.sent(ALICE)[0]["text"]
    assert fake.requests("getChatMember") == []  # reading needs no permission


# --- who may change a group's settings -----------------------------------------------------


async def test_in_a_group_only_admins_change_shared_settings(
    fake: FakeTelegram, bot: TelegramAdapter, states: SqlChatStates
) -> None:
    fake.members[GROUP, ADMIN] = "administrator"
    fake.members[GROUP, OWNER] = "creator"
    group = ChatRef(PLATFORM, str(GROUP))

    async def say(text: str, user_id: int) -> str:
        before = len(fake.sent(GROUP))
        fake.queue_update(group_message(text, chat_id=GROUP, user_id=user_id))
        return plain((await answered(fake, GROUP, before + 1))[before:])

    for text in ("/lang it", "/visit 2", "/subscribe", "/subscribe 08:00 Europe/Rome"):
        assert await say(text, MEMBER) == REFUSED, text
    assert states.state(group).lang is None
    assert states.state(group).visit is None
    assert states.state(group).subscription is None

    assert "Subscribed" in await say("/subscribe@BriefingsBot", ADMIN)
    assert await say("/unsubscribe", MEMBER) == REFUSED
    assert states.state(group).subscription is not None
    assert "Unsubscribed" in await say("/unsubscribe", OWNER)
    assert states.state(group).subscription is None
    assert "italiano" in await say("/lang it", OWNER)
    assert states.state(group).lang == "it"
    assert "Il sindaco di Gwangju a Torino" in await say("/visit 2", ADMIN)
    assert states.state(group).visit == "kang-turin-2024-04"

    asked = [(c.params["chat_id"], c.params["user_id"]) for c in fake.requests("getChatMember")]
    assert set(asked) == {(GROUP, MEMBER), (GROUP, ADMIN), (GROUP, OWNER)}


# --- chat state regressions (issue 8) -----------------------------------------------------------


@dataclass
class Digests:
    """The scheduler's side: a Dispatcher with the real Ledger on the bot's database, sending
    through the adapter's sender, as `bot.runtime` wires them."""

    dispatcher: Dispatcher
    library: Library
    renderer: Renderer
    clock: list[datetime]

    async def run(self, at: datetime) -> Report:
        self.clock[0] = at
        return await self.dispatcher.run_once(at)

    def expected(self, kind: DigestKind, day: date, lang: str, chat_id: int) -> list[Json]:
        visit = self.library.visit(AUGUST)
        assert visit is not None
        partnership = self.library.partnership_of(visit)
        digest = Digest(AUGUST, kind, day)
        # Every chat in these tests subscribes at the default time in the visit's zone.
        at = due_at(digest, DEFAULT_TIME, visit.timezone)
        reply = digest_reply(digest, visit, partnership, self.library.articles, lang, at=at)  # type: ignore[arg-type]
        return [send_message(m, chat_id) for m in self.renderer.render(reply, "telegram")]


@pytest.fixture
def digests(
    bot: TelegramAdapter,
    engine: Engine,
    library: Library,
    renderer: Renderer,
    conversation: Conversation,
) -> Digests:
    clock = [NOW]
    sender = TelegramDigestSender(bot.sender, renderer, conversation)
    dispatcher = Dispatcher(
        Ledger(engine, owner="test"),
        library,
        {PLATFORM: sender},
        lambda: clock[0],
        DeliveryPolicy(grace=timedelta(hours=2)),
    )
    return Digests(dispatcher, library, renderer, clock)


WEDNESDAY_MORNING = datetime(2024, 8, 28, 7, 31, tzinfo=SEOUL)
RECAP_MORNING = datetime(2024, 8, 29, 7, 31, tzinfo=SEOUL)


async def test_a_chat_that_blocks_and_unblocks_gets_digests_again(
    fake: FakeTelegram, digests: Digests, states: SqlChatStates, mirror: Mirror
) -> None:
    alice = ChatRef(PLATFORM, str(ALICE))
    fake.queue_update(private_message("/subscribe", chat_id=ALICE))
    await answered(fake, ALICE, len(await mirror.say("/subscribe")))
    fake.queue_update(my_chat_member(ALICE, "member", "kicked", by=ALICE))
    await wait_until(lambda: not states.state(alice).reachable)

    report = await digests.run(WEDNESDAY_MORNING)
    assert report.sent == 0  # a blocked chat's digests wait for it

    fake.queue_update(my_chat_member(ALICE, "kicked", "member", by=ALICE))
    await wait_until(lambda: states.state(alice).reachable)
    before = len(fake.sent(ALICE))
    report = await digests.run(RECAP_MORNING)
    assert report.sent == 1
    want = digests.expected("recap", date(2024, 8, 29), "en", ALICE)
    assert fake.sent(ALICE)[before:] == want

    before = len(fake.sent(ALICE))
    fake.queue_update(private_message("/subscriptions", chat_id=ALICE))
    want = await mirror.say("/subscriptions")
    sent = await answered(fake, ALICE, before + len(want))
    assert sent[before:] == want
    assert "07:30" in plain(want)


async def test_a_chat_blocked_while_a_digest_goes_out_waits_for_its_return(
    fake: FakeTelegram, digests: Digests, states: SqlChatStates, mirror: Mirror
) -> None:
    fake.queue_update(private_message("/subscribe", chat_id=ALICE))
    await answered(fake, ALICE, len(await mirror.say("/subscribe")))
    fake.block(ALICE)
    report = await digests.run(WEDNESDAY_MORNING)
    assert (report.sent, report.blocked) == (0, 1)
    assert not states.state(ChatRef(PLATFORM, str(ALICE))).reachable


async def test_a_group_migrated_to_a_supergroup_keeps_and_can_cancel_its_subscription(
    fake: FakeTelegram, digests: Digests, states: SqlChatStates, mirror: Mirror
) -> None:
    old, new = -4005, -1004005
    fake.members[old, ADMIN] = fake.members[new, ADMIN] = "administrator"
    fake.queue_update(group_message("/subscribe", chat_id=old, user_id=ADMIN))
    await answered(fake, old, len(await mirror.say("/subscribe", chat_id=old, user_id=ADMIN)))

    notice = group_message("", chat_id=old, user_id=ADMIN)
    del notice["message"]["text"]
    notice["message"]["migrate_to_chat_id"] = new
    fake.queue_update(notice)
    mirror.moved(old, new)
    fake.queue_update(group_message("/subscriptions", chat_id=new, user_id=MEMBER))
    want = await mirror.say("/subscriptions", chat_id=new, user_id=MEMBER)
    assert await answered(fake, new, len(want)) == want
    assert "07:30" in plain(want)

    fake.queue_update(group_message("/unsubscribe@BriefingsBot", chat_id=new, user_id=ADMIN))
    want += await mirror.say("/unsubscribe@BriefingsBot", chat_id=new, user_id=ADMIN)
    assert await answered(fake, new, len(want)) == want
    assert "Unsubscribed" in plain(want)
    assert states.state(ChatRef(PLATFORM, str(new))).subscription is None
    assert states.state(ChatRef(PLATFORM, str(old))).subscription is None
    report = await digests.run(WEDNESDAY_MORNING)
    assert report.sent == 0


async def test_lang_after_subscribe_makes_the_digests_korean(
    fake: FakeTelegram, digests: Digests, mirror: Mirror
) -> None:
    for text in ("/subscribe", "/lang ko"):
        fake.queue_update(private_message(text, chat_id=ALICE))
        await answered(fake, ALICE, len(fake.sent(ALICE)) + len(await mirror.say(text)))
    before = len(fake.sent(ALICE))
    report = await digests.run(WEDNESDAY_MORNING)
    assert report.sent == 1
    want = digests.expected("morning", date(2024, 8, 28), "ko", ALICE)
    assert fake.sent(ALICE)[before:] == want
    assert HANGUL.search(plain(want))
    assert "Wednesday" not in plain(want)


async def test_subscriptions_answers_in_the_chats_language(
    fake: FakeTelegram, bot: TelegramAdapter, mirror: Mirror
) -> None:
    for text in ("/lang it", "/subscribe 08:00 Europe/Rome", "/subscriptions"):
        fake.queue_update(private_message(text, chat_id=ALICE, language_code="en"))
        want = await mirror.say(text, locale="en")
        sent = await answered(fake, ALICE, len(fake.sent(ALICE)) + len(want))
        assert sent[-len(want) :] == want
    said = plain(want)
    assert "08:00" in said
    assert "Europe/Rome" in said
    assert "Subscri" not in said  # Italian, not the user's English


# --- webhook ------------------------------------------------------------------------------------


async def test_webhook_needs_the_secret(
    fake: FakeTelegram, bots: Bots, http: HttpServer, mirror: Mirror
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

    want = await mirror.say("/itinerary tuesday")
    assert await answered(fake, ALICE, len(want)) == want
    assert fake.sent(BOB) == []
    [webhook] = fake.requests("setWebhook")
    assert webhook.params["url"] == hook
    assert webhook.params["secret_token"] == secret
    assert {"message", "callback_query", "my_chat_member"} <= set(webhook.params["allowed_updates"])
    assert fake.requests("getUpdates") == []


async def test_typed_messages_by_webhook_are_answered_as_ptb_would_and_the_rest_by_ptb(
    fake: FakeTelegram, bots: Bots, http: HttpServer, mirror: Mirror, states: SqlChatStates
) -> None:
    """Typed messages posted to the webhook are read from their JSON (bot/telegram/typed.py):
    each is answered, or not, as by PTB's handlers; a button, a membership change and a
    message of any other shape still go through PTB, in the chat's order."""
    secret = "webhook-secret-0123456789"  # noqa: S105 - a test value
    adapter = bots.make(
        webhook_url="https://briefings.example.org/telegram", webhook_secret=secret, http=http
    )
    await http.start()
    await bots.start(adapter)
    url = f"http://127.0.0.1:{http.port}/telegram"
    anonymous = group_message("/lang it", chat_id=GROUP, user_id=1087968824)
    anonymous["message"]["sender_chat"] = {"id": GROUP, "type": "group", "title": "Partnership"}
    reply = private_message("/itinerary wednesday", chat_id=ALICE)
    reply["message"]["reply_to_message"] = private_message("hi", chat_id=ALICE)["message"]
    updates = [
        private_message("/itinerary tuesday", chat_id=ALICE),
        group_message("/lang@OtherBot ko", chat_id=GROUP),
        group_message("martedì", chat_id=GROUP),
        anonymous,
        group_message("/itinerary@BriefingsBot tuesday", chat_id=GROUP),
        private_message("   ", chat_id=BOB),
        reply,  # a reply: PTB's to read
        my_chat_member(BOB, "member", "kicked", by=BOB),
    ]
    async with aiohttp.ClientSession() as session:
        for n, body in enumerate(updates, 1):
            async with session.post(
                url, json={"update_id": n, **body}, headers={SECRET_HEADER: secret}
            ) as response:
                assert response.status == 200

    want_alice = await mirror.say("/itinerary tuesday") + await mirror.say("/itinerary wednesday")
    want_group = await mirror.say("/lang it", chat_id=GROUP, user_id=1087968824)
    want_group += await mirror.say("/itinerary@BriefingsBot tuesday", chat_id=GROUP)
    want_bob = await mirror.say("   ", chat_id=BOB)
    assert await answered(fake, ALICE, len(want_alice)) == want_alice
    assert await answered(fake, GROUP, len(want_group)) == want_group
    assert await answered(fake, BOB, len(want_bob)) == want_bob
    assert "martedì 27 agosto 2024" in fake.sent(GROUP)[-1]["text"]  # the group's Italian now
    assert fake.requests("getChatMember") == []  # an anonymous admin is the group itself

    # Bob blocked the bot (PTB's membership handler): his digests wait for his return.
    await wait_until(lambda: not states.state(ChatRef(PLATFORM, str(BOB))).reachable)
    pressed = shown(fake, ALICE)  # Wednesday's: a button back to Tuesday
    tuesday = encode(Action("day", AUGUST, date(2024, 8, 27)))
    async with aiohttp.ClientSession() as session:
        button = {"update_id": 99, **callback_query(tuesday, on=pressed, user_id=ALICE)}
        async with session.post(url, json=button, headers={SECRET_HEADER: secret}) as response:
            assert response.status == 200
    await wait_until(lambda: any(c.ok for c in fake.requests("editMessageText")))
    [want] = await mirror.say(press=tuesday)
    [edit] = fake.requests("editMessageText")
    assert edit.params == {**want, "message_id": pressed["message_id"]}


# --- faults -------------------------------------------------------------------------------------


async def test_flood_limit_waits_and_delivers_once(
    fake: FakeTelegram, bot: TelegramAdapter, mirror: Mirror, caplog: pytest.LogCaptureFixture
) -> None:
    fake.fail("sendMessage", too_many_requests(retry_after=1))
    fake.queue_update(private_message("/itinerary tuesday", chat_id=ALICE))
    [want] = await mirror.say("/itinerary tuesday")
    await answered(fake, ALICE, 1)
    # A later update answered means the first one is done with: no late duplicate.
    fake.queue_update(private_message("/itinerary wednesday", chat_id=ALICE))
    await answered(fake, ALICE, 2)

    tries = [c for c in fake.requests("sendMessage") if c.params["text"] == want["text"]]
    assert [c.status for c in tries] == [429, 200]
    # It waited as long as Telegram asked.
    assert any("flood limit, retrying in 1.0 s" in r.getMessage() for r in caplog.records)
    assert texts(fake.sent(ALICE)).count(want["text"]) == 1


async def test_a_dropped_connection_is_retried_and_delivers_once(
    fake: FakeTelegram, bot: TelegramAdapter, mirror: Mirror
) -> None:
    fake.fail("sendMessage", dropped_connection(), times=POLICY.attempts - 1)
    fake.queue_update(private_message("/itinerary tuesday", chat_id=ALICE))
    want = await mirror.say("/itinerary tuesday")
    assert await answered(fake, ALICE, len(want)) == want
    assert statuses(fake, "sendMessage") == [0] * (POLICY.attempts - 1) + [200] * len(want)


async def test_a_chat_that_blocked_the_bot_is_unreachable_and_others_are_served(
    fake: FakeTelegram, bot: TelegramAdapter, states: SqlChatStates, mirror: Mirror
) -> None:
    fake.block(ALICE)
    fake.queue_update(private_message("/briefing", chat_id=ALICE))
    fake.queue_update(private_message("/itinerary tuesday", chat_id=BOB))
    want = await mirror.say("/itinerary tuesday", chat_id=BOB)
    assert await answered(fake, BOB, len(want)) == want

    assert statuses(fake, "sendMessage", ALICE) == [403]  # nothing more tried after a 403
    assert fake.sent(ALICE) == []
    assert states.state(ChatRef(PLATFORM, str(ALICE))).reachable is False
    assert states.state(ChatRef(PLATFORM, str(BOB))).reachable is True


async def test_a_burst_of_server_errors_does_not_stop_the_bot(
    fake: FakeTelegram, bot: TelegramAdapter, mirror: Mirror
) -> None:
    # One more failure than the attempts for the first reply, then one for the second.
    fake.fail("sendMessage", server_error(), times=POLICY.attempts + 2)
    fake.queue_update(private_message("/itinerary tuesday", chat_id=ALICE))
    fake.queue_update(private_message("/itinerary wednesday", chat_id=ALICE))
    [lost] = await mirror.say("/itinerary tuesday")
    [retried] = await mirror.say("/itinerary wednesday")
    await answered(fake, ALICE, 1)
    assert bot.application.running
    assert bot.application.updater is not None
    assert bot.application.updater.running

    fake.queue_update(private_message("/itinerary monday", chat_id=ALICE))
    [monday] = await mirror.say("/itinerary monday")
    assert await answered(fake, ALICE, 2) == [retried, monday]
    assert statuses(fake, "sendMessage") == [500] * (POLICY.attempts + 2) + [200, 200]
    assert lost["text"] not in texts(fake.sent())


async def test_rejected_html_goes_out_as_plain_text(
    fake: FakeTelegram, bot: TelegramAdapter, mirror: Mirror, caplog: pytest.LogCaptureFixture
) -> None:
    fake.fail(
        "sendMessage",
        error(400, "Bad Request: can't parse entities: Unsupported start tag at byte offset 0"),
    )
    fake.queue_update(private_message("/itinerary wednesday", chat_id=ALICE))
    [want] = await mirror.say("/itinerary wednesday")
    [sent] = await answered(fake, ALICE, 1)

    assert "parse_mode" not in sent
    assert "<" not in sent["text"]
    assert sent["text"] == html.unescape(re.sub(r"<[^>]+>", "", want["text"]))
    assert sent["reply_markup"] == want["reply_markup"]
    assert statuses(fake, "sendMessage") == [400, 200]
    assert any("plain text" in r.getMessage() for r in caplog.records if r.levelname == "ERROR")


async def test_a_migrated_group_is_followed_to_its_new_id(
    fake: FakeTelegram, bot: TelegramAdapter, states: SqlChatStates, mirror: Mirror
) -> None:
    old, new = -4005, -1004005
    states.set_lang(ChatRef(PLATFORM, str(old)), "it")
    mirror.states.set_lang(ChatRef(PLATFORM, str(old)), "it")
    fake.migrate(old, new)
    fake.queue_update(group_message("/itinerary@BriefingsBot tuesday", chat_id=old))
    said = await mirror.say("/itinerary@BriefingsBot tuesday", chat_id=old, user_id=MEMBER)
    want = [{**m, "chat_id": new} for m in said]
    assert await answered(fake, new, len(want)) == want

    assert statuses(fake, "sendMessage", old) == [400]
    # The fake has the message before the adapter has read Telegram's answer and moved the chat.
    await wait_until(lambda: states.state(ChatRef(PLATFORM, str(new))).lang == "it")
    assert states.state(ChatRef(PLATFORM, str(old))).lang is None


async def test_a_migration_notice_moves_the_chat(
    fake: FakeTelegram, bot: TelegramAdapter, states: SqlChatStates
) -> None:
    old, new = -4006, -1004006
    states.set_lang(ChatRef(PLATFORM, str(old)), "ko")
    notice = group_message("", chat_id=old)
    del notice["message"]["text"]
    notice["message"]["migrate_to_chat_id"] = new
    fake.queue_update(notice)
    fake.queue_update(private_message("/itinerary tuesday", chat_id=ALICE))
    await answered(fake, ALICE, 1)  # handled in order: the notice has been handled
    assert states.state(ChatRef(PLATFORM, str(new))).lang == "ko"
    assert states.state(ChatRef(PLATFORM, str(old))).lang is None


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
    mirror: Mirror,
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
    want = await mirror.say("/briefing")
    await answered(fake, ALICE, len(want) + 1)

    logged = "\n".join(debug_logs.lines)
    assert "sendMessage" in logged  # the capture did see the traffic
    assert "Traceback" in logged  # and exception text
    assert "/bot***/sendMessage" in logged  # the transport's request lines, masked
    assert TOKEN not in logged
    assert TOKEN.split(":", 1)[1] not in logged
    assert "SECRET-TOKEN" not in logged


def test_a_malformed_log_call_neither_raises_nor_leaks(debug_logs: Capture) -> None:
    install_redaction([TOKEN])
    logging.getLogger("briefings.test").warning("%d updates for %s", "many", TOKEN)
    [line] = debug_logs.lines
    assert "many" in line
    assert TOKEN not in line


# --- files: /calendar and /book -------------------------------------------------------------


async def test_calendar_and_book_arrive_as_documents(
    fake: FakeTelegram, bot: TelegramAdapter, library: Library
) -> None:
    """Sent with sendDocument as multipart uploads the Bot API reference accepts (the fixture
    checks every request), the file as the core built it, captioned with what it holds."""
    from icalendar import Calendar

    from fakes.telegram_api import Upload

    fake.queue_update(private_message("/calendar", language_code="it"))
    await wait_until(lambda: len(fake.documents(ALICE)) >= 1)
    fake.queue_update(private_message("/book", language_code="it"))
    await wait_until(lambda: len(fake.documents(ALICE)) >= 2)
    calendar, book = fake.documents(ALICE)
    assert isinstance(calendar["document"], Upload)
    assert isinstance(book["document"], Upload)
    assert calendar["document"].filename == f"{AUGUST}.it.ics"
    assert calendar["document"].content_type == "text/calendar"
    events = Calendar.from_ical(calendar["document"].data).walk("VEVENT")
    visit = library.visit(AUGUST)
    assert visit is not None
    assert len(events) == sum(1 for e in visit.programme if e.date)
    for event in visit.undated_events:
        assert html.escape(event.title("it"), quote=False) in calendar["caption"]
    assert book["document"].filename == f"{AUGUST}.it.html"
    assert book["document"].content_type == "text/html"
    assert book["document"].data.startswith(b"<!DOCTYPE html>")
    assert b'<html lang="it">' in book["document"].data
    # No public URL configured: the file is the whole answer.
    assert fake.sent(ALICE) == []
