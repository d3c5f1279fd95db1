"""Slack requests in, core replies out: the slash command, mentions, DMs, buttons, App Home.

Every listener acknowledges first and answers afterwards, in a task this adapter owns: Slack
wants its acknowledgement within 3 seconds, and `stop()` must be able to wait for answers in
flight. Bolt therefore runs with `process_before_response=True` (its own background runner
could not be waited for), and is only ever dispatched to, never `start()`ed: one asyncio loop.
"""

import asyncio
import logging
import re
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Collection, Coroutine
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.http import HttpServer
from bot.slack.home import home_view
from bot.slack.locales import Locales
from bot.slack.messages import (
    SHARE_ACTION,
    ResponseType,
    post_message,
    response_body,
    with_share_button,
)
from bot.slack.text import as_command, split_share, strip_mention, unescape
from briefings.commands import UMBRELLA, Briefing, Context, handle
from briefings.labels import label
from briefings.languages import Lang, lang_or_default
from briefings.rendering.renderer import Message, Renderer
from briefings.replies import Reply
from briefings.subscriptions import ChatRef, SubscriptionBook
from briefings.views import notice_reply
from storage.chats import ChatStore

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
PLATFORM = "slack"
SLASH_COMMAND = f"/{UMBRELLA}"
EVENTS_PATH = "/slack/events"
NAV_ACTION = re.compile(r"^nav_\d+$")
# How long stop() lets answers in flight finish before cancelling them.
DRAIN_SECONDS = 5.0
# Messages already answered, by channel and ts: a DM that mentions the bot arrives twice.
SEEN_SIZE = 1024


def default_retry_handlers() -> list[AsyncRetryHandler]:
    """Retry what Slack asks us to: a 429 after its Retry-After, a 5xx and a dropped connection
    after a short backoff. Each answer is one call, so a retry cannot double a message that
    Slack refused."""
    return [
        AsyncConnectionErrorRetryHandler(max_retry_count=2),
        AsyncRateLimitErrorRetryHandler(max_retry_count=3),
        AsyncServerErrorRetryHandler(max_retry_count=2),
    ]


# --- where an answer goes --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ResponseUrl:
    """The slash command's or button's `response_url`: ephemeral replies, in-place updates."""

    url: str
    response_type: ResponseType
    replace_original: bool = False


@dataclass(frozen=True, slots=True)
class Channel:
    channel: str
    thread_ts: str | None = None


@dataclass(frozen=True, slots=True)
class Update:
    """A message of ours to edit in place with `chat.update`."""

    channel: str
    ts: str


@dataclass(frozen=True, slots=True)
class Home:
    user: str


Destination = ResponseUrl | Channel | Update | Home


