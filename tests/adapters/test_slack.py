"""The Slack adapter as Slack sees it: the real Bolt AsyncApp served over HTTP on 127.0.0.1 (and
over a Socket Mode WebSocket), its Web API client pointed at a fake Slack, asserted on what that
fake receives.

Requests are signed as Slack signs them; each test has its own fake, its own HTTP server and its
own SQLite database; the clock is fixed during the August visit (Tuesday 27 August 2024, 09:00
in Gwangju). What the adapter sends is compared with the core's own answer: the conversation
service's reply for the same question on a fresh in-memory conversation in the same state,
rendered for Slack by `bot.slack.payloads`, plus only what the route adds.
"""

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import aiohttp
import pytest
import yaml
from slack_sdk.errors import SlackApiError, SlackObjectFormationError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import Engine

from bot.http import HttpServer
from bot.settings import Settings
from bot.slack.adapter import EVENTS_PATH, PLATFORM, SlackAdapter
from bot.slack.payloads import (
    HOME_MAX_BLOCKS,
    SHARE_ACTION,
    SHARE_PRESS,
    ResponseType,
    home_view,
    post_message,
    response_body,
    with_share_button,
)
from bot.slack.text import split_share, strip_mention, unescape
from briefings.actions import Action, encode
from briefings.conversation import Conversation, Incoming
from briefings.dossier import Text
from briefings.labels import label
from briefings.library import Library
from briefings.loader import Seeds
from briefings.ports import ChatKind, ChatRef
from briefings.rendering.renderer import SLACK_MAX_BLOCKS, Renderer
from briefings.replies import Reply, Say
from briefings.views import PARTS, notice_reply
from fakes.memory import MemoryChatStates
from fakes.slack_api import (
    APP_TOKEN,
    BOT_TOKEN,
    BOT_USER,
    NEWER_EVENTS,
    OTHER_TEAM,
    SIGNING_SECRET,
    TEAM,
    Call,
    EventsSpec,
    FakeSlack,
    Fault,
    Json,
    WebApiSpec,
    action_body,
    block_action,
    event_callback,
    form_body,
    rate_limited,
    server_error,
    sign,
    slash_command,
)
from storage.chats import SqlChatStates
from storage.engine import make_engine
from storage.migrate import upgrade
from storage.seen import SqlSeenRequests
from tests.dialogue import AUGUST, DIALOGUE, FORGED, NOW

from ..conftest import ROOT, SEOUL, SHARED

WEB_SPEC = SHARED / "specs" / "slack-web-api.openapi2.json"
EVENTS_SPEC = SHARED / "specs" / "slack-events-api.asyncapi.json"
MANIFEST = ROOT / "bot" / "slack" / "manifest.yaml"
ALICE, BOB, CAROL = "U0ALICE", "U0BOB", "U0CAROL"
DM = "D0ALICE"
GENERAL = "C0GENERAL"
PARTNERS = "C0PARTNERS"
# The fake's users.info answers this locale for anyone it was not told about.
FAKE_LOCALE = "en-US"
TUESDAY = encode(Action("day", AUGUST, NOW.date()))
WEDNESDAY = encode(Action("day", AUGUST, NOW.date() + timedelta(days=1)))
# Slack gives up on an acknowledgement after this long.
ACK_DEADLINE = 3.0
INJECTIONS = ("<!channel>", "<@U123>", "<http://evil.example|click>")
HANGUL = re.compile(r"[\uac00-\ud7a3]")


# --- fixtures -----------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """slack_sdk sends even 127.0.0.1 through a proxy named in the environment: keep tests local."""
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def web_spec() -> WebApiSpec | None:
    return WebApiSpec.load(WEB_SPEC)


@pytest.fixture(scope="session")
def events_spec() -> EventsSpec | None:
    return EventsSpec.load(EVENTS_SPEC)


@pytest.fixture
async def fake(web_spec: WebApiSpec | None) -> AsyncIterator[FakeSlack]:
    """A fake Slack; at teardown, every call it got must fit Slack's spec and every blocks
    payload must pass slack_sdk's own validation."""
    server = FakeSlack(web_spec)
    await server.start()
    yield server
    await server.close()
    assert server.violations == [], "calls that break Slack's Web API spec"
    assert payload_problems(server) == []


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    made = make_engine(f"sqlite:///{tmp_path / 'briefings.db'}")
    upgrade(made)
    yield made
    made.dispose()


@pytest.fixture
def conversation(library: Library, engine: Engine) -> Conversation:
    return Conversation(library, SqlChatStates(engine), lambda: NOW)


