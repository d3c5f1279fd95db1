"""Issue 10, defect 9: in groups and channels only those entitled change the shared settings.

Telegram: a group's language, visit and digests are for its administrators (asked of Telegram
with `getChatMember`), an anonymous admin (who writes as the group) and its subscriber; a
channel's for whoever can post in it (only admins can). Slack: a channel's are for workspace
admins and owners (`users.info`) and its subscriber. Everyone else gets a polite refusal in their
own language; when the platform cannot be asked, the settings stay and the person is asked to
try again. Private chats are their users' own. The real python-telegram-bot Application and the
real Bolt app run against the fakes on 127.0.0.1, with SQLite chat state.
"""

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import Engine

from bot.http import HttpServer
from bot.slack.adapter import SlackAdapter
from bot.telegram.adapter import TelegramAdapter
from bot.telegram.payloads import send_message
from bot.telegram.sending import PLATFORM as TELEGRAM
from briefings.conversation import Conversation
from briefings.languages import Lang
from briefings.library import Library
from briefings.ports import ChatRef
from briefings.rendering.renderer import Renderer
from briefings.replies import Say
from briefings.views import notice_reply
from fakes.slack_api import (
    BOT_TOKEN,
    SIGNING_SECRET,
    FakeSlack,
    Json,
    WebApiSpec,
    api_error,
)
from fakes.telegram_api import (
    FakeTelegram,
    group_message,
    message,
    private_message,
    server_error,
    user,
    wait_until,
)
from storage.chats import SqlChatStates
from storage.engine import make_engine
from storage.migrate import upgrade
from storage.seen import SqlSeenRequests
from tests.adapters.test_slack import DM, PARTNERS, WEB_SPEC, Bot, bodies
from tests.dialogue import NOW

GROUP = -4001
CHANNEL = -1009001
MEMBER, ADMIN, OWNER, ITALIAN, KOREAN = 5002, 5003, 5004, 5005, 5006
# Telegram's stand-in sender for an anonymous group admin (@GroupAnonymousBot).
ANONYMOUS = 1087968824
ALICE, BOB, CAROL = "U0ALICE", "U0BOB", "U0CAROL"


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """slack_sdk sends even 127.0.0.1 through a proxy named in the environment."""
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    made = make_engine(f"sqlite:///{tmp_path / 'briefings.db'}")
    upgrade(made)
    yield made
    made.dispose()


@pytest.fixture
def states(engine: Engine) -> SqlChatStates:
    return SqlChatStates(engine)


@pytest.fixture
def conversation(library: Library, states: SqlChatStates) -> Conversation:
    return Conversation(library, states, lambda: NOW)


def notice(key: str, lang: Lang, renderer: Renderer, chat_id: int) -> list[Json]:
    return [
        send_message(m, chat_id) for m in renderer.render(notice_reply(Say(key), lang), "telegram")
    ]


# --- Telegram -----------------------------------------------------------------------------------


@dataclass
class Telegram:
    fake: FakeTelegram

    async def say(self, update: Json, chat_id: int = GROUP) -> list[Json]:
        """Queue one update and return the messages the bot sent in answer to it."""
        before = len(self.fake.sent(chat_id))
        self.fake.queue_update(update)
        await wait_until(lambda: len(self.fake.sent(chat_id)) > before)
        return self.fake.sent(chat_id)[before:]


@pytest.fixture
async def telegram(
    conversation: Conversation, renderer: Renderer, engine: Engine
) -> AsyncIterator[Telegram]:
    fake = FakeTelegram()
    await fake.start()
    adapter = TelegramAdapter(
        token=fake.token,
        api_url=fake.base_url,
        conversation=conversation,
        renderer=renderer,
        poll_timeout=1.0,
    )
    await adapter.start()
    try:
        yield Telegram(fake)
    finally:
        await adapter.stop()
        await fake.close()


def said(messages: list[Json]) -> str:
    return "\n".join(m["text"] for m in messages)