class SlackAdapter:
    def __init__(
        self,
        *,
        bot_token: str,
        api_url: str,
        briefing: Briefing,
        renderer: Renderer,
        store: ChatStore,
        clock: Clock,
        default_lang: Lang = "en",
        signing_secret: str | None = None,
        app_token: str | None = None,
        http: HttpServer | None = None,
        teams: Collection[str] = (),
        retry_handlers: list[AsyncRetryHandler] | None = None,
        path: str = EVENTS_PATH,
        book: SubscriptionBook | None = None,
    ) -> None:
        if not app_token and not (http and signing_secret):
            raise ValueError("Slack's HTTP mode needs the HTTP server and the signing secret")
        self._briefing = briefing
        self._renderer = renderer
        self._store = store
        self._clock = clock
        self._default_lang = default_lang
        self._app_token = app_token
        self._teams = frozenset(teams)
        self._book = book
        self._retry_handlers = (
            default_retry_handlers() if retry_handlers is None else retry_handlers
        )
        # base_url must end in "/": slack_sdk joins it with the method name like a relative URL.
        self.client = AsyncWebClient(
            token=bot_token,
            base_url=api_url.rstrip("/") + "/",
            retry_handlers=list(self._retry_handlers),
        )
        # The signing secret is passed even when empty, or Bolt would read the environment.
        self.app = AsyncApp(
            name="briefings",
            client=self.client,
            signing_secret=signing_secret or "",
            process_before_response=True,
        )
        self._locales = Locales(self.client)
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._tasks: set[asyncio.Task[None]] = set()
        self._session: aiohttp.ClientSession | None = None
        self._socket: AsyncSocketModeHandler | None = None

        app = self.app
        app.use(self._skip_retries)
        app.command(SLASH_COMMAND)(self._on_command)
        app.event("app_mention")(self._on_mention)
        app.event("message")(self._on_message)
        app.event("app_home_opened")(self._on_home)
        app.action(NAV_ACTION)(self._on_nav)
        app.action(SHARE_ACTION)(self._on_share)
        if http is not None and not app_token:
            http.add_post(path, self._on_http)

    @property
    def mode(self) -> Literal["socket", "http"]:
        return "socket" if self._app_token else "http"

    async def start(self) -> None:
        """Check the token (a wrong one fails here, not at the first user), then connect."""
        self._session = aiohttp.ClientSession()
        # Bolt copies the session into its per-request clients: one connection pool for all.
        self.client.session = self._session
        try:
            auth = await self.client.auth_test()
            if self._app_token:
                # Built here, not in __init__: the Socket Mode client needs the running loop.
                self._socket = AsyncSocketModeHandler(
                    self.app, app_token=self._app_token, web_client=self.client
                )
                # The first WebSocket URL is asked for here: the client would retry a wrong
                # app token forever inside connect(), and start() would never return.
                opened = await self.client.apps_connections_open(app_token=self._app_token)
                self._socket.client.wss_uri = opened["url"]
                # connect, not start_async(), which never returns. Bolt leaves it unannotated.
                await self._socket.connect_async()  # type: ignore[no-untyped-call]
        except BaseException:
            # The composition root stops only what started: release what we opened.
            await self.stop()
            raise
        log.info("Slack started as %s in %s (%s)", auth.get("user"), auth.get("team"), self.mode)

    async def stop(self) -> None:
        if self._socket is not None:
            socket, self._socket = self._socket, None
            await socket.close_async()  # type: ignore[no-untyped-call]  # unannotated in Bolt
            client = socket.client
            # close() cancels its tasks without waiting; wait, so none outlives the loop.
            leftovers = [
                f
                for f in (
                    client.message_processor,
                    client.message_receiver,
                    client.current_session_monitor,
                )
                if f is not None
            ]
            await asyncio.gather(*leftovers, return_exceptions=True)
        await self._drain()
        if self._session is not None:
            await self._session.close()
            self._session = None
            self.client.session = None

    async def _drain(self) -> None:
        if not self._tasks:
            return
        _, pending = await asyncio.wait(set(self._tasks), timeout=DRAIN_SECONDS)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    # --- transport ------------------------------------------------------------------------------

    async def _on_http(self, request: web.Request) -> web.Response:
        response = await self.app.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(response)

    async def _skip_retries(
        self, req: AsyncBoltRequest, next: Callable[[], Awaitable[None]]
    ) -> BoltResponse | None:
        """Slack redelivers an event it thinks we missed. We acknowledge before answering, so a
        retry means the answer is out or on its way: a second one would be a duplicate. The
        same holds in Socket Mode, where Bolt turns `retry_attempt` into this header."""
        retry = req.headers.get("x-slack-retry-num", [""])[0]
        if retry and retry != "0":
            reason = req.headers.get("x-slack-retry-reason", ["?"])[0]
            log.info("Slack retry %s (%s) acknowledged and not answered again", retry, reason)
            return BoltResponse(status=200, body="")
        await next()
        return None

    def _spawn(self, answer: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(self._guarded(answer))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _guarded(answer: Coroutine[Any, Any, None]) -> None:
        try:
            await answer
        except Exception:
            log.exception("Slack answer failed")

    # --- translation: Slack request -> core call -> Slack call ---------------------------------

    async def _on_command(
        self, ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        await ack()
        text, share = split_share(unescape(str(body.get("text", ""))))
        url = body.get("response_url")
        if not url:
            return
        destination = ResponseUrl(url, "in_channel" if share else "ephemeral")
        self._spawn(self._answer(context, as_command(text), destination, share_button=not share))

    async def _on_mention(
        self, ack: AsyncAck, event: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        await ack()
        self._answer_in_channel(event, context)

    async def _on_message(
        self, ack: AsyncAck, event: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        """Direct messages only; edits, joins and bots' messages are not questions."""
        await ack()
        if event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id"):
            return
        self._answer_in_channel(event, context)

    def _answer_in_channel(self, event: dict[str, Any], context: AsyncBoltContext) -> None:
        """A mention or a DM: answered where it was asked, in its thread, once."""
        if self._first_time(event):
            text = unescape(strip_mention(str(event.get("text", "")), context.bot_user_id))
            destination = Channel(event["channel"], event.get("thread_ts"))
            self._spawn(self._answer(context, as_command(text), destination))

    async def _on_home(
        self, ack: AsyncAck, event: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        await ack()
        if event.get("tab") == "home" and event.get("user"):
            self._spawn(self._answer(context, SLASH_COMMAND, Home(event["user"])))

    async def _on_nav(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        context: AsyncBoltContext,
    ) -> None:
        """A day button: the message (or the Home tab) it sits on now shows that day."""
        await ack()
        container = body.get("container") or {}
        ephemeral = bool(container.get("is_ephemeral"))
        destination: Destination
        if container.get("type") == "view":
            destination = Home(context.user_id or body["user"]["id"])
        elif body.get("response_url"):
            kind: ResponseType = "ephemeral" if ephemeral else "in_channel"
            destination = ResponseUrl(body["response_url"], kind, replace_original=True)
        elif container.get("channel_id") and container.get("message_ts"):
            destination = Update(container["channel_id"], container["message_ts"])
        else:
            return
        command = "/" + str(action.get("value", ""))
        self._spawn(self._answer(context, command, destination, share_button=ephemeral))

    async def _on_share(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        context: AsyncBoltContext,
    ) -> None:
        await ack()
        url = body.get("response_url")
        if url:
            self._spawn(self._share(context, str(action.get("value", "")), url))

    async def _share(self, context: AsyncBoltContext, command: str, url: str) -> None:
        """Post the answer to the channel, then remove the private copy it came from."""
        await self._answer(context, command, ResponseUrl(url, "in_channel"))
        await self._webhook(url).send_dict({"delete_original": True})

    def _first_time(self, event: dict[str, Any]) -> bool:
        key = f"{event.get('channel')}:{event.get('ts')}"
        if key in self._seen:
            return False
        self._seen[key] = None
        if len(self._seen) > SEEN_SIZE:
            self._seen.popitem(last=False)
        return True

    def _allowed(self, context: AsyncBoltContext) -> bool:
        if not self._teams:
            return True
        # In a shared channel the actor's own workspace is the one that must be allowed.
        team = context.actor_team_id or context.team_id
        return team in self._teams

    async def _lang(self, user: str | None) -> Lang:
        if user is None:
            return self._default_lang
        chosen = self._store.lang(PLATFORM, user)
        if chosen is not None:
            return chosen
        return lang_or_default(await self._locales.locale(user), self._default_lang)

    async def _answer(
        self,
        context: AsyncBoltContext,
        text: str,
        destination: Destination,
        *,
        share_button: bool = False,
    ) -> None:
        user = context.user_id
        reply: Reply
        if self._allowed(context):
            lang = await self._lang(user)
            # Whatever reaches here was addressed to the bot (its command, a mention, a DM), so
            # a bare day is read as one, as in a private chat.
            channel = context.channel_id
            question = Context(
                lang,
                self._clock(),
                private=True,
                # Digests go to the channel the subscription was asked for in.
                chat=ChatRef(PLATFORM, channel) if channel else None,
                book=self._book,
                command_prefix=f"{SLASH_COMMAND} ",
            )
            reply = handle(self._briefing, question, text)
            if reply.set_lang is not None and user is not None:
                self._store.set_lang(PLATFORM, user, reply.set_lang)
        else:
            log.info("refused Slack team %s", context.actor_team_id or context.team_id)
            lang = self._default_lang
            reply = notice_reply(label("workspace_not_allowed", lang), lang)
            share_button = False
            if isinstance(destination, ResponseUrl) and not destination.replace_original:
                destination = ResponseUrl(destination.url, "ephemeral")
        messages = self._renderer.render(reply, "slack")
        await self._deliver(destination, messages, text if share_button else None, reply.lang)

    async def _deliver(
        self, destination: Destination, messages: list[Message], share: str | None, lang: Lang
    ) -> None:
        if isinstance(destination, Home):
            await self.client.views_publish(user_id=destination.user, view=home_view(messages))
            return
        for n, message in enumerate(messages):
            first, last = n == 0, n == len(messages) - 1
            if isinstance(destination, ResponseUrl):
                body = response_body(
                    message,
                    destination.response_type,
                    replace_original=destination.replace_original and first,
                )
                if share is not None and last:
                    body = with_share_button(body, share, lang)
                response = await self._webhook(destination.url).send_dict(body)
                if response.status_code != 200:
                    log.error("response_url refused the reply: %s", response.status_code)
            elif isinstance(destination, Update) and first:
                await self.client.chat_update(
                    **post_message(message, destination.channel), ts=destination.ts
                )
            else:
                channel = destination.channel
                thread = destination.thread_ts if isinstance(destination, Channel) else None
                await self.client.chat_postMessage(**post_message(message, channel, thread))

    def _webhook(self, url: str) -> AsyncWebhookClient:
        return AsyncWebhookClient(
            url, session=self._session, retry_handlers=list(self._retry_handlers)
        )
