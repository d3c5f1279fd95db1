"""The Slack adapter as Slack sees it: the real Bolt AsyncApp served over HTTP on 127.0.0.1 (and
over a Socket Mode WebSocket), its Web API client pointed at a fake Slack, asserted on what that
fake receives.

Issue 4's acceptance. Requests are signed as Slack signs them; each test has its own fake, its
own HTTP server and its own SQLite database; the clock is fixed during the visit (Tuesday
27 August 2024, 09:00 in Gwangju).
"""

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml
from slack_sdk.errors import SlackApiError, SlackObjectFormationError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View
from slack_sdk.signature import SignatureVerifier

from bot.http import HttpServer
from bot.payloads import slack_post_message
from bot.settings import Settings
from bot.slack.adapter import EVENTS_PATH, PLATFORM, SlackAdapter
from bot.slack.messages import SHARE_ACTION, SHARE_BLOCK
from bot.slack.text import as_command, split_share, strip_mention, unescape
from briefings.commands import Briefing, Context, handle
from briefings.dossier import Text
from briefings.labels import label
from briefings.languages import Lang
from briefings.rendering import SLACK_MAX_BLOCKS, Renderer
from briefings.views import notice_reply
from fakes.slack_api import (
    APP_TOKEN,
    BOT_TOKEN,
    BOT_USER,
    NEWER_EVENTS,
    OTHER_TEAM,
    SIGNING_SECRET,
    TEAM,
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
from storage.chats import ChatStore
from storage.engine import make_engine
from storage.migrate import upgrade

from ..conftest import DURING, ROOT, SHARED

WEB_SPEC = SHARED / "specs" / "slack-web-api.openapi2.json"
EVENTS_SPEC = SHARED / "specs" / "slack-events-api.asyncapi.json"
MANIFEST = ROOT / "bot" / "slack" / "manifest.yaml"
ALICE, BOB = "U0ALICE", "U0BOB"
DM = "D0ALICE"
GENERAL = "C0GENERAL"
TUESDAY, WEDNESDAY = "itinerary 2024-08-27", "itinerary 2024-08-28"
# Slack gives up on an acknowledgement after this long.
ACK_DEADLINE = 3.0
HOME_MAX_BLOCKS = 100
INJECTIONS = ("<!channel>", "<@U123>", "<http://evil.example|click>")


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
def store(tmp_path: Path) -> Iterator[ChatStore]:
    engine = make_engine(f"sqlite:///{tmp_path / 'briefings.db'}")
    upgrade(engine)
    yield ChatStore(engine)
    engine.dispose()


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
    briefing: Briefing
    renderer: Renderer
    store: ChatStore
    events_spec: EventsSpec | None
    running: list[Bot] = field(default_factory=list)

    def make(self, http: HttpServer | None = None, **overrides: Any) -> SlackAdapter:
        settings: dict[str, Any] = {
            "bot_token": BOT_TOKEN,
            "signing_secret": SIGNING_SECRET,
            "api_url": self.fake.api_url,
            "briefing": self.briefing,
            "renderer": self.renderer,
            "store": self.store,
            "clock": lambda: DURING,
            "http": http,
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
    briefing: Briefing,
    renderer: Renderer,
    store: ChatStore,
    events_spec: EventsSpec | None,
) -> AsyncIterator[Bots]:
    made = Bots(fake, briefing, renderer, store, events_spec)
    yield made
    await made.stop_all()


@pytest.fixture
async def bot(bots: Bots) -> Bot:
    return await bots.start()


# --- helpers ------------------------------------------------------------------------------------


def expected(
    briefing: Briefing, renderer: Renderer, text: str, lang: Lang = "en", channel: str = GENERAL
) -> list[Json]:
    """What the core answers to `text`: the console's chat.postMessage payloads."""
    reply = handle(briefing, Context(lang, DURING, command_prefix="/briefing "), text)
    return [slack_post_message(m, channel) for m in renderer.render(reply, "slack")]


def without_channel(payload: Json) -> Json:
    return {k: v for k, v in payload.items() if k != "channel"}


def without_share_button(blocks: list[Json]) -> list[Json]:
    """An ephemeral reply's blocks less the Share button we add to them."""
    return [b for b in blocks if b.get("block_id") != SHARE_BLOCK]


def selected_day(blocks: list[Json]) -> str | None:
    """The value of the highlighted day button: which day a message shows."""
    for block in blocks:
        if block.get("block_id") == "nav":
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


# --- construction -------------------------------------------------------------------------------


def test_building_the_adapter_connects_to_nothing(
    briefing: Briefing, renderer: Renderer, store: ChatStore
) -> None:
    """Outside any event loop, with an address nothing listens on: building must not touch it."""
    common: dict[str, Any] = {
        "bot_token": BOT_TOKEN,
        "api_url": "http://127.0.0.1:9/api",
        "briefing": briefing,
        "renderer": renderer,
        "store": store,
        "clock": lambda: DURING,
    }
    server = HttpServer("127.0.0.1", 0)
    http = SlackAdapter(**common, signing_secret=SIGNING_SECRET, http=server)
    socket = SlackAdapter(**common, app_token=APP_TOKEN)
    assert (http.mode, socket.mode) == ("http", "socket")
    assert http.client.base_url == "http://127.0.0.1:9/api/"
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


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("", "/briefing"),
        ("itinerary tuesday", "/briefing itinerary tuesday"),
        ("/itinerary  martedì", "/briefing /itinerary martedì"),
        ("WHO kang", "/briefing WHO kang"),
        ("martedì", "martedì"),
        ("what's on tuesday?", "what's on tuesday?"),
    ],
)
def test_text_addressed_to_the_bot_selects_a_command_or_is_read_as_a_day(
    text: str, command: str
) -> None:
    assert as_command(text) == command


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