@dataclass
class Bot:
    """A running SlackAdapter in HTTP mode, and a way to reach it as Slack does."""

    fake: FakeSlack
    adapter: SlackAdapter
    server: HttpServer
    session: aiohttp.ClientSession
    events_spec: EventsSpec | None
    acks: list[float] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}{EVENTS_PATH}"

    async def post(
        self,
        body: str,
        content_type: str,
        *,
        headers: dict[str, str] | None = None,
        signature: dict[str, str] | None = None,
    ) -> tuple[int, str]:
        sent = {"Content-Type": content_type, **(signature or sign(body)), **(headers or {})}
        start = time.perf_counter()
        async with self.session.post(self.url, data=body.encode(), headers=sent) as response:
            text = await response.text()
        self.acks.append(time.perf_counter() - start)
        return response.status, text

    async def command(self, text: str, name: str, **fields: Any) -> tuple[int, str]:
        body = form_body(slash_command(text, self.fake.response_url(name), **fields))
        return await self.post(body, "application/x-www-form-urlencoded")

    async def ask(self, text: str, name: str, **fields: Any) -> list[Json]:
        """A slash command, and the bodies posted to its response_url once it is answered."""
        await self.command(text, name, **fields)
        await self.fake.wait_for(lambda: bool(self.fake.answered(name)))
        return self.fake.answered(name)

    async def event(
        self, event: Json, *, headers: dict[str, str] | None = None, **wrapper: Any
    ) -> tuple[int, str]:
        envelope = event_callback(event, **wrapper)
        return await self.event_body(json.dumps(envelope), headers=headers)

    async def event_body(self, body: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
        if self.events_spec is not None:
            assert self.events_spec.check(json.loads(body)) == [], "a malformed test event"
        return await self.post(body, "application/json", headers=headers)

    async def action(self, payload: Json) -> tuple[int, str]:
        return await self.post(action_body(payload), "application/x-www-form-urlencoded")


@dataclass
class Bots:
    fake: FakeSlack
    conversation: Conversation
    renderer: Renderer
    events_spec: EventsSpec | None
    seen: SqlSeenRequests
    running: list[Bot] = field(default_factory=list)

    def make(self, http: HttpServer | None = None, **overrides: Any) -> SlackAdapter:
        settings: dict[str, Any] = {
            "bot_token": BOT_TOKEN,
            "signing_secret": SIGNING_SECRET,
            "api_url": self.fake.api_url,
            "conversation": self.conversation,
            "renderer": self.renderer,
            "http": http,
            "seen": self.seen,
        }
        return SlackAdapter(**{**settings, **overrides})

    async def start(self, **overrides: Any) -> Bot:
        server = HttpServer("127.0.0.1", 0)
        adapter = self.make(http=server, **overrides)
        session = aiohttp.ClientSession()
        bot = Bot(self.fake, adapter, server, session, self.events_spec)
        self.running.append(bot)
        await adapter.start()
        await server.start()
        return bot

    async def stop_all(self) -> None:
        for bot in reversed(self.running):
            await bot.server.stop()
            await bot.adapter.stop()
            await bot.session.close()
        self.running.clear()


@pytest.fixture
async def bots(
    fake: FakeSlack,
    conversation: Conversation,
    renderer: Renderer,
    events_spec: EventsSpec | None,
    engine: Engine,
) -> AsyncIterator[Bots]:
    made = Bots(fake, conversation, renderer, events_spec, SqlSeenRequests(engine))
    yield made
    await made.stop_all()


@pytest.fixture
async def bot(bots: Bots) -> Bot:
    return await bots.start()


# --- what the core answers, as Slack bodies -----------------------------------------------------


@dataclass
class Core:
    """A fresh in-memory conversation: the reference the adapter's answers are compared with.

    Questions are asked as the adapter asks them (the chat is the channel, text is `words`, the
    fake's locale); `ask` replays any earlier steps that put the chat in the same state."""

    library: Library
    states: MemoryChatStates = field(default_factory=MemoryChatStates)
    now: datetime = NOW

    async def reply(
        self,
        words: str | None = None,
        *,
        press: str | None = None,
        channel: str = GENERAL,
        user: str = ALICE,
        locale: str | None = FAKE_LOCALE,
    ) -> Reply:
        conversation = Conversation(self.library, self.states, lambda: self.now)
        kind: ChatKind = "private" if channel.startswith("D") else "channel"

        async def admin() -> bool:
            return True

        incoming = Incoming(
            ChatRef(PLATFORM, channel),
            kind,
            user,
            locale,
            text=words,
            words=words is not None,
            action=press,
            is_admin=admin,
        )
        return (await conversation.handle(incoming)).reply


@pytest.fixture
def core(library: Library) -> Core:
    return Core(library)


def posts(reply: Reply, channel: str, thread_ts: str | None = None) -> list[Json]:
    return [post_message(m, channel, thread_ts) for m in Renderer().render(reply, "slack")]


def bodies(
    reply: Reply,
    response_type: ResponseType,
    *,
    replace_original: bool = False,
    share: tuple[str, str] | None = None,
) -> list[Json]:
    """What the adapter posts to a response_url: the first message replaces the original when
    asked to, and a private answer ends with a Share button."""
    messages = Renderer().render(reply, "slack")
    made = []
    for n, message in enumerate(messages):
        body = response_body(message, response_type, replace_original=replace_original and n == 0)
        if share is not None and n == len(messages) - 1:
            body = with_share_button(body, share[1], reply.lang, action_id=share[0])
        made.append(body)
    return made


def without_channel(payload: Json) -> Json:
    return {k: v for k, v in payload.items() if k != "channel"}


def selected(blocks: list[Json]) -> str | None:
    """The value of the highlighted button: which view (which day) a message shows."""
    for block in blocks:
        if block.get("block_id") == "go":
            for element in block["elements"]:
                if element.get("style") == "primary":
                    return str(element["value"])
    return None


def block_problems(blocks: list[Json], limit: int = SLACK_MAX_BLOCKS) -> list[str]:
    problems = [] if 1 <= len(blocks) <= limit else [f"{len(blocks)} blocks (limit {limit})"]
    for n, block in enumerate(blocks):
        try:
            parsed = Block.parse(block)
            if parsed is None:
                problems.append(f"block {n}: slack_sdk does not know {block.get('type')!r}")
            else:
                parsed.validate_json()
        except SlackObjectFormationError as exc:
            problems.append(f"block {n}: {exc}")
    return problems


def payload_problems(fake: FakeSlack) -> list[str]:
    """Every blocks payload the fake received, judged by slack_sdk's models."""
    problems: list[str] = []
    for call in fake.called("chat.postMessage") + fake.called("chat.update"):
        problems += [f"{call.method}: {p}" for p in block_problems(call.args["blocks"])]
    for call in fake.called("views.publish"):
        view = call.args["view"]
        problems += [f"views.publish: {p}" for p in block_problems(view["blocks"], HOME_MAX_BLOCKS)]
        try:
            View(**view).validate_json()
        except SlackObjectFormationError as exc:
            problems.append(f"views.publish: {exc}")
    for name, body in fake.responses:
        if "blocks" in body:
            problems += [f"response {name}: {p}" for p in block_problems(body["blocks"])]
    return problems


def dm(text: str, user: str = ALICE, **extra: Any) -> Json:
    return {
        "type": "message",
        "channel_type": "im",
        "channel": DM,
        "user": user,
        "text": text,
        "ts": f"{time.time():.6f}",
        **extra,
    }


def mention(text: str, user: str = ALICE, **extra: Any) -> Json:
    return {
        "type": "app_mention",
        "channel": GENERAL,
        "user": user,
        "text": text,
        "ts": f"{time.time():.6f}",
        **extra,
    }


def home_opened(user: str = ALICE) -> Json:
    return {"type": "app_home_opened", "user": user, "channel": DM, "tab": "home"}


def ephemeral(channel: str = GENERAL) -> Json:
    return {"type": "message", "is_ephemeral": True, "channel_id": channel}


# --- construction -------------------------------------------------------------------------------


def test_building_the_adapter_connects_to_nothing(
    conversation: Conversation, renderer: Renderer, engine: Engine
) -> None:
    """Outside any event loop, with an address nothing listens on: building must not touch it."""
    common: dict[str, Any] = {
        "bot_token": BOT_TOKEN,
        "api_url": "http://127.0.0.1:9/api",
        "conversation": conversation,
        "renderer": renderer,
        "seen": SqlSeenRequests(engine),
    }
    server = HttpServer("127.0.0.1", 0)
    http = SlackAdapter(**common, signing_secret=SIGNING_SECRET, http=server)
    socket = SlackAdapter(**common, app_token=APP_TOKEN)
    assert (http.mode, socket.mode) == ("http", "socket")
    assert http.client.base_url == "http://127.0.0.1:9/api/"
    assert server.routes == [EVENTS_PATH]
    with pytest.raises(ValueError, match="signing secret"):
        SlackAdapter(**common, http=server)


async def test_a_wrong_token_fails_start_and_leaves_nothing_open(bots: Bots) -> None:
    revoked = "xoxb-revoked"
    adapter = bots.make(http=HttpServer("127.0.0.1", 0), bot_token=revoked)
    with pytest.raises(SlackApiError, match="invalid_auth"):
        await adapter.start()
    assert adapter.client.session is None  # an open one would fail the test as unclosed
    assert [c.method for c in bots.fake.calls] == ["auth.test"]


async def test_a_wrong_app_token_fails_start_instead_of_retrying_forever(bots: Bots) -> None:
    revoked = "xapp-revoked"
    adapter = bots.make(app_token=revoked, signing_secret=None)
    with pytest.raises(SlackApiError, match="invalid_auth"):
        await asyncio.wait_for(adapter.start(), timeout=5)
    assert adapter.client.session is None
    assert not bots.fake.connected


def test_allowlist_setting_reads_comma_separated_team_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRIEFINGS_SLACK_TEAMS", " T0PARTNER, T0TORINO ,,")
    assert Settings(_env_file=None).slack_teams == ["T0PARTNER", "T0TORINO"]
    monkeypatch.setenv("BRIEFINGS_SLACK_TEAMS", "")
    assert Settings(_env_file=None).slack_teams == []


def test_slack_text_conventions_are_undone_once() -> None:
    assert strip_mention(f"<@{BOT_USER}> itinerary  tuesday", BOT_USER) == "itinerary tuesday"
    assert strip_mention(f"hey <@{BOT_USER}|briefings> who <@U123>", BOT_USER) == "hey who <@U123>"
    assert strip_mention("<@U0OTHERBOT> today", None) == "today"
    assert unescape("a &lt;b&gt; &amp;amp; &amp;lt;") == "a <b> &amp; &lt;"
    assert split_share("itinerary tuesday SHARE") == ("itinerary tuesday", True)
    assert split_share("share itinerary") == ("share itinerary", False)


def test_our_signature_is_the_one_slack_sdk_verifies() -> None:
    body = form_body(slash_command("itinerary tuesday", "http://127.0.0.1:1/response/x"))
    headers = sign(body)
    verifier = SignatureVerifier(SIGNING_SECRET)
    ts, signature = headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"]
    assert verifier.is_valid(body, ts, signature)
    assert not verifier.is_valid(body + "&x=1", ts, signature)


# --- the dialogue, through /briefing ------------------------------------------------------------


def as_words(text: str) -> str:
    """A dialogue step as typed after `/briefing`: `/visit 2` -> `visit 2`."""
    return text.removeprefix("/")


async def test_the_dialogue_through_the_slash_command_is_the_cores_answer(
    bot: Bot, core: Core
) -> None:
    """Each step in a direct message with the bot: text typed after `/briefing`, buttons pressed
    on the private reply. What reaches Slack is the core's reply for the same step, in the same
    state, rendered by bot.slack.payloads; the route adds only the Share button and the
    response type."""
    plain = Renderer()
    for n, step in enumerate(DIALOGUE):
        name = f"step{n}"
        if step.text is not None:
            words = as_words(step.text)
            reply = await core.reply(words, channel=DM)
            await bot.command(words, name, channel=DM)
            expected = bodies(reply, "ephemeral", share=(SHARE_ACTION, words))
        else:
            assert step.press is not None
            reply = await core.reply(press=step.press, channel=DM)
            press = block_action(
                step.press, container=ephemeral(DM), response_url=bot.fake.response_url(name)
            )
            assert (await bot.action(press))[0] == 200
            expected = bodies(
                reply, "ephemeral", replace_original=True, share=(SHARE_PRESS, step.press)
            )
        count = len(expected)
        await bot.fake.wait_for(lambda n=name, c=count: len(bot.fake.answered(n)) == c)
        assert bot.fake.answered(name) == expected, step
        # Typed as words, an unknown command is a message the bot did not understand.
        said = "\n".join(m.text for m in plain.render(reply, "plain"))
        says = ("Richiesta non compresa",) if step.text == "/bogus" else step.says
        for fragment in says:
            assert fragment in said, f"{step}: {fragment!r} not in {said!r}"
        for fragment in step.never:
            assert fragment not in said, f"{step}: {fragment!r} in {said!r}"


async def test_a_forged_button_value_gets_the_polite_out_of_date_reply(
    bot: Bot, core: Core
) -> None:
    for name, value in (("forged", FORGED), ("junk", "itinerary 2024-08-27"), ("empty", "")):
        press = block_action(value, container=ephemeral(), response_url=bot.fake.response_url(name))
        assert (await bot.action(press))[0] == 200
        await bot.fake.wait_for(lambda name=name: bool(bot.fake.answered(name)))
        [body] = bot.fake.answered(name)
        reply = await core.reply(press=value)
        assert [body] == bodies(
            reply, "ephemeral", replace_original=True, share=(SHARE_PRESS, value)
        )
        assert "This button is out of date" in body["text"]


# --- the slash command --------------------------------------------------------------------------


async def test_signed_slash_command_is_acknowledged_at_once_then_answered_at_response_url(
    bot: Bot, core: Core
) -> None:
    # A slow Web API (the language lookup) must not hold up the acknowledgement: the answer
    # cannot be out before the lookup, so an empty response list proves the order.
    bot.fake.delays["users.info"] = 1.0
    status, text = await bot.command("itinerary tuesday", "r1")
    assert (status, text) == (200, "")
    assert bot.acks[-1] < ACK_DEADLINE
    assert bot.fake.responses == []

    await bot.fake.wait_for(lambda: bool(bot.fake.answered("r1")))
    reply = await core.reply("itinerary tuesday")
    assert bot.fake.answered("r1") == bodies(
        reply, "ephemeral", share=(SHARE_ACTION, "itinerary tuesday")
    )
    [body] = bot.fake.answered("r1")
    assert selected(body["blocks"]) == TUESDAY


async def test_slash_command_words_reach_the_core_as_typed(bot: Bot, core: Core) -> None:
    """Nothing is the briefing; a first word naming a command selects it (with or without its
    slash); a day alone is that day, as in a private chat."""
    asked = {"whole": "", "day": "martedì", "who": "who kang", "slashed": "/itinerary martedì"}
    for name, words in asked.items():
        await bot.command(words, name, channel=DM)
    await bot.fake.wait_for(lambda: len(bot.fake.responses) == len(asked))
    for name, words in asked.items():
        reply = await core.reply(words, channel=DM)
        assert bot.fake.answered(name) == bodies(reply, "ephemeral", share=(SHARE_ACTION, words))
    assert selected(bot.fake.answered("day")[0]["blocks"]) == TUESDAY
    # The same day, the Share button aside (it repeats what was typed).
    slashed, day = bot.fake.answered("slashed")[0], bot.fake.answered("day")[0]
    assert slashed["blocks"][:-1] == day["blocks"][:-1]


async def test_share_as_last_word_posts_the_answer_in_channel(bot: Bot, core: Core) -> None:
    [body] = await bot.ask("itinerary tuesday share", "shared")
    reply = await core.reply("itinerary tuesday")
    assert [body] == bodies(reply, "in_channel")
    assert [body] == [
        {**without_channel(p), "response_type": "in_channel", "replace_original": False}
        for p in posts(reply, GENERAL)
    ]


async def test_share_button_posts_in_channel_and_removes_the_private_copy(
    bot: Bot, core: Core
) -> None:
    press = block_action(
        "itinerary tuesday",
        action_id=SHARE_ACTION,
        container=ephemeral(),
        response_url=bot.fake.response_url("eph"),
    )
    assert (await bot.action(press))[0] == 200
    await bot.fake.wait_for(lambda: len(bot.fake.answered("eph")) == 2)
    shared, removed = bot.fake.answered("eph")
    reply = await core.reply("itinerary tuesday")
    assert [shared] == bodies(reply, "in_channel")
    assert removed == {"delete_original": True}


async def test_share_button_under_a_pressed_button_shares_that_view(bot: Bot, core: Core) -> None:
    press = block_action(
        WEDNESDAY,
        action_id=SHARE_PRESS,
        container=ephemeral(),
        response_url=bot.fake.response_url("eph"),
    )
    await bot.action(press)
    await bot.fake.wait_for(lambda: len(bot.fake.answered("eph")) == 2)
    shared, removed = bot.fake.answered("eph")
    reply = await core.reply(press=WEDNESDAY)
    assert [shared] == bodies(reply, "in_channel")
    assert selected(shared["blocks"]) == WEDNESDAY
    assert removed == {"delete_original": True}


async def test_forged_or_stale_requests_get_401_and_nothing_is_sent(bot: Bot) -> None:
    body = form_body(slash_command("itinerary tuesday", bot.fake.response_url("forged")))
    forged = sign(body, secret="not-the-signing-secret")  # noqa: S106 - a wrong secret on purpose
    assert (await bot.post(body, "application/x-www-form-urlencoded", signature=forged))[0] == 401
    stale = sign(body, timestamp=int(time.time()) - 5 * 60 - 1)
    assert (await bot.post(body, "application/x-www-form-urlencoded", signature=stale))[0] == 401
    unsigned = {"X-Slack-Request-Timestamp": str(int(time.time()))}
    assert (await bot.post(body, "application/x-www-form-urlencoded", signature=unsigned))[0] == 401

    # A genuine request after them: once it is answered, anything the others caused would be too.
    assert (await bot.command("itinerary tuesday", "genuine"))[0] == 200
    await bot.fake.wait_for(lambda: bool(bot.fake.answered("genuine")))
    assert [name for name, _ in bot.fake.responses] == ["genuine"]
    assert [c.method for c in bot.fake.calls if c.method != "auth.test"] == ["users.info"]


async def test_url_verification_is_answered_with_the_challenge(bot: Bot) -> None:
    body = json.dumps({"token": "t", "challenge": "c-123", "type": "url_verification"})
    status, text = await bot.post(body, "application/json")
    assert (status, json.loads(text)) == (200, {"challenge": "c-123"})


# --- buttons ------------------------------------------------------------------------------------


async def test_day_button_on_a_private_reply_replaces_it_with_that_day(
    bot: Bot, core: Core
) -> None:
    press = block_action(WEDNESDAY, container=ephemeral(), response_url=bot.fake.response_url("go"))
    assert (await bot.action(press))[0] == 200
    await bot.fake.wait_for(lambda: bool(bot.fake.answered("go")))
    [body] = bot.fake.answered("go")
    reply = await core.reply(press=WEDNESDAY)
    assert [body] == bodies(
        reply, "ephemeral", replace_original=True, share=(SHARE_PRESS, WEDNESDAY)
    )
    assert "response_type" not in body  # the replaced message keeps its visibility
    assert selected(body["blocks"]) == WEDNESDAY


async def test_day_button_on_a_channel_message_updates_it_for_everyone(
    bot: Bot, core: Core
) -> None:
    container = {"type": "message", "is_ephemeral": False, "channel_id": GENERAL}
    press = block_action(WEDNESDAY, container=container, response_url=bot.fake.response_url("pub"))
    await bot.action(press)
    await bot.fake.wait_for(lambda: bool(bot.fake.answered("pub")))
    reply = await core.reply(press=WEDNESDAY)
    assert bot.fake.answered("pub") == bodies(reply, "in_channel", replace_original=True)


async def test_day_button_without_response_url_edits_with_chat_update(bot: Bot, core: Core) -> None:
    container = {"type": "message", "channel_id": DM, "message_ts": "1724716800.000042"}
    await bot.action(block_action(WEDNESDAY, container=container))
    await bot.fake.wait_for(lambda: bool(bot.fake.called("chat.update")))
    [call] = bot.fake.called("chat.update")
    [payload] = posts(await core.reply(press=WEDNESDAY, channel=DM), DM)
    assert call.args == {**payload, "ts": "1724716800.000042"}


async def test_a_button_answers_in_the_chats_language_and_visit(bot: Bot, core: Core) -> None:
    """State is the chat's: a button pressed in a DM that chose Italian answers in Italian."""
    await bot.ask("lang it", "lang", channel=DM)
    await core.reply("lang it", channel=DM)
    press = block_action(
        WEDNESDAY, container=ephemeral(DM), response_url=bot.fake.response_url("go")
    )
    await bot.action(press)
    await bot.fake.wait_for(lambda: bool(bot.fake.answered("go")))
    reply = await core.reply(press=WEDNESDAY, channel=DM)
    assert reply.lang == "it"
    assert bot.fake.answered("go") == bodies(
        reply, "ephemeral", replace_original=True, share=(SHARE_PRESS, WEDNESDAY)
    )


# --- mentions and direct messages ----------------------------------------------------------------


async def test_mention_is_read_as_the_words_after_it(bot: Bot, core: Core) -> None:
    status, _ = await bot.event(mention(f"<@{BOT_USER}> itinerary tuesday"))
    assert status == 200
    await bot.fake.wait_for(lambda: bool(bot.fake.called("chat.postMessage")))
    [call] = bot.fake.called("chat.postMessage")
    assert [call.args] == posts(await core.reply("itinerary tuesday"), GENERAL)


async def test_mention_in_a_thread_is_answered_in_that_thread(bot: Bot, core: Core) -> None:
    await bot.event(mention(f"<@{BOT_USER}> who kang", thread_ts="1724716800.000001"))
    await bot.fake.wait_for(lambda: bool(bot.fake.called("chat.postMessage")))
    [call] = bot.fake.called("chat.postMessage")
    assert [call.args] == posts(await core.reply("who kang"), GENERAL, "1724716800.000001")


async def test_direct_message_naming_a_day_gets_that_day_in_the_users_language(
    bot: Bot, core: Core
) -> None:
    bot.fake.locales[ALICE] = "it-IT"
    await bot.event(dm("martedì?"))
    await bot.fake.wait_for(lambda: bool(bot.fake.called("chat.postMessage")))
    [call] = bot.fake.called("chat.postMessage")
    reply = await core.reply("martedì?", channel=DM, locale="it-IT")
    assert reply.lang == "it"
    assert [call.args] == posts(reply, DM)
    assert selected(call.args["blocks"]) == TUESDAY
    [lookup] = bot.fake.called("users.info")
    assert lookup.args["user"] == ALICE
    assert lookup.args["include_locale"] in {"1", "true", True}


async def test_bots_edits_and_channel_messages_are_not_answered(bot: Bot) -> None:
    await bot.event(dm("tuesday", subtype="message_changed"))
    await bot.event(dm("tuesday", bot_id="B0OTHER"))
    await bot.event(dm("tuesday", channel_type="channel", channel=GENERAL))
    await bot.event(dm("tuesday", user=BOT_USER))  # our own message, echoed back
    await bot.event(dm("tuesday", user=BOB))  # the sentinel: this one is answered
    await bot.fake.wait_for(lambda: bool(bot.fake.called("chat.postMessage")))
    await bot.adapter.stop()  # lets anything still in flight land
    assert len(bot.fake.called("chat.postMessage")) == 1


async def test_the_chats_language_beats_the_slack_locale_and_stays_with_the_chat(
    bot: Bot, core: Core
) -> None:
    bot.fake.locales[ALICE] = "it-IT"
    await bot.ask("lang ko", "lang", channel=DM)
    await bot.event(dm("tuesday"))
    await bot.fake.wait_for(lambda: bool(bot.fake.called("chat.postMessage")))
    [call] = bot.fake.called("chat.postMessage")
    await core.reply("lang ko", channel=DM, locale="it-IT")
    reply = await core.reply("tuesday", channel=DM, locale="it-IT")
    assert reply.lang == "ko"
    assert [call.args] == posts(reply, DM)
    # Another chat of the same user keeps following her Slack language.
    [body] = await bot.ask("help", "elsewhere", channel=GENERAL)
    assert (
        body
        == bodies(
            await core.reply("help", locale="it-IT"), "ephemeral", share=(SHARE_ACTION, "help")
        )[0]
    )
    assert "Comandi" in body["text"]


async def test_the_locale_is_looked_up_once_per_user(bot: Bot) -> None:
    for n in range(3):
        await bot.command("today", f"r{n}")
    await bot.command("today", "bob", user=BOB)
    await bot.fake.wait_for(lambda: len(bot.fake.responses) == 4)
    assert sorted(c.args["user"] for c in bot.fake.called("users.info")) == [ALICE, BOB]


# --- App Home and retries -----------------------------------------------------------------------


async def test_app_home_shows_the_briefing_and_keeps_its_channel(bot: Bot, core: Core) -> None:
    await bot.event(home_opened())
    await bot.fake.wait_for(lambda: bool(bot.fake.called("views.publish")))
    [call] = bot.fake.called("views.publish")
    reply = await core.reply("", channel=DM)
    assert call.args["user_id"] == ALICE
    assert call.args["view"] == home_view(Renderer().render(reply, "slack"), DM)
    assert call.args["view"]["private_metadata"] == DM
    assert call.args["view"]["blocks"][-1]["block_id"] == "go"


async def test_a_button_on_the_home_tab_republishes_it_for_the_homes_chat(
    bot: Bot, core: Core
) -> None:
    """Slack leaves the channel out of a Home button's payload: the view's metadata keeps it,
    so the Home answers in the DM's language."""
    await bot.ask("lang ko", "lang", channel=DM)
    await core.reply("lang ko", channel=DM)
    container = {"type": "view", "view_id": "V0HOME"}
    view = {"id": "V0HOME", "type": "home", "private_metadata": DM}
    await bot.action(block_action(WEDNESDAY, container=container, view=view))
    await bot.fake.wait_for(lambda: bool(bot.fake.called("views.publish")))
    [call] = bot.fake.called("views.publish")
    reply = await core.reply(press=WEDNESDAY, channel=DM)
    assert reply.lang == "ko"
    assert call.args["view"] == home_view(Renderer().render(reply, "slack"), DM)


async def test_messages_tab_opening_publishes_nothing(bot: Bot) -> None:
    await bot.event({**home_opened(), "tab": "messages"})
    await bot.event(home_opened(BOB))
    await bot.fake.wait_for(lambda: bool(bot.fake.called("views.publish")))
    await bot.adapter.stop()
    assert [c.args["user_id"] for c in bot.fake.called("views.publish")] == [BOB]


async def test_a_retried_event_is_acknowledged_and_answered_only_if_never_seen(bot: Bot) -> None:
    """A retry of an event taken on is not answered again; one whose first delivery never
    arrived is (tests/faults/test_retries.py goes further: processes, restarts, commands)."""
    body = json.dumps(event_callback(home_opened(), event_id="Ev0HOME0001"))
    assert (await bot.event_body(body))[0] == 200
    await bot.fake.wait_for(lambda: bool(bot.fake.called("views.publish")))
    retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    assert (await bot.event_body(body, headers=retry))[0] == 200
    mention_body = json.dumps(event_callback(mention(f"<@{BOT_USER}> today")))
    assert (await bot.event_body(mention_body, headers=retry))[0] == 200
    await bot.event(home_opened(BOB))  # the sentinel
    await bot.fake.wait_for(lambda: len(bot.fake.called("views.publish")) == 2)
    await bot.adapter.stop()
    assert [c.args["user_id"] for c in bot.fake.called("views.publish")] == [ALICE, BOB]
    assert [c.args["channel"] for c in bot.fake.called("chat.postMessage")] == [GENERAL]


async def test_a_dm_that_also_mentions_the_bot_is_answered_once(bot: Bot) -> None:
    message = dm(f"<@{BOT_USER}> tuesday")
    await bot.event(message)
    await bot.event({**message, "type": "app_mention"})
    await bot.fake.wait_for(lambda: bool(bot.fake.called("chat.postMessage")))
    await bot.adapter.stop()
    assert len(bot.fake.called("chat.postMessage")) == 1


# --- the workspace allowlist --------------------------------------------------------------------


async def test_workspaces_outside_the_allowlist_get_a_polite_refusal_and_no_content(
    bots: Bots,
) -> None:
    bot = await bots.start(teams=[TEAM])
    outsider = "U0OUTSIDER"
    await bot.command("itinerary tuesday share", "outsider", team=OTHER_TEAM, user=outsider)
    await bot.event(dm("tuesday", user=outsider), team=OTHER_TEAM)
    await bot.event(home_opened(outsider), team=OTHER_TEAM)
    await bot.command("itinerary tuesday", "insider")  # the allowlisted team is still served
    fake = bot.fake
    await fake.wait_for(
        lambda: (
            len(fake.responses) == 2
            and bool(fake.called("chat.postMessage"))
            and bool(fake.called("views.publish"))
        )
    )
    refusal = notice_reply(Say("workspace_not_allowed"), "en")
    # Private, though the outsider asked to share, and without a Share button.
    assert fake.answered("outsider") == bodies(refusal, "ephemeral")
    assert [fake.called("chat.postMessage")[0].args] == posts(refusal, DM)
    [home] = fake.called("views.publish")
    assert home.args["view"] == home_view(Renderer().render(refusal, "slack"), DM)
    assert selected(fake.answered("insider")[0]["blocks"]) == TUESDAY
    # Outsiders are not even looked up.
    assert [c.args["user"] for c in fake.called("users.info")] == [ALICE]


# --- text that must not become Slack markup -------------------------------------------------------


async def test_mentions_and_links_from_users_and_sources_are_escaped(
    fake: FakeSlack,
    seeds: Seeds,
    engine: Engine,
    renderer: Renderer,
    events_spec: EventsSpec | None,
) -> None:
    august = next(v for v in seeds.visits if v.id == AUGUST)
    kang = next(p for p in august.people if any("kang" in n.text.casefold() for n in p.names))
    forged_role = Text(en=" ".join(INJECTIONS), it=" ".join(INJECTIONS), ko=" ".join(INJECTIONS))
    people = tuple(
        p.model_copy(update={"role": forged_role}) if p is kang else p for p in august.people
    )
    visits = tuple(
        v.model_copy(update={"people": people}) if v is august else v for v in seeds.visits
    )
    tampered = Library(replace(seeds, visits=visits))
    bots = Bots(
        fake,
        Conversation(tampered, SqlChatStates(engine), lambda: NOW),
        renderer,
        events_spec,
        SqlSeenRequests(engine),
    )
    try:
        bot = await bots.start()
        await bot.command("who " + " ".join(INJECTIONS), "user-text")  # as typed: raw
        await bot.command("who &lt;!channel&gt; &lt;@U123&gt;", "slack-escaped")  # as Slack sends
        await bot.command("who kang", "dossier")
        await bot.event(mention(f"<@{BOT_USER}> who <!channel> <@U123>"))
        await bot.fake.wait_for(
            lambda: len(bot.fake.responses) == 3 and bool(bot.fake.called("chat.postMessage"))
        )
    finally:
        await bots.stop_all()
    sent = [body for _, body in fake.responses]
    sent.append(fake.called("chat.postMessage")[0].args)
    for body in sent:
        markup = [body["text"], *(b["text"]["text"] for b in body["blocks"] if "text" in b)]
        for text in markup:
            for injection in INJECTIONS:
                assert injection not in text
            assert "<" not in text
            assert ">" not in text
    assert "&lt;!channel&gt;" in fake.answered("user-text")[0]["text"]
    assert "&lt;!channel&gt;" in fake.answered("slack-escaped")[0]["text"]
    dossier = fake.answered("dossier")[0]["text"]
    assert "&lt;http://evil.example|click&gt;" in dossier
    assert "&lt;@U123&gt;" in dossier


# --- Web API faults and shutdown -----------------------------------------------------------------


async def test_rate_limits_and_server_errors_are_retried_and_deliver_once(bot: Bot) -> None:
    bot.fake.fail("chat.postMessage", rate_limited(retry_after=0), server_error(503))
    await bot.event(dm("tuesday"))
    await bot.fake.wait_for(lambda: bool(bot.fake.called("chat.postMessage")), timeout=10)
    await bot.adapter.stop()
    attempts = bot.fake.called("chat.postMessage", ok_only=False)
    assert [c.status for c in attempts] == [429, 503, 200]
    assert attempts[0].args == attempts[2].args  # the same message, sent once


async def test_stop_lets_answers_in_flight_land(bot: Bot) -> None:
    bot.fake.delays["users.info"] = 0.3
    await bot.event(dm("tuesday"))
    await bot.adapter.stop()
    assert len(bot.fake.called("chat.postMessage")) == 1


# --- Socket Mode --------------------------------------------------------------------------------


async def test_socket_mode_acknowledges_the_envelope_and_answers(bots: Bots, core: Core) -> None:
    fake = bots.fake
    adapter = bots.make(app_token=APP_TOKEN, signing_secret=None)
    assert adapter.mode == "socket"
    await adapter.start()
    try:
        await fake.wait_for(lambda: fake.connected)
        [opened] = fake.called("apps.connections.open")
        command = slash_command("itinerary tuesday", fake.response_url("socket"))
        await fake.send_envelope(
            {
                "envelope_id": "env-1",
                "type": "slash_commands",
                "accepts_response_payload": True,
                "payload": command,
            }
        )
        retried = event_callback(mention(f"<@{BOT_USER}> today"))
        await fake.send_envelope(
            {
                "envelope_id": "env-2",
                "type": "events_api",
                "accepts_response_payload": False,
                "retry_attempt": 1,
                "retry_reason": "timeout",
                "payload": retried,
            }
        )
        await fake.wait_for(
            lambda: (
                bool(fake.answered("socket"))
                and len(fake.acks) == 2
                and bool(fake.called("chat.postMessage"))
            )
        )
    finally:
        await adapter.stop()
    assert opened.token == APP_TOKEN
    assert sorted(a["envelope_id"] for a in fake.acks) == ["env-1", "env-2"]
    reply = await core.reply("itinerary tuesday")
    assert fake.answered("socket") == bodies(
        reply, "ephemeral", share=(SHARE_ACTION, "itinerary tuesday")
    )
    # The retried event's first delivery never came: the retry is answered, once.
    assert [c.args["channel"] for c in fake.called("chat.postMessage")] == [GENERAL]
    assert not fake.connected


# --- the manifest and the specs themselves --------------------------------------------------------


def test_manifest_declares_what_the_adapter_listens_to(events_spec: EventsSpec | None) -> None:
    manifest = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    [command] = manifest["features"]["slash_commands"]
    assert command["command"] == "/briefing"
    events = set(manifest["settings"]["event_subscriptions"]["bot_events"])
    assert events == {"app_mention", "message.im", "app_home_opened"}
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {"commands", "chat:write", "app_mentions:read", "im:history", "users:read"} <= scopes
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    assert manifest["settings"]["socket_mode_enabled"] is True
    if events_spec is None:
        pytest.skip(f"{EVENTS_SPEC} is absent: event names not checked against Slack's spec")
    unknown = [e for e in events if not events_spec.knows(e) and e not in NEWER_EVENTS]
    assert unknown == []


def test_fake_checks_calls_against_slacks_web_api_spec(web_spec: WebApiSpec | None) -> None:
    if web_spec is None:
        pytest.skip(f"{WEB_SPEC} is absent: the fake does not check calls against Slack's spec")
    assert web_spec.check("chat.postMessage", {"channel": "C1", "text": "x", "blocks": []}) == []
    assert web_spec.check("chat.postMessage", {"text": "x", "colour": "red"}) == [
        "chat.postMessage: unknown argument 'colour'",
        "chat.postMessage: required argument 'channel' is missing",
    ]
    assert web_spec.check("chat.postMessages", {}) == ["chat.postMessages: no such Web API method"]
    assert web_spec.check("apps.connections.open", {}) == []
    assert web_spec.check("users.info", {"user": ALICE, "include_locale": "true"}) == []


def test_block_validation_catches_what_slack_would_refuse() -> None:
    too_long = {"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}
    assert block_problems([too_long]) != []
    assert block_problems([{"type": "section", "text": {"type": "mrkdwn", "text": "x"}}] * 51)
    assert block_problems([{"type": "no-such-block"}]) != []


async def test_response_bodies_differ_from_the_console_payload_only_by_route_fields(
    core: Core,
) -> None:
    """The console contract: strip the route's fields and the Share block, and it is the
    `chat.postMessage` payload the console prints."""
    [message] = Renderer().render(await core.reply(""), "slack")
    body = with_share_button(response_body(message, "ephemeral"), "", "en")
    stripped = {k: v for k, v in body.items() if k not in {"response_type", "replace_original"}}
    stripped["blocks"] = [b for b in stripped["blocks"] if b.get("block_id") != SHARE_ACTION]
    assert stripped == without_channel(post_message(message, GENERAL))


async def test_a_home_view_too_long_keeps_its_buttons(core: Core) -> None:
    reply = await core.reply("dossier", channel=DM)
    [message, *_] = Renderer().render(reply, "slack")
    many = replace(message, sections=message.sections * 40)
    view = home_view([many, many], DM)
    assert len(view["blocks"]) == HOME_MAX_BLOCKS
    assert view["blocks"][-1]["block_id"] == "go"


async def test_waiting_on_the_fake_times_out(fake: FakeSlack) -> None:
    with pytest.raises(asyncio.TimeoutError):
        await fake.wait_for(lambda: False, timeout=0.05)


# --- the one-screen briefing and its parts, opened in place (issue 9) ---------------------------

# The day after the August visit: the Korean article has reported what came of it.
AFTER = datetime(2024, 8, 29, 12, 0, tzinfo=SEOUL)
# Issue 9: the one-screen briefing is one Slack message (or Home view) of at most 12 blocks.
SCREEN_BLOCKS = 12
Route = Literal["slash", "message", "home"]


def go_buttons(blocks: list[Json]) -> list[Json]:
    """Our buttons in a message or view, in order."""
    return [e for b in blocks if b.get("block_id") == "go" for e in b["elements"]]


def highlighted(blocks: list[Json]) -> list[str]:
    """The values of every button shown as the one selected."""
    return [str(e["value"]) for e in go_buttons(blocks) if e.get("style") == "primary"]


def without_share(blocks: list[Json]) -> list[Json]:
    return [b for b in blocks if b.get("block_id") != SHARE_ACTION]


def pressed(library: Library, value: str) -> Action:
    action = library.codec.decode(value)
    assert action is not None, f"a button the bot cannot read back: {value!r}"
    return action


def assert_tells_the_hour(blocks: list[Json], now: datetime) -> None:
    """The day of the visit during it; what came of it after."""
    text = "\n".join(b["text"]["text"] for b in blocks if b["type"] == "section")
    if now == AFTER:
        assert label("summary_over", "en") in text
        assert label("summary_came_of_it", "en") in text
        assert label("summary_nothing_reported", "en") not in text
    else:
        assert label("day_of", "en", n=2, total=3) in text


@dataclass
class Surface:
    """Where a reader sees the briefing, and how Slack brings a press there to the adapter: the
    slash command's private reply (a response_url with each press), a message of ours in a DM
    (no response_url: `chat.update` on its ts) or the App Home (`views.publish`)."""

    bot: Bot
    core: Core
    route: Route
    # The message of ours that carries the buttons, on the `message` route.
    ts: str | None = None
    presses: int = 0

    @property
    def channel(self) -> str:
        return GENERAL if self.route == "slash" else DM

    async def open(self) -> list[Json]:
        """/briefing; checked to be the core's summary in one message; the blocks Slack got."""
        fake = self.bot.fake
        if self.route == "slash":
            [body] = await self.bot.ask("", "briefing")
            assert [body] == bodies(
                await self.core.reply(""), "ephemeral", share=(SHARE_ACTION, "")
            )
            return list(body["blocks"])
        if self.route == "message":
            await self.bot.event(dm("briefing"))
            await fake.wait_for(lambda: bool(fake.called("chat.postMessage")))
            [call] = fake.called("chat.postMessage")
            assert [call.args] == posts(await self.core.reply("briefing", channel=DM), DM)
            assert call.result is not None
            self.ts = str(call.result["ts"])
            return list(call.args["blocks"])
        await self.bot.event(home_opened())
        await fake.wait_for(lambda: bool(fake.called("views.publish")))
        [call] = fake.called("views.publish")
        reply = await self.core.reply("", channel=DM)
        assert (call.args["user_id"], call.args["view"]) == (
            ALICE,
            home_view(Renderer().render(reply, "slack"), DM),
        )
        return list(call.args["view"]["blocks"])

    async def press(self, button: Json) -> list[Json]:
        """Press one of our buttons as Slack sends the press; check that the core's reply to it
        replaced what was shown; return the blocks that now carry the buttons."""
        fake = self.bot.fake
        value, action_id = str(button["value"]), str(button["action_id"])
        reply = await self.core.reply(press=value, channel=self.channel)
        self.presses += 1
        if self.route == "slash":
            name = f"press{self.presses}"
            url = fake.response_url(name)
            want = bodies(reply, "ephemeral", replace_original=True, share=(SHARE_PRESS, value))
            press = block_action(
                value, action_id=action_id, container=ephemeral(), response_url=url
            )
            assert (await self.bot.action(press))[0] == 200
            await fake.wait_for(lambda: len(fake.answered(name)) >= len(want))
            got = fake.answered(name)
            assert got == want
            assert got[0]["replace_original"] is True
            return list(got[-1]["blocks"])
        if self.route == "message":
            assert self.ts is not None
            want = posts(reply, DM)
            first = len(fake.calls)

            def delivered() -> list[Call]:
                return [
                    c
                    for c in fake.calls[first:]
                    if c.method in ("chat.update", "chat.postMessage") and c.status == 200
                ]

            container = {"type": "message", "channel_id": DM, "message_ts": self.ts}
            await self.bot.action(block_action(value, action_id=action_id, container=container))
            await fake.wait_for(lambda: len(delivered()) >= len(want))
            got = delivered()
            # The message pressed on shows the answer; what does not fit in it follows.
            assert [c.method for c in got] == ["chat.update"] + ["chat.postMessage"] * (
                len(want) - 1
            )
            assert got[0].args == {**want[0], "ts": self.ts}
            assert [c.args for c in got[1:]] == want[1:]
            if len(got) > 1:
                assert got[-1].result is not None
                self.ts = str(got[-1].result["ts"])
            return list(got[-1].args["blocks"])
        published = len(fake.called("views.publish"))
        container = {"type": "view", "view_id": "V0HOME"}
        view = {"id": "V0HOME", "type": "home", "private_metadata": DM}
        await self.bot.action(
            block_action(value, action_id=action_id, container=container, view=view)
        )
        await fake.wait_for(lambda: len(fake.called("views.publish")) > published)
        [call] = fake.called("views.publish")[published:]
        assert (call.args["user_id"], call.args["view"]) == (
            ALICE,
            home_view(Renderer().render(reply, "slack"), DM),
        )
        return list(call.args["view"]["blocks"])


@pytest.mark.parametrize("now", [NOW, AFTER], ids=["during", "after"])
@pytest.mark.parametrize("route", ["slash", "message", "home"])
async def test_briefing_opens_each_day_and_part_in_place_and_comes_back(
    bots: Bots, library: Library, engine: Engine, route: Route, now: datetime
) -> None:
    """Every button of the one-screen briefing, pressed as Slack sends it (its exact value and
    action_id, from where it is shown): the answer replaces what was shown, exactly as the core
    renders it, with its own button marked; its "Briefing" button brings the summary back."""
    core = Core(library, now=now)
    bot = await bots.start(conversation=Conversation(library, SqlChatStates(engine), lambda: now))
    surface = Surface(bot, core, route)
    summary = await surface.open()
    # One screen: one message (or view) of at most 12 blocks, a Share button included.
    assert len(summary) <= SCREEN_BLOCKS
    assert_tells_the_hour(summary, now)

    # Its buttons: each day of the visit, then the briefing and each of its parts.
    visit = library.visit(AUGUST)
    assert visit is not None
    buttons = go_buttons(summary)
    actions = [pressed(library, str(b["value"])) for b in buttons]
    assert {a.visit for a in actions} == {AUGUST}
    days = [b for b, a in zip(buttons, actions, strict=True) if a.view == "day"]
    assert [pressed(library, b["value"]).day for b in days] == list(visit.days)
    parts = {a.view: b for b, a in zip(buttons, actions, strict=True) if a.view != "day"}
    assert list(parts) == ["briefing", *PARTS]
    assert set(highlighted(summary)) <= {parts["briefing"]["value"]}  # nothing shown as open

    for button in [*days, *(parts[view] for view in PARTS)]:
        shown = await surface.press(button)
        assert highlighted(shown) == [button["value"]]
        # Back: that answer's "Briefing" button shows the one-screen summary again.
        [back] = [b for b in go_buttons(shown) if pressed(library, b["value"]).view == "briefing"]
        assert back["value"] == parts["briefing"]["value"]
        assert without_share(await surface.press(back)) == without_share(summary)

    # Every answer went by the route of the surface pressed on, and by no other.
    fake = bot.fake
    routes = {
        "slash": len(fake.responses),
        "message": len(fake.called("chat.update")) + len(fake.called("chat.postMessage")),
        "home": len(fake.called("views.publish")),
    }
    assert [r for r, n in routes.items() if n] == [route]
    assert surface.presses == 2 * (len(days) + len(PARTS))


# --- chat state per channel: language, subscriptions, who may change them ------------------------

JSON = {"Content-Type": "application/json"}


async def test_lang_in_a_channel_answers_that_channels_subscriptions_in_korean(
    bot: Bot, core: Core
) -> None:
    bot.fake.admins.add(ALICE)
    await bot.ask("lang ko", "lang")
    [body] = await bot.ask("subscriptions", "subs", user=BOB)
    await core.reply("lang ko")
    reply = await core.reply("subscriptions", user=BOB)
    assert reply.lang == "ko"
    assert [body] == bodies(reply, "ephemeral", share=(SHARE_ACTION, "subscriptions"))
    assert HANGUL.search(body["text"])
    # The language is the channel's: a DM with the same user is still in English.
    [private] = await bot.ask("subscriptions", "dm", channel=DM, user=BOB)
    assert not HANGUL.search(private["text"])


async def test_a_channels_digests_come_in_the_language_it_chose_after_subscribing(
    bot: Bot, engine: Engine, library: Library, renderer: Renderer
) -> None:
    from bot.slack.digests import SlackDigestSender
    from briefings.delivery import DeliveryPolicy, Dispatcher
    from storage.ledger import Ledger

    bot.fake.admins.add(ALICE)
    [subscribed] = await bot.ask("subscribe 07:30 Europe/Rome", "sub", channel=PARTNERS)
    assert "Subscribed: digests at 07:30 (Europe/Rome)" in subscribed["text"]
    bot.fake.admins.clear()  # the subscriber changes the language, admin or not
    [changed] = await bot.ask("lang it", "lang", channel=PARTNERS)
    assert "italiano" in changed["text"]

    sender = SlackDigestSender(bot.adapter.client, renderer)
    dispatcher = Dispatcher(
        Ledger(engine, "test"),
        library,
        {"slack": sender},
        lambda: NOW,
        DeliveryPolicy(grace=timedelta(days=30)),
    )
    report = await dispatcher.run_once(NOW + timedelta(days=3))
    posted = [c.args for c in bot.fake.called("chat.postMessage")]
    assert report.sent >= 2
    assert posted
    assert {p["channel"] for p in posted} == {PARTNERS}
    texts = " ".join(p["text"] for p in posted)
    assert "Oggi, martedì 27 agosto 2024: giorno 2 di 3" in texts
    assert "Good morning" not in texts


async def test_only_the_subscriber_or_an_admin_may_unsubscribe_a_channel(
    bot: Bot, core: Core
) -> None:
    fake = bot.fake
    fake.admins.add(ALICE)
    await bot.ask("subscribe", "sub", channel=PARTNERS)
    fake.admins.clear()

    [refused] = await bot.ask("unsubscribe", "bob", channel=PARTNERS, user=BOB)
    refusal = notice_reply(Say("admins_only"), "en")
    assert [refused] == bodies(refusal, "ephemeral", share=(SHARE_ACTION, "unsubscribe"))
    [still] = await bot.ask("subscriptions", "still", channel=PARTNERS, user=BOB)
    assert "07:30" in still["text"]
    # Bob was asked about (his locale, then whether he is an admin); no exception, no change.
    assert [c.args["user"] for c in fake.called("users.info")].count(BOB) == 2

    # The subscriber, though not an admin, and Slack is not even asked.
    [done] = await bot.ask("unsubscribe", "alice", channel=PARTNERS)
    assert "Unsubscribed" in done["text"]
    assert [c.args["user"] for c in fake.called("users.info")].count(ALICE) == 2

    # A workspace admin may stop someone else's subscription.
    fake.admins.add(ALICE)
    await bot.ask("subscribe", "again", channel=PARTNERS)
    fake.owners.add(CAROL)
    [stopped] = await bot.ask("unsubscribe", "carol", channel=PARTNERS, user=CAROL)
    assert "Unsubscribed" in stopped["text"]
    assert not (await bot.ask("unsubscribe", "nothing", channel=PARTNERS, user=CAROL))[0][
        "text"
    ].startswith("Unsubscribed")


async def test_settings_of_a_dm_are_its_users_own(bot: Bot) -> None:
    """In a direct message nobody else's permission is asked: only the locale lookup."""
    [body] = await bot.ask("lang it", "lang", channel=DM, user=BOB)
    assert "italiano" in body["text"]
    assert [c.args["user"] for c in bot.fake.called("users.info")] == [BOB]


async def test_digest_sender_posts_the_console_payload_and_reports_gone_channels(
    fake: FakeSlack, library: Library, renderer: Renderer
) -> None:
    from slack_sdk.web.async_client import AsyncWebClient

    from bot.slack.digests import SlackDigestSender
    from briefings.delivery import Outcome
    from briefings.digests import digest_reply
    from briefings.schedule import DEFAULT_TIME, due_at

    client = AsyncWebClient(token=BOT_TOKEN, base_url=fake.api_url)
    sender = SlackDigestSender(client, renderer)
    visit = library.visit(AUGUST)
    assert visit is not None
    morning = next(d for d in library.plan(visit.partnership) if d.kind == "morning")
    at = due_at(morning, DEFAULT_TIME, visit.timezone)
    reply = digest_reply(
        morning, visit, library.partnership_of(visit), library.articles, "it", at=at
    )
    assert await sender.deliver(PARTNERS, reply) is Outcome.SENT
    posted = [c.args for c in fake.called("chat.postMessage")]
    assert posted == posts(reply, PARTNERS)
    assert "Oggi, lunedì 26 agosto 2024" in posted[0]["text"]
    fake.fail(
        "chat.postMessage", Fault(200, JSON, json.dumps({"ok": False, "error": "is_archived"}))
    )
    assert await sender.deliver("C0OLD", reply) is Outcome.BLOCKED
    fake.fail(
        "chat.postMessage", Fault(200, JSON, json.dumps({"ok": False, "error": "fatal_error"}))
    )
    assert await sender.deliver(PARTNERS, reply) is Outcome.FAILED


# --- files: /briefing calendar and /briefing book ---------------------------------------------


async def test_calendar_and_book_are_uploaded_to_the_channel_or_dm(
    bot: Bot, library: Library
) -> None:
    """Slack's external upload flow, as files_upload_v2 runs it: an upload URL, the bytes,
    then completeUploadExternal into the channel (or DM) the command came from."""
    from icalendar import Calendar

    await bot.command("calendar", "cal", channel=DM)
    await bot.fake.wait_for(lambda: len(bot.fake.uploaded()) >= 1)
    await bot.command("book", "book", channel=GENERAL)
    await bot.fake.wait_for(lambda: len(bot.fake.uploaded()) >= 2)
    calendar, book = bot.fake.uploaded()
    assert calendar["filename"] == f"{AUGUST}.en.ics"
    assert calendar["shared"]["channel_id"] == DM
    assert "programme item(s)" in calendar["shared"]["initial_comment"]
    visit = library.visit(AUGUST)
    assert visit is not None
    events = Calendar.from_ical(calendar["data"]).walk("VEVENT")
    assert [str(e["SUMMARY"]) for e in events] == [
        e.title("en") for e in visit.programme if e.date is not None
    ]
    assert book["filename"] == f"{AUGUST}.en.html"
    assert book["shared"]["channel_id"] == GENERAL
    assert book["data"].startswith(b"<!DOCTYPE html>")
    assert [c.method for c in bot.fake.calls if c.method.startswith("files.")] == [
        "files.getUploadURLExternal",
        "files.completeUploadExternal",
    ] * 2
    # Nothing else to say without a public URL: no message besides the files.
    assert bot.fake.answered("cal") == []
    assert bot.fake.answered("book") == []
