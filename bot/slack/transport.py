"""How Slack reaches the adapter and the adapter reaches Slack: one Web API client and one
connection pool, the Bolt app (over HTTP or Socket Mode), retries, and the answers in flight.

Every listener acknowledges first and answers afterwards, in a task owned here: Slack wants its
acknowledgement within 3 seconds, and `stop()` must be able to wait for answers in flight. Bolt
therefore runs with `process_before_response=True` (its own background runner could not be waited
for), and is only ever dispatched to, never `start()`ed: one asyncio loop.

Slack delivers a request again when it thinks the first was missed, possibly to another process;
every request is taken on once, by its own identifier, recorded through the `SeenRequests` port
(the database) before any listener runs. That is transport, not conversation: the service answers
what a person did, and is never told how many times Slack said so.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Literal

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
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
from bot.lanes import ChatLanes
from briefings.ports import SeenRequests

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
# How long stop() lets answers in flight finish before cancelling them.
DRAIN_SECONDS = 5.0
# Answers accepted and not yet sent, all channels together.
IN_FLIGHT = 512


def default_retry_handlers() -> list[AsyncRetryHandler]:
    """Retry what Slack asks us to: a 429 after its Retry-After, a 5xx and a dropped connection
    after a short backoff. Each answer is one call, so a retry cannot double a message that
    Slack refused."""
    return [
        AsyncConnectionErrorRetryHandler(max_retry_count=2),
        AsyncRateLimitErrorRetryHandler(max_retry_count=3),
        AsyncServerErrorRetryHandler(max_retry_count=2),
    ]


class SlackTransport:
    def __init__(
        self,
        *,
        bot_token: str,
        api_url: str,
        signing_secret: str | None,
        app_token: str | None,
        http: HttpServer | None,
        seen: SeenRequests,
        retry_handlers: list[AsyncRetryHandler] | None = None,
        path: str = EVENTS_PATH,
    ) -> None:
        if not app_token and not (http and signing_secret):
            raise ValueError("Slack's HTTP mode needs the HTTP server and the signing secret")
        self._app_token = app_token
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
        self._seen = seen
        self.app.use(self._once)
        self._lanes = ChatLanes(IN_FLIGHT, name="Slack answer")
        self._session: aiohttp.ClientSession | None = None
        self._socket: AsyncSocketModeHandler | None = None
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

    async def spawn(
        self, channel: str, answer: Coroutine[Any, Any, None], key: str | None = None
    ) -> None:
        """Answer after the acknowledgement, in `channel`'s lane (`ChatLanes`): channels are
        answered concurrently, one channel in the order asked; stop() waits for them. Waits
        only when IN_FLIGHT answers are open already: the acknowledgement then waits too, and
        Slack slows down. `key` names the request: a copy of one already taken on is dropped
        there, after the acknowledgement, so the database is never on the path Slack times."""
        await self._lanes.put(channel, self._once_more(key, answer))

    async def _once_more(self, key: str | None, answer: Coroutine[Any, Any, None]) -> None:
        if key is not None and not self.first_time(key):
            answer.close()
            log.info("Slack request %s already taken on: not answered again", key)
            return
        await answer

    def webhook(self, url: str) -> AsyncWebhookClient:
        """A `response_url` client over the shared connection pool (cheap: no session of its
        own, nothing to close)."""
        return AsyncWebhookClient(
            url, session=self._session, retry_handlers=list(self._retry_handlers)
        )

    async def _drain(self) -> None:
        await self._lanes.close(DRAIN_SECONDS)

    async def _on_http(self, request: web.Request) -> web.Response:
        response = await self.app.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(response)

    async def _once(
        self, req: AsyncBoltRequest, next: Callable[[], Awaitable[None]]
    ) -> BoltResponse | None:
        """Take each request on once, whichever process it reaches and however often Slack
        sends it: a retry whose first delivery never arrived is answered, a copy of one taken
        on is acknowledged and dropped (in `spawn`). Slack's retry headers cannot tell the two
        apart; the request's own identifier, remembered in the database, can."""
        # Only named here; asked of the database in the answer's lane, once acknowledged.
        req.context["request_key"] = request_key(req.body)
        await next()
        return None

    def first_time(self, key: str) -> bool:
        """Whether `key` is new; True when the store cannot say."""
        try:
            return self._seen.first_time(key)
        except Exception:
            # Without the database a duplicate answer is possible, silence certain: answer.
            log.warning("could not check whether Slack request %s was seen; answering", key)
            return True


def request_key(body: dict[str, Any]) -> str | None:
    """What identifies one request across its deliveries: an event's `event_id`, a slash
    command's or an interaction's `trigger_id` (unique per invocation), else a button press by
    who pressed it and when. None for what carries none and is never answered twice anyway
    (url_verification, ssl_check)."""
    if body.get("type") == "event_callback" and body.get("event_id"):
        return f"slack:event:{body['event_id']}"
    if body.get("trigger_id"):
        kind = "command" if body.get("command") else "action"
        return f"slack:{kind}:{body['trigger_id']}"
    actions = body.get("actions")
    user = body.get("user")
    if isinstance(actions, list) and actions and isinstance(user, dict):
        first = actions[0] if isinstance(actions[0], dict) else {}
        return f"slack:action:{user.get('id')}:{first.get('action_ts')}"
    return None