# --- the slash command --------------------------------------------------------------------------


async def test_signed_slash_command_is_acknowledged_at_once_then_answered_at_response_url(
    bot: Bot, briefing: Briefing, renderer: Renderer
) -> None:
    # A slow Web API (the language lookup) must not hold up the acknowledgement: the answer
    # cannot be out before the lookup, so an empty response list proves the order.
    bot.fake.delays["users.info"] = 1.0
    status, text = await bot.command("itinerary tuesday", "r1")
    assert (status, text) == (200, "")
    assert bot.acks[-1] < ACK_DEADLINE
    assert bot.fake.responses == []

    await bot.fake.wait_for(lambda: bool(bot.fake.answered("r1")))
    [body] = bot.fake.answered("r1")
    [payload] = expected(briefing, renderer, "/briefing itinerary tuesday")
    assert body["response_type"] == "ephemeral"
    assert body["text"] == payload["text"]
    assert without_share_button(body["blocks"]) == payload["blocks"]
    assert selected_day(body["blocks"]) == TUESDAY
    share = body["blocks"][-1]
    assert share["elements"][0]["action_id"] == SHARE_ACTION
    assert share["elements"][0]["value"] == "/briefing itinerary tuesday"


async def test_slash_command_text_reaches_the_core_as_the_same_command(
    bot: Bot, briefing: Briefing, renderer: Renderer
) -> None:
    await bot.command("", "whole")
    await bot.command("martedì", "day")
    await bot.command("who kang", "who")
    await bot.fake.wait_for(lambda: len(bot.fake.responses) == 3)
    for name, text in (("whole", "/briefing"), ("day", "martedì"), ("who", "/briefing who kang")):
        [body] = bot.fake.answered(name)
        [payload] = expected(briefing, renderer, text)
        assert without_share_button(body["blocks"]) == payload["blocks"], name
    assert selected_day(bot.fake.answered("day")[0]["blocks"]) == TUESDAY


async def test_share_as_last_word_posts_the_console_payload_in_channel(
    bot: Bot, briefing: Briefing, renderer: Renderer
) -> None:
    await bot.command("itinerary tuesday share", "shared")
    await bot.fake.wait_for(lambda: bool(bot.fake.answered("shared")))
    [body] = bot.fake.answered("shared")
    [payload] = expected(briefing, renderer, "/briefing itinerary tuesday")
    assert body == {
        **without_channel(payload),
        "response_type": "in_channel",
        "replace_original": False,
    }