async def test_a_telegram_group_member_changes_nothing_and_is_refused_in_their_language(
    telegram: Telegram, states: SqlChatStates, renderer: Renderer
) -> None:
    """Before the conversation service any member subscribed, unsubscribed and switched the
    language of a group, and Telegram was never asked."""
    fake = telegram.fake
    fake.members[GROUP, ADMIN] = "administrator"
    group = ChatRef(TELEGRAM, str(GROUP))
    for text in ("/subscribe", "/lang ko", "/visit 2"):
        got = await telegram.say(group_message(text, chat_id=GROUP, user_id=MEMBER))
        assert got == notice("admins_only", "en", renderer, GROUP), text
    it = await telegram.say(group_message("/lang en", user_id=ITALIAN, language_code="it"))
    assert it == notice("admins_only", "it", renderer, GROUP)
    ko = await telegram.say(group_message("/subscribe", user_id=KOREAN, language_code="ko"))
    assert ko == notice("admins_only", "ko", renderer, GROUP)
    assert states.state(group).subscription is None
    assert states.state(group).lang is None
    assert states.state(group).visit is None

    assert "Subscribed" in said(await telegram.say(group_message("/subscribe", user_id=ADMIN)))
    refused = await telegram.say(group_message("/unsubscribe", user_id=MEMBER))
    assert refused == notice("admins_only", "en", renderer, GROUP)
    assert states.state(group).subscription is not None
    asked = {(c.params["chat_id"], c.params["user_id"]) for c in fake.requests("getChatMember")}
    assert asked == {(GROUP, MEMBER), (GROUP, ITALIAN), (GROUP, KOREAN), (GROUP, ADMIN)}


async def test_a_telegram_private_chat_changes_its_own_settings(
    telegram: Telegram, states: SqlChatStates
) -> None:
    mine = ChatRef(TELEGRAM, str(MEMBER))
    got = await telegram.say(private_message("/lang it", chat_id=MEMBER), chat_id=MEMBER)
    assert "italiano" in said(got)
    await telegram.say(private_message("/subscribe", chat_id=MEMBER), chat_id=MEMBER)
    assert states.state(mine).lang == "it"
    assert states.state(mine).subscription is not None
    assert telegram.fake.requests("getChatMember") == []


async def test_when_telegram_cannot_say_who_is_admin_nothing_changes_and_the_user_may_retry(
    telegram: Telegram, states: SqlChatStates, renderer: Renderer
) -> None:
    fake = telegram.fake
    fake.members[GROUP, ADMIN] = "administrator"
    fake.fail("getChatMember", server_error())
    got = await telegram.say(group_message("/lang it", user_id=ADMIN, language_code="it"))
    assert got == notice("admin_check_failed", "it", renderer, GROUP)
    assert states.state(ChatRef(TELEGRAM, str(GROUP))).lang is None
    # Asked again, Telegram answers: the admin's change goes through.
    assert "italiano" in said(await telegram.say(group_message("/lang it", user_id=ADMIN)))
    assert states.state(ChatRef(TELEGRAM, str(GROUP))).lang == "it"


async def test_an_anonymous_telegram_admin_writes_as_the_group_and_may_change_it(
    telegram: Telegram, states: SqlChatStates
) -> None:
    anonymous = message("/subscribe", GROUP, {**user(ANONYMOUS), "is_bot": True})
    anonymous["sender_chat"] = anonymous["chat"]
    assert "Subscribed" in said(await telegram.say({"message": anonymous}))
    assert states.state(ChatRef(TELEGRAM, str(GROUP))).subscription is not None
    assert telegram.fake.requests("getChatMember") == []


async def test_a_telegram_channel_post_comes_from_an_admin(
    telegram: Telegram, states: SqlChatStates
) -> None:
    """Only a channel's admins can post in it; a post names no user to ask about."""
    channel = {"id": CHANNEL, "type": "channel", "title": "Turin–Gwangju briefings"}
    post: Json = {
        "message_id": 1,
        "sender_chat": channel,
        "chat": channel,
        "date": 1724716800,
        "text": "/subscribe",
        "entities": [{"type": "bot_command", "offset": 0, "length": 10}],
    }
    got = await telegram.say({"channel_post": post}, chat_id=CHANNEL)
    assert "Subscribed" in said(got)
    assert states.state(ChatRef(TELEGRAM, str(CHANNEL))).subscription is not None