async def test_share_button_posts_in_channel_and_removes_the_private_copy(
    bot: Bot, briefing: Briefing, renderer: Renderer
) -> None:
    container = {"type": "message", "is_ephemeral": True, "channel_id": GENERAL}
    press = block_action(
        "/briefing itinerary tuesday",
        action_id=SHARE_ACTION,
        container=container,
        response_url=bot.fake.response_url("eph"),
    )
    status, _ = await bot.action(press)
    assert status == 200
    await bot.fake.wait_for(lambda: len(bot.fake.answered("eph")) == 2)
    shared, removed = bot.fake.answered("eph")
    [payload] = expected(briefing, renderer, "/briefing itinerary tuesday")
    assert shared == {
        **without_channel(payload),
        "response_type": "in_channel",
        "replace_original": False,
    }
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


# --- day buttons --------------------------------------------------------------------------------


async def test_day_button_on_a_private_reply_replaces_it_with_that_day(
    bot: Bot, briefing: Briefing, renderer: Renderer
) -> None:
    container = {"type": "message", "is_ephemeral": True, "channel_id": GENERAL}
    press = block_action(WEDNESDAY, container=container, response_url=bot.fake.response_url("nav"))
    assert (await bot.action(press))[0] == 200
    await bot.fake.wait_for(lambda: bool(bot.fake.answered("nav")))
    [body] = bot.fake.answered("nav")
    [payload] = expected(briefing, renderer, "/" + WEDNESDAY)
    assert body["replace_original"] is True
    assert "response_type" not in body  # the replaced message keeps its visibility
    assert without_share_button(body["blocks"]) == payload["blocks"]
    assert selected_day(body["blocks"]) == WEDNESDAY
    assert body["blocks"][-1]["elements"][0]["value"] == "/" + WEDNESDAY  # shares this day


async def test_day_button_on_a_channel_message_updates_it_for_everyone(
    bot: Bot, briefing: Briefing, renderer: Renderer
) -> None:
    container = {"type": "message", "is_ephemeral": False, "channel_id": GENERAL}
    press = block_action(WEDNESDAY, container=container, response_url=bot.fake.response_url("pub"))
    await bot.action(press)
    await bot.fake.wait_for(lambda: bool(bot.fake.answered("pub")))
    [payload] = expected(briefing, renderer, "/" + WEDNESDAY)
    assert bot.fake.answered("pub") == [{**without_channel(payload), "replace_original": True}]


async def test_day_button_without_response_url_edits_with_chat_update(
    bot: Bot, briefing: Briefing, renderer: Renderer
) -> None:
    container = {"type": "message", "channel_id": DM, "message_ts": "1724716800.000042"}
    await bot.action(block_action(WEDNESDAY, container=container))
    await bot.fake.wait_for(lambda: bool(bot.fake.called("chat.update")))
    [call] = bot.fake.called("chat.update")
    [payload] = expected(briefing, renderer, "/" + WEDNESDAY, channel=DM)
    assert call.args == {**payload, "ts": "1724716800.000042"}


# --- mentions and direct messages ----------------------------------------------------------------


async def test_mention_is_read_as_the_command_after_it(
    bot: Bot, briefing: Briefing, renderer: Renderer
) -> None:
    status, _ = await bot.event(mention(f"<@{BOT_USER}> itinerary tuesday"))
    assert status == 200
    await bot.fake.wait_for(lambda: bool(bot.fake.called("chat.postMessage")))
    [call] = bot.fake.called("chat.postMessage")
    assert call.args == expected(briefing, renderer, "/briefing itinerary tuesday")[0]


async def test_mention_in_a_thread_is_answered_in_that_thread(
    bot: Bot, briefing: Briefing, renderer: Renderer
) -> None:
    await bot.event(mention(f"<@{BOT_USER}> who kang", thread_ts="1724716800.000001"))
    await bot.fake.wait_for(lambda: bool(bot.fake.called("chat.postMessage")))
    [call] = bot.fake.called("chat.postMessage")
    payload = expected(briefing, renderer, "/briefing who kang")[0]
    assert call.args == {**payload, "thread_ts": "1724716800.000001"}


async def test_direct_message_naming_a_day_gets_that_day_in_the_users_language(
    bot: Bot, briefing: Briefing, renderer: Renderer
) -> None:
    bot.fake.locales[ALICE] = "it-IT"
    await bot.event(dm("martedì?"))
    await bot.fake.wait_for(lambda: bool(bot.fake.called("chat.postMessage")))
    [call] = bot.fake.called("chat.postMessage")
    assert call.args == expected(briefing, renderer, "martedì?", "it", channel=DM)[0]
    assert selected_day(call.args["blocks"]) == TUESDAY
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


async def test_chosen_language_beats_the_slack_locale_and_is_remembered(
    bot: Bot, store: ChatStore, briefing: Briefing, renderer: Renderer
) -> None:
    bot.fake.locales[ALICE] = "it-IT"
    await bot.command("lang ko", "lang")
    await bot.fake.wait_for(lambda: bool(bot.fake.answered("lang")))
    assert store.lang(PLATFORM, ALICE) == "ko"
    await bot.event(dm("tuesday"))
    await bot.fake.wait_for(lambda: bool(bot.fake.called("chat.postMessage")))
    [call] = bot.fake.called("chat.postMessage")
    assert call.args == expected(briefing, renderer, "tuesday", "ko", channel=DM)[0]


async def test_the_locale_is_looked_up_once_per_user(bot: Bot) -> None:
    for n in range(3):
        await bot.command("today", f"r{n}")
    await bot.command("today", "bob", user=BOB)
    await bot.fake.wait_for(lambda: len(bot.fake.responses) == 4)
    assert sorted(c.args["user"] for c in bot.fake.called("users.info")) == [ALICE, BOB]


# --- App Home and retries -----------------------------------------------------------------------


async def test_app_home_shows_the_briefing_with_day_buttons(
    bot: Bot, briefing: Briefing, renderer: Renderer
) -> None:
    await bot.event(home_opened())
    await bot.fake.wait_for(lambda: bool(bot.fake.called("views.publish")))
    [call] = bot.fake.called("views.publish")
    payloads = expected(briefing, renderer, "/briefing")
    assert call.args["user_id"] == ALICE
    assert call.args["view"] == {
        "type": "home",
        "blocks": [b for p in payloads for b in p["blocks"]],
    }
    assert call.args["view"]["blocks"][-1]["block_id"] == "nav"
    assert block_problems(call.args["view"]["blocks"], HOME_MAX_BLOCKS) == []


async def test_day_button_on_the_home_tab_republishes_it(
    bot: Bot, briefing: Briefing, renderer: Renderer
) -> None:
    container = {"type": "view", "view_id": "V0HOME"}
    press = block_action(WEDNESDAY, container=container, view={"id": "V0HOME", "type": "home"})
    await bot.action(press)
    await bot.fake.wait_for(lambda: bool(bot.fake.called("views.publish")))
    [call] = bot.fake.called("views.publish")
    [payload] = expected(briefing, renderer, "/" + WEDNESDAY)
    assert call.args["view"]["blocks"] == payload["blocks"]


async def test_messages_tab_opening_publishes_nothing(bot: Bot) -> None:
    await bot.event({**home_opened(), "tab": "messages"})
    await bot.event(home_opened(BOB))
    await bot.fake.wait_for(lambda: bool(bot.fake.called("views.publish")))
    await bot.adapter.stop()
    assert [c.args["user_id"] for c in bot.fake.called("views.publish")] == [BOB]


async def test_a_retried_event_is_acknowledged_and_not_answered_again(bot: Bot) -> None:
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
    assert bot.fake.called("chat.postMessage") == []