# --- Slack --------------------------------------------------------------------------------------


@pytest.fixture
async def slack_bot(
    conversation: Conversation, renderer: Renderer, engine: Engine
) -> AsyncIterator[Bot]:
    fake = FakeSlack(WebApiSpec.load(WEB_SPEC))
    await fake.start()
    server = HttpServer("127.0.0.1", 0)
    adapter = SlackAdapter(
        bot_token=BOT_TOKEN,
        signing_secret=SIGNING_SECRET,
        api_url=fake.api_url,
        conversation=conversation,
        renderer=renderer,
        http=server,
        seen=SqlSeenRequests(engine),
    )
    session = aiohttp.ClientSession()
    await adapter.start()
    await server.start()
    try:
        yield Bot(fake, adapter, server, session, None)
    finally:
        await server.stop()
        await adapter.stop()
        await session.close()
        await fake.close()
    assert fake.violations == [], "calls that break Slack's Web API spec"


def refusal(key: str, lang: Lang, words: str) -> list[Json]:
    from bot.slack.payloads import SHARE_ACTION

    return bodies(notice_reply(Say(key), lang), "ephemeral", share=(SHARE_ACTION, words))


async def test_in_slack_only_the_subscriber_or_an_admin_unsubscribes_a_channel(
    slack_bot: Bot, states: SqlChatStates
) -> None:
    """Before the conversation service anyone unsubscribed a channel another person subscribed."""
    fake = slack_bot.fake
    channel = ChatRef("slack", PARTNERS)
    fake.admins.add(ALICE)
    await slack_bot.ask("subscribe", "sub", channel=PARTNERS)
    fake.admins.clear()
    fake.locales[BOB] = "ko-KR"
    refused = await slack_bot.ask("unsubscribe", "bob", channel=PARTNERS, user=BOB)
    assert refused == refusal("admins_only", "ko", "unsubscribe")
    assert states.state(channel).subscription is not None
    done = await slack_bot.ask("unsubscribe", "alice", channel=PARTNERS)
    assert "Unsubscribed" in done[0]["text"]
    assert states.state(channel).subscription is None


async def test_in_slack_a_non_admin_cannot_change_a_channels_language_or_subscribe_it(
    slack_bot: Bot, states: SqlChatStates
) -> None:
    fake = slack_bot.fake
    fake.locales[CAROL] = "it-IT"
    channel = ChatRef("slack", PARTNERS)
    for n, words in enumerate(("lang ko", "subscribe 08:00 Europe/Rome", "visit 2")):
        got = await slack_bot.ask(words, f"carol-{n}", channel=PARTNERS, user=CAROL)
        assert got == refusal("admins_only", "it", words), words
    assert states.state(channel) == states.state(ChatRef("slack", "C0NEVERUSED"))
    fake.owners.add(CAROL)
    got = await slack_bot.ask("lang ko", "owner", channel=PARTNERS, user=CAROL)
    assert states.state(channel).lang == "ko", got


async def test_in_slack_a_dm_is_its_users_own(slack_bot: Bot, states: SqlChatStates) -> None:
    got = await slack_bot.ask("lang it", "dm", channel=DM, user=BOB)
    assert "italiano" in got[0]["text"]
    assert states.state(ChatRef("slack", DM)).lang == "it"
    assert [c.args["user"] for c in slack_bot.fake.called("users.info")] == [BOB]


async def test_when_slack_cannot_say_who_is_admin_nothing_changes_and_the_user_may_retry(
    slack_bot: Bot, states: SqlChatStates
) -> None:
    fake = slack_bot.fake
    fake.admins.add(ALICE)
    fake.locales[ALICE] = "it-IT"
    await slack_bot.ask("briefing", "read")  # the locale is known from here on
    fake.fail("users.info", api_error("internal_error"))
    got = await slack_bot.ask("lang ko", "failed", channel=PARTNERS)
    assert got == refusal("admin_check_failed", "it", "lang ko")
    assert states.state(ChatRef("slack", PARTNERS)).lang is None
    await slack_bot.ask("lang ko", "retried", channel=PARTNERS)
    assert states.state(ChatRef("slack", PARTNERS)).lang == "ko"