async def test_a_dm_that_also_mentions_the_bot_is_answered_once(bot: Bot) -> None:
    message = dm(f"<@{BOT_USER}> tuesday")
    await bot.event(message)
    await bot.event({**message, "type": "app_mention"})
    await bot.fake.wait_for(lambda: bool(bot.fake.called("chat.postMessage")))
    await bot.adapter.stop()
    assert len(bot.fake.called("chat.postMessage")) == 1


# --- the workspace allowlist --------------------------------------------------------------------


async def test_workspaces_outside_the_allowlist_get_a_polite_refusal_and_no_content(
    bots: Bots, briefing: Briefing, renderer: Renderer
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
    reply = notice_reply(label("workspace_not_allowed", "en"), "en")
    [refusal] = [slack_post_message(m, DM) for m in renderer.render(reply, "slack")]
    [body] = fake.answered("outsider")
    # Private, though the outsider asked to share, and without a Share button.
    assert body == {
        **without_channel(refusal),
        "response_type": "ephemeral",
        "replace_original": False,
    }
    assert fake.called("chat.postMessage")[0].args == refusal
    assert fake.called("views.publish")[0].args["view"]["blocks"] == refusal["blocks"]
    assert selected_day(fake.answered("insider")[0]["blocks"]) == TUESDAY
    # Outsiders are not even looked up.
    assert [c.args["user"] for c in fake.called("users.info")] == [ALICE]


# --- text that must not become Slack markup -------------------------------------------------------


async def test_mentions_and_links_from_users_and_sources_are_escaped(
    bots: Bots, briefing: Briefing
) -> None:
    kang = next(
        p for p in briefing.visit.people if any("kang" in n.text.casefold() for n in p.names)
    )
    forged_role = Text(en=" ".join(INJECTIONS), it=" ".join(INJECTIONS), ko=" ".join(INJECTIONS))
    people = tuple(
        p.model_copy(update={"role": forged_role}) if p is kang else p
        for p in briefing.visit.people
    )
    tampered = Briefing(
        briefing.visit.model_copy(update={"people": people}),
        briefing.articles,
        briefing.partnership,
    )
    bot = await bots.start(briefing=tampered)

    await bot.command("who " + " ".join(INJECTIONS), "user-text")  # as typed: raw
    await bot.command("who &lt;!channel&gt; &lt;@U123&gt;", "slack-escaped")  # as Slack sends
    await bot.command("who kang", "dossier")
    await bot.event(mention(f"<@{BOT_USER}> who <!channel> <@U123>"))
    await bot.fake.wait_for(
        lambda: len(bot.fake.responses) == 3 and bool(bot.fake.called("chat.postMessage"))
    )
    sent = [body for _, body in bot.fake.responses]
    sent.append(bot.fake.called("chat.postMessage")[0].args)
    for body in sent:
        markup = [body["text"], *(b["text"]["text"] for b in body["blocks"] if "text" in b)]
        for text in markup:
            for injection in INJECTIONS:
                assert injection not in text
            assert "<" not in text
            assert ">" not in text
    assert "&lt;!channel&gt;" in bot.fake.answered("user-text")[0]["text"]
    assert "&lt;!channel&gt;" in bot.fake.answered("slack-escaped")[0]["text"]
    dossier = bot.fake.answered("dossier")[0]["text"]
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


async def test_socket_mode_acknowledges_the_envelope_and_answers(
    bots: Bots, briefing: Briefing, renderer: Renderer
) -> None:
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
        await fake.wait_for(lambda: bool(fake.answered("socket")) and len(fake.acks) == 2)
    finally:
        await adapter.stop()
    assert opened.token == APP_TOKEN
    assert sorted(a["envelope_id"] for a in fake.acks) == ["env-1", "env-2"]
    [body] = fake.answered("socket")
    [payload] = expected(briefing, renderer, "/briefing itinerary tuesday")
    assert without_share_button(body["blocks"]) == payload["blocks"]
    assert fake.called("chat.postMessage") == []  # the retried event got no answer
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


def test_block_validation_catches_what_slack_would_refuse() -> None:
    too_long = {"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}
    assert block_problems([too_long]) != []
    assert block_problems([{"type": "section", "text": {"type": "mrkdwn", "text": "x"}}] * 51)
    assert block_problems([{"type": "no-such-block"}]) != []


def test_payloads_to_response_urls_differ_from_the_console_only_by_slack_fields(
    briefing: Briefing, renderer: Renderer
) -> None:
    """The console contract: strip route fields and the Share block, and it is the payload."""
    from bot.slack.messages import response_body, with_share_button

    reply = handle(briefing, Context("en", DURING), "/briefing")
    [message] = renderer.render(reply, "slack")
    body = with_share_button(response_body(message, "ephemeral"), "/briefing", "en")
    stripped = {k: v for k, v in body.items() if k not in {"response_type", "replace_original"}}
    stripped["blocks"] = without_share_button(stripped["blocks"])
    assert stripped == without_channel(slack_post_message(message, GENERAL))


async def test_waiting_on_the_fake_times_out(fake: FakeSlack) -> None:
    with pytest.raises(asyncio.TimeoutError):
        await fake.wait_for(lambda: False, timeout=0.05)


# --- subscriptions and digests in Slack ------------------------------------------------------

JSON = {"Content-Type": "application/json"}


async def test_subscribe_in_a_channel_subscribes_that_channel(
    bots: Bots, store: ChatStore, tmp_path: Path
) -> None:
    from datetime import time as clock_time

    from storage.book import LedgerBook
    from storage.ledger import Ledger

    engine = make_engine(f"sqlite:///{tmp_path / 'briefings.db'}")  # the store's database
    ledger = Ledger(engine, "test")
    bot = await bots.start(book=LedgerBook(ledger, bots.briefing.visit, lambda: DURING))
    await bot.command("subscribe 07:30 Europe/Rome", "sub", channel="C0PARTNERS")
    await bot.fake.wait_for(lambda: bool(bot.fake.answered("sub")))
    [body] = bot.fake.answered("sub")
    assert "Subscribed: digests at 07:30 (Europe/Rome)" in body["text"]
    [sub] = ledger.subscriptions("slack", "C0PARTNERS")
    assert (sub.local_time, sub.timezone, sub.lang) == (clock_time(7, 30), "Europe/Rome", "en")
    await bot.command("help", "help")
    await bot.fake.wait_for(lambda: bool(bot.fake.answered("help")))
    help_text = bot.fake.answered("help")[0]["text"]
    assert "/briefing itinerary [day]" in help_text
    assert "\n/itinerary" not in help_text
    engine.dispose()


async def test_digest_sender_posts_the_console_payload_and_reports_gone_channels(
    fake: FakeSlack, briefing: Briefing, renderer: Renderer
) -> None:
    from slack_sdk.web.async_client import AsyncWebClient

    from bot.slack.digests import SlackDigestSender
    from briefings.delivery import Outcome
    from briefings.digests import digest_reply, digests

    client = AsyncWebClient(token=BOT_TOKEN, base_url=fake.api_url)
    sender = SlackDigestSender(client, renderer)
    morning = digests(briefing.visit)[2]
    reply = digest_reply(morning, briefing.visit, briefing.partnership, briefing.articles, "it")
    assert await sender.deliver("C0PARTNERS", reply) is Outcome.SENT
    posted = [c.args for c in fake.called("chat.postMessage")]
    assert posted == [slack_post_message(m, "C0PARTNERS") for m in renderer.render(reply, "slack")]
    assert "Buongiorno" in posted[0]["text"]
    fake.fail(
        "chat.postMessage", Fault(200, JSON, json.dumps({"ok": False, "error": "is_archived"}))
    )
    assert await sender.deliver("C0OLD", reply) is Outcome.BLOCKED
    fake.fail(
        "chat.postMessage", Fault(200, JSON, json.dumps({"ok": False, "error": "fatal_error"}))
    )
    assert await sender.deliver("C0PARTNERS", reply) is Outcome.FAILED
